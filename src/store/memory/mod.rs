//! The memory store: the default without `DATABASE_URL` (`cargo run`, demo mode, tests). It
//! behaves as the Postgres store does within one process, and holds at most `MAX_MESSAGES`
//! messages, `MAX_EVENTS` delivery events and `MAX_AUDIT_LINES` audit lines (the oldest go
//! first) and `MAX_TRACKED_KEYS` limit keys, so an instance under load stays small.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;

mod admit;
mod events;
mod scheduled;
mod sweep;

use events::EventRow;
use scheduled::ScheduledRow;

use super::Store;
use super::outbox::{Applied, EventPage, NewEvent, Outgoing, Settled, Sweep, Swept};
use super::scheduled::{Change, Changed, ScheduledSend};
use super::types::{
    Admission, Admitted, AuditPage, AuditQuery, Claim, MessageFilter, MessagePage, MessageRecord,
    MessageView, Stats, StoreHealth, StoredAnswer,
};
use crate::error::Error;
use crate::support::{BoxFuture, timestamp};

const MAX_MESSAGES: usize = 1_000;
const MAX_TRACKED_KEYS: usize = 10_000;
const MAX_AUDIT_LINES: usize = 5_000;
const MAX_EVENTS: usize = 5_000;

#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// How far tests have moved this store's clock forward.
    skew: Mutex<Duration>,
}

#[derive(Debug, Default)]
struct State {
    limits: HashMap<String, OffsetDateTime>,
    claims: HashMap<(String, String), ClaimRow>,
    /// Oldest first.
    messages: VecDeque<Stored>,
    /// Delivery events in the order they were kept: the outbox and the pull API's source.
    events: VecDeque<EventRow>,
    last_dispatch: Option<OffsetDateTime>,
    /// The newest `MAX_AUDIT_LINES` audit lines: id, time, JSON.
    audit: VecDeque<(i64, OffsetDateTime, String)>,
    next_audit_id: i64,
    /// Scheduled sends, in the order they were made.
    scheduled: Vec<ScheduledRow>,
}

#[derive(Debug)]
struct ClaimRow {
    request_hash: String,
    answer: Option<StoredAnswer>,
    lease_until: OffsetDateTime,
    expires_at: OffsetDateTime,
}

#[derive(Debug)]
struct Stored {
    view: MessageView,
    created_at: OffsetDateTime,
    rank: u8,
    recipient_ranks: Vec<u8>,
}

impl MemoryStore {
    /// Moves this store's clock forward, for tests of limits and expiry.
    pub fn advance(&self, by: Duration) {
        *self.skew.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }

    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + *self.skew.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (each step is one insert
        // or update), so the data is still good to use.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Writes `messages` (replacing a scheduled one's record under the same id) and the answer
/// kept for replays.
fn keep(state: &mut State, messages: &[MessageRecord], answer: Option<(&Claim, &StoredAnswer)>) {
    for record in messages {
        let existing = state.messages.iter_mut().find(|m| m.view.id == record.id);
        if let Some(message) = existing {
            let view = &mut message.view;
            view.provider = record.provider;
            view.provider_message_id = record.provider_message_id.clone();
            view.status = record.status;
            view.error_code = record.error_code.map(|c| c.as_str().to_owned());
            view.updated_at = timestamp(record.created_at);
            view.recipients = record.recipients.clone();
            message.rank = record.status.rank();
            message.recipient_ranks = vec![record.status.rank(); record.recipients.len()];
            continue;
        }
        let created_at = record.created_at;
        state.messages.push_back(Stored {
            view: view_of(record, created_at),
            created_at,
            rank: record.status.rank(),
            recipient_ranks: vec![record.status.rank(); record.recipients.len()],
        });
    }
    while state.messages.len() > MAX_MESSAGES {
        state.messages.pop_front();
    }
    if let Some((claim, answer)) = answer
        && let Some(row) = state
            .claims
            .get_mut(&(claim.scope.clone(), claim.key.clone()))
    {
        row.answer = Some(answer.clone());
    }
}

fn append(state: &mut State, now: OffsetDateTime, line: &str) {
    state.next_audit_id += 1;
    let id = state.next_audit_id;
    state.audit.push_back((id, now, line.to_owned()));
    if state.audit.len() > MAX_AUDIT_LINES {
        state.audit.pop_front();
    }
}

fn matches(message: &Stored, filter: &MessageFilter) -> bool {
    let view = &message.view;
    filter.channel.is_none_or(|c| view.channel == c)
        && filter.status.is_none_or(|s| view.status == s)
        && filter
            .template
            .as_deref()
            .is_none_or(|t| view.template.as_deref() == Some(t))
        && filter
            .recipient_hash
            .as_deref()
            .is_none_or(|h| view.recipients.iter().any(|r| r.hash == h))
        && filter.since.is_none_or(|t| message.created_at >= t)
        && filter.until.is_none_or(|t| message.created_at < t)
        && filter
            .cursor
            .as_ref()
            .is_none_or(|c| (message.created_at, view.id.as_str()) < (c.created_at, c.id.as_str()))
}

impl Store for MemoryStore {
    fn admit<'a>(&'a self, admission: &'a Admission) -> BoxFuture<'a, Result<Admitted, Error>> {
        Box::pin(async move { Ok(self.admit_now(admission)) })
    }

    fn record<'a>(
        &'a self,
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut state = self.state();
            for line in audit {
                append(&mut state, now, line);
            }
            keep(&mut state, messages, answer);
            Ok(())
        })
    }

    fn apply_event<'a>(&'a self, new: NewEvent<'a>) -> BoxFuture<'a, Result<Applied, Error>> {
        Box::pin(async move { Ok(self.apply_now(new)) })
    }

    fn due_events(
        &self,
        limit: u16,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Vec<Outgoing>, Error>> {
        Box::pin(async move { Ok(self.due_now(limit, lease)) })
    }

    fn schedule<'a>(
        &'a self,
        send: &'a ScheduledSend,
        messages: &'a [MessageRecord],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.schedule_now(send, messages, answer);
            Ok(())
        })
    }

    fn due_sends(
        &self,
        limit: u16,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Vec<ScheduledSend>, Error>> {
        Box::pin(async move { Ok(self.due_sends_now(limit, lease)) })
    }

    fn sent<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.sent_now(id);
            Ok(())
        })
    }

    fn change<'a>(&'a self, id: &'a str, change: Change) -> BoxFuture<'a, Result<Changed, Error>> {
        Box::pin(async move { Ok(self.change_now(id, change)) })
    }

    fn settle<'a>(&'a self, settled: &'a [Settled]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.settle_now(settled);
            Ok(())
        })
    }

    fn events<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: u16,
    ) -> BoxFuture<'a, Result<Option<EventPage>, Error>> {
        Box::pin(async move { Ok(self.events_now(after, limit)) })
    }

    fn sweep<'a>(
        &'a self,
        sweep: &'a Sweep,
        _summary: &'a str,
    ) -> BoxFuture<'a, Result<Swept, Error>> {
        Box::pin(async move { Ok(self.sweep_now(sweep)) })
    }

    fn append_audit<'a>(&'a self, line: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let now = self.now();
            append(&mut self.state(), now, line);
            Ok(())
        })
    }

    fn audit<'a>(&'a self, query: &'a AuditQuery) -> BoxFuture<'a, Result<AuditPage, Error>> {
        Box::pin(async move {
            let state = self.state();
            let lines = state
                .audit
                .iter()
                .filter(|(id, time, _)| {
                    query.after.is_none_or(|after| *id > after)
                        && query.since.is_none_or(|t| *time >= t)
                        && query.until.is_none_or(|t| *time < t)
                })
                .take(usize::from(query.limit) + 1)
                .map(|(id, _, line)| (*id, line.clone()))
                .collect();
            Ok(AuditPage::of(lines, query.limit))
        })
    }

    fn message<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<MessageView>, Error>> {
        Box::pin(async move {
            let state = self.state();
            let found = state
                .messages
                .iter()
                .rev()
                .find(|m| m.view.id == id || m.view.provider_message_id.as_deref() == Some(id));
            Ok(found.map(|m| {
                let mut view = m.view.clone();
                view.events.get_or_insert_with(Vec::new);
                view
            }))
        })
    }

    fn messages<'a>(
        &'a self,
        filter: &'a MessageFilter,
    ) -> BoxFuture<'a, Result<MessagePage, Error>> {
        Box::pin(async move {
            let state = self.state();
            let mut newest_first: Vec<&Stored> = state
                .messages
                .iter()
                .filter(|m| matches(m, filter))
                .collect();
            newest_first.sort_by(|a, b| {
                (b.created_at, b.view.id.as_str()).cmp(&(a.created_at, a.view.id.as_str()))
            });
            let views = newest_first
                .into_iter()
                .take(usize::from(filter.limit) + 1)
                .map(|m| MessageView {
                    events: None,
                    ..m.view.clone()
                })
                .collect();
            Ok(super::page(views, filter.limit))
        })
    }

    fn stats<'a>(
        &'a self,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
    ) -> BoxFuture<'a, Result<Stats, Error>> {
        Box::pin(async move {
            let state = self.state();
            let mut stats = Stats::default();
            let in_range = state.messages.iter().filter(|m| {
                since.is_none_or(|t| m.created_at >= t) && until.is_none_or(|t| m.created_at < t)
            });
            for message in in_range {
                let view = &message.view;
                stats.total += 1;
                *stats
                    .by_channel
                    .entry(view.channel.as_str().to_owned())
                    .or_default()
                    .entry(view.status.as_str().to_owned())
                    .or_default() += 1;
                if let Some(template) = &view.template {
                    *stats.by_template.entry(template.clone()).or_default() += 1;
                }
            }
            Ok(stats)
        })
    }

    fn check(&self) -> BoxFuture<'_, StoreHealth> {
        Box::pin(async move {
            StoreHealth {
                reachable: true,
                schema_version: None,
                problem: None,
                outbox: Some(self.outbox()),
                scheduled: Some(self.scheduled()),
            }
        })
    }
}

fn view_of(record: &MessageRecord, created_at: OffsetDateTime) -> MessageView {
    MessageView {
        id: record.id.clone(),
        channel: record.channel,
        template: record.template.map(str::to_owned),
        provider: record.provider,
        provider_message_id: record.provider_message_id.clone(),
        status: record.status,
        error_code: record.error_code.map(|c| c.as_str().to_owned()),
        caller: record.caller.clone(),
        request_id: record.request_id.clone(),
        idempotency_key: record.idempotency_key.clone(),
        created_at: timestamp(created_at),
        updated_at: timestamp(created_at),
        recipients: record.recipients.clone(),
        events: Some(Vec::new()),
    }
}
