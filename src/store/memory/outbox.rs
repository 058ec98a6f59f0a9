//! The memory store's delivery events: kept once, in order, with their outbox state; leased
//! for forwarding (the first waiting event of each message only), settled, and paged.

use std::collections::HashSet;
use std::time::Duration;

use time::OffsetDateTime;

use super::audit::append;
use super::{MAX_EVENTS, MemoryStore, State, done};
use crate::domain::DeliveryEvent;
use crate::error::Error;
use crate::names::Provider;
use crate::store::{
    Applied, EventPage, EventView, FIRST_ATTEMPT_LEASE, Forwarding, NewEvent, Outbox, OutboxHealth,
    Outgoing, PracticeEvent, Settled,
};
use crate::support::{BoxFuture, timestamp};

#[derive(Debug)]
pub(super) struct EventRow {
    pub(super) id: String,
    /// The message it belongs to (our id), `None` for an orphan.
    pub(super) message_id: Option<String>,
    /// The provider of its message; `None` for a practice event (its own stream).
    pub(super) provider: Option<Provider>,
    pub(super) provider_message_id: String,
    pub(super) payload: String,
    pub(super) received_at: OffsetDateTime,
    pub(super) forward: Option<Forwarding>,
    pub(super) attempts: u16,
    pub(super) next_at: OffsetDateTime,
    pub(super) lease_until: Option<OffsetDateTime>,
}

impl EventRow {
    fn is_waiting(&self) -> bool {
        self.forward == Some(Forwarding::Pending)
    }

    fn same_message(&self, provider: Provider, provider_message_id: &str) -> bool {
        self.provider == Some(provider) && self.provider_message_id == provider_message_id
    }
}

impl Outbox for MemoryStore {
    fn apply_event<'a>(
        &'a self,
        new: NewEvent<'a>,
    ) -> BoxFuture<'a, Result<(Applied, Option<String>), Error>> {
        done(self.apply_now(new))
    }

    fn due_events(
        &self,
        limit: u16,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Vec<Outgoing>, Error>> {
        done(self.due_now(limit, lease))
    }

    fn settle<'a>(&'a self, settled: &'a [Settled]) -> BoxFuture<'a, Result<(), Error>> {
        self.settle_now(settled);
        done(())
    }

    fn keep_event<'a>(
        &'a self,
        event: &'a PracticeEvent<'a>,
    ) -> BoxFuture<'a, Result<Applied, Error>> {
        done(self.keep_now(event))
    }

    fn events<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: u16,
    ) -> BoxFuture<'a, Result<Option<EventPage>, Error>> {
        done(self.events_now(after, limit))
    }
}

impl MemoryStore {
    fn apply_now(&self, new: NewEvent<'_>) -> (Applied, Option<String>) {
        let event = new.event;
        let now = self.now();
        let mut state = self.state();
        if state.events.iter().any(|row| row.id == event.id) {
            return (Applied::Copy, None);
        }
        append(&mut state, now, new.audit);
        let waiting = state.events.iter().any(|row| {
            row.is_waiting() && row.same_message(event.provider, &event.provider_message_id)
        });
        let claimed = new.forward && !waiting;
        let message_id = advance_message(&mut state, event, now);
        let batch = (state.messages.iter())
            .find(|m| message_id.as_deref() == Some(m.view.id.as_str()))
            .and_then(|m| m.view.batch_id.clone());
        let payload = match &batch {
            Some(batch) => with_batch(new.payload, batch),
            None => new.payload.to_owned(),
        };
        state.events.push_back(EventRow {
            id: event.id.clone(),
            message_id,
            provider: Some(event.provider),
            provider_message_id: event.provider_message_id.clone(),
            payload,
            received_at: now,
            forward: new.forward.then_some(Forwarding::Pending),
            attempts: 0,
            next_at: now,
            lease_until: claimed.then(|| now + FIRST_ATTEMPT_LEASE),
        });
        if state.events.len() > MAX_EVENTS {
            state.events.pop_front();
        }
        let applied = if claimed {
            Applied::Claimed
        } else {
            Applied::Kept
        };
        (applied, batch)
    }

    fn keep_now(&self, event: &PracticeEvent<'_>) -> Applied {
        let now = self.now();
        let mut state = self.state();
        if state.events.iter().any(|row| row.id == event.id) {
            return Applied::Copy;
        }
        state.events.push_back(EventRow {
            id: event.id.to_owned(),
            message_id: None,
            provider: None,
            provider_message_id: event.id.to_owned(),
            payload: event.payload.to_owned(),
            received_at: now,
            forward: event.forward.then_some(Forwarding::Pending),
            attempts: 0,
            next_at: now,
            lease_until: None,
        });
        if state.events.len() > MAX_EVENTS {
            state.events.pop_front();
        }
        Applied::Kept
    }

    fn due_now(&self, limit: u16, lease: Duration) -> Vec<Outgoing> {
        let now = self.now();
        let mut state = self.state();
        let mut heads: HashSet<(Option<Provider>, String)> = HashSet::new();
        let mut due = Vec::new();
        for row in state.events.iter_mut().filter(|row| row.is_waiting()) {
            // Only the first waiting event of a message may go: the rest wait behind it.
            let head = heads.insert((row.provider, row.provider_message_id.clone()));
            if head
                && due.len() < usize::from(limit)
                && row.next_at <= now
                && row.lease_until.is_none_or(|until| until <= now)
            {
                row.lease_until = Some(now + lease);
                due.push(Outgoing {
                    id: row.id.clone(),
                    payload: row.payload.clone(),
                    attempts: row.attempts,
                });
            }
        }
        due
    }

    fn settle_now(&self, settled: &[Settled]) {
        let mut state = self.state();
        for outcome in settled {
            let row = state.events.iter_mut().find(|row| {
                row.id == outcome.id && row.is_waiting() && row.attempts == outcome.attempts
            });
            if let Some(row) = row {
                row.forward = Some(outcome.forward);
                row.attempts += 1;
                row.lease_until = None;
                if let Some(next_at) = outcome.next_at {
                    row.next_at = next_at;
                }
            }
        }
    }

    /// Up to `limit` events after `after` (from the first without it); `None` when there is
    /// no event `after`.
    fn events_now(&self, after: Option<&str>, limit: u16) -> Option<EventPage> {
        let state = self.state();
        let start = match after {
            None => 0,
            Some(after) => match state.events.iter().position(|row| row.id == after) {
                Some(i) => i + 1,
                None => return None,
            },
        };
        let events = state
            .events
            .iter()
            .skip(start)
            .take(usize::from(limit) + 1)
            .filter_map(|row| serde_json::from_str(&row.payload).ok())
            .collect();
        Some(EventPage::of(events, limit))
    }

    pub(super) fn outbox(&self) -> OutboxHealth {
        let now = self.now();
        let state = self.state();
        let waiting = state.events.iter().filter(|row| row.is_waiting());
        OutboxHealth {
            waiting: waiting.clone().count() as u64,
            oldest_waiting_seconds: waiting
                .map(|row| row.received_at)
                .min()
                .map(|oldest| (now - oldest).whole_seconds().max(0) as u64),
            failed: state
                .events
                .iter()
                .filter(|row| row.forward == Some(Forwarding::Failed))
                .count() as u64,
            last_dispatch_at: state.last_dispatch.map(timestamp),
        }
    }
}

/// Moves the event's message and recipient forward (never back) and answers the message's id,
/// `None` for an orphan.
fn advance_message(
    state: &mut State,
    event: &DeliveryEvent,
    now: OffsetDateTime,
) -> Option<String> {
    let message = state.messages.iter_mut().rev().find(|m| {
        m.view.provider == event.provider
            && m.view.provider_message_id.as_deref() == Some(event.provider_message_id.as_str())
    })?;
    let status = event.kind.status();
    let events = message.view.events.get_or_insert_with(Vec::new);
    events.push(EventView {
        id: event.id.clone(),
        kind: status,
        time: event.time.clone(),
        error_code: event.error_code.clone(),
        retryable: event.retryable,
        forward: None,
        attempts: 0,
    });
    if status.rank() > message.rank {
        message.rank = status.rank();
        message.view.status = status;
        message.view.updated_at = timestamp(now);
    }
    let recipients = message.view.recipients.iter_mut();
    for (recipient, rank) in recipients.zip(message.recipient_ranks.iter_mut()) {
        if event.recipient_hash.as_deref() == Some(recipient.hash.as_str()) && status.rank() > *rank
        {
            *rank = status.rank();
            recipient.status = status;
        }
    }
    Some(message.view.id.clone())
}

/// An event's payload with its message's batch in its data, as Postgres keeps it.
fn with_batch(payload: &str, batch: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(payload) {
        Ok(mut value) => {
            value["data"]["batch_id"] = batch.into();
            value.to_string()
        }
        Err(_) => payload.to_owned(),
    }
}
