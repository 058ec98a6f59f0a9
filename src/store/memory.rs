//! The memory store: the default without `DATABASE_URL` (`cargo run`, demo mode, tests). It
//! behaves as the Postgres store does within one process, and holds at most `MAX_MESSAGES`
//! messages, `MAX_EVENTS` delivery events and `MAX_AUDIT_LINES` audit lines (the oldest go
//! first) and `MAX_TRACKED_KEYS` limit keys, so an instance under load stays small.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;

use super::Store;
use super::gcra;
use super::outbox::{
    Applied, EventPage, FIRST_ATTEMPT_LEASE, Forwarding, NewEvent, OutboxHealth, Outgoing, Settled,
    Sweep, Swept,
};
use super::scheduled::{Change, Changed, ScheduledHealth, ScheduledSend};
use super::types::{
    Admission, Admitted, AuditPage, AuditQuery, Claim, ClaimOutcome, EventView, MessageFilter,
    MessagePage, MessageRecord, MessageView, Refusal, Stats, StoreHealth, StoredAnswer,
};
use crate::domain::DeliveryEvent;
use crate::error::Error;
use crate::names::{MessageStatus, Provider};
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
struct ScheduledRow {
    send: ScheduledSend,
    state: SendState,
    lease_until: Option<OffsetDateTime>,
    updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SendState {
    Scheduled,
    Sending,
    Sent,
    Cancelled,
    Unknown,
}

#[derive(Debug)]
struct ClaimRow {
    request_hash: String,
    answer: Option<StoredAnswer>,
    lease_until: OffsetDateTime,
    expires_at: OffsetDateTime,
}

#[derive(Debug)]
struct EventRow {
    id: String,
    /// The message it belongs to (our id), `None` for an orphan.
    message_id: Option<String>,
    provider: Provider,
    provider_message_id: String,
    payload: String,
    received_at: OffsetDateTime,
    forward: Option<Forwarding>,
    attempts: u16,
    next_at: OffsetDateTime,
    lease_until: Option<OffsetDateTime>,
}

impl EventRow {
    fn is_waiting(&self) -> bool {
        self.forward == Some(Forwarding::Pending)
    }

    fn same_message(&self, provider: Provider, provider_message_id: &str) -> bool {
        self.provider == provider && self.provider_message_id == provider_message_id
    }
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

    fn admit_now(&self, admission: &Admission) -> Admitted {
        let now = self.now();
        let mut state = self.state();
        if state.limits.len() > MAX_TRACKED_KEYS {
            state.limits.retain(|_, tat| *tat > now);
        }
        let refused: Vec<Refusal> = admission
            .limits
            .iter()
            .filter_map(|limit| {
                let tat = state.limits.get(&limit.key).copied();
                gcra::check(tat, now, limit)
                    .err()
                    .map(|retry_after| Refusal {
                        group: limit.group,
                        retry_after,
                    })
            })
            .collect();
        let is_refused = |group: u8| refused.iter().any(|r| r.group == group);
        if is_refused(0) {
            return Admitted {
                refused,
                claim: ClaimOutcome::None,
            };
        }
        count(&mut state, admission, now, |group| group == 0);
        let mut claim = ClaimOutcome::None;
        if let Some(wanted) = &admission.claim {
            let id = (wanted.scope.clone(), wanted.key.clone());
            if state
                .claims
                .get(&id)
                .is_some_and(|row| row.expires_at <= now)
            {
                state.claims.remove(&id);
            }
            match state.claims.get(&id) {
                None => {
                    state.claims.insert(
                        id,
                        ClaimRow {
                            request_hash: wanted.request_hash.clone(),
                            answer: None,
                            lease_until: now + wanted.lease,
                            expires_at: now + wanted.ttl,
                        },
                    );
                    claim = ClaimOutcome::Claimed;
                }
                Some(row) => {
                    let outcome = if row.request_hash != wanted.request_hash {
                        ClaimOutcome::Reused
                    } else if let Some(answer) = &row.answer {
                        ClaimOutcome::Replay(answer.clone())
                    } else if row.lease_until > now {
                        ClaimOutcome::InProgress {
                            retry_after: gcra::ceil_millis(row.lease_until - now),
                        }
                    } else {
                        ClaimOutcome::Abandoned
                    };
                    return Admitted {
                        refused: Vec::new(),
                        claim: outcome,
                    };
                }
            }
        }
        count(&mut state, admission, now, |group| {
            group != 0 && !is_refused(group)
        });
        if let (ClaimOutcome::Claimed, Some(wanted)) = (&claim, &admission.claim) {
            let groups: std::collections::BTreeSet<u8> = refused.iter().map(|r| r.group).collect();
            if groups.len() >= usize::from(wanted.channels) {
                state
                    .claims
                    .remove(&(wanted.scope.clone(), wanted.key.clone()));
                claim = ClaimOutcome::None;
            }
        }
        Admitted { refused, claim }
    }

    fn apply_now(&self, new: NewEvent<'_>) -> Applied {
        let event = new.event;
        let now = self.now();
        let mut state = self.state();
        if state.events.iter().any(|row| row.id == event.id) {
            return Applied::Copy;
        }
        append(&mut state, now, new.audit);
        let waiting = state.events.iter().any(|row| {
            row.is_waiting() && row.same_message(event.provider, &event.provider_message_id)
        });
        let claimed = new.forward && !waiting;
        let message_id = advance_message(&mut state, event, now);
        state.events.push_back(EventRow {
            id: event.id.clone(),
            message_id,
            provider: event.provider,
            provider_message_id: event.provider_message_id.clone(),
            payload: new.payload.to_owned(),
            received_at: now,
            forward: new.forward.then_some(Forwarding::Pending),
            attempts: 0,
            next_at: now,
            lease_until: claimed.then(|| now + FIRST_ATTEMPT_LEASE),
        });
        if state.events.len() > MAX_EVENTS {
            state.events.pop_front();
        }
        if claimed {
            Applied::Claimed
        } else {
            Applied::Kept
        }
    }

    fn due_now(&self, limit: u16, lease: Duration) -> Vec<Outgoing> {
        let now = self.now();
        let mut state = self.state();
        let mut heads: HashSet<(Provider, String)> = HashSet::new();
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

    fn sweep_now(&self, sweep: &Sweep) -> Swept {
        let now = self.now();
        let max = sweep.max_rows as usize;
        let mut state = self.state();
        let state = &mut *state;
        let mut swept = Swept::default();
        let expired: Vec<_> = state
            .claims
            .iter()
            .filter(|(_, row)| row.expires_at < now)
            .map(|(id, _)| id.clone())
            .take(max)
            .collect();
        for id in &expired {
            state.claims.remove(id);
        }
        swept.idempotency_keys = expired.len() as u64;
        let idle: Vec<_> = state
            .limits
            .iter()
            .filter(|(_, tat)| **tat < now - Duration::from_secs(86_400))
            .map(|(key, _)| key.clone())
            .take(max)
            .collect();
        for key in &idle {
            state.limits.remove(key);
        }
        swept.limits = idle.len() as u64;
        let mut gone = HashSet::new();
        while gone.len() < max
            && let Some(oldest) = state.messages.front()
            && oldest.created_at < sweep.messages_before
        {
            if let Some(message) = state.messages.pop_front() {
                gone.insert(message.view.id);
            }
        }
        swept.messages = gone.len() as u64;
        let mut orphans = 0;
        state.events.retain(|row| match &row.message_id {
            Some(id) => !gone.contains(id),
            None if orphans < max && row.received_at < sweep.messages_before => {
                orphans += 1;
                false
            }
            None => true,
        });
        swept.orphan_events = orphans as u64;
        let before = state.audit.len();
        while state.audit.len() + max > before
            && state
                .audit
                .front()
                .is_some_and(|(_, time, _)| *time < sweep.audit_before)
        {
            state.audit.pop_front();
        }
        swept.audit_lines = (before - state.audit.len()) as u64;
        state.scheduled.retain(|row| {
            matches!(row.state, SendState::Scheduled | SendState::Sending)
                || row.updated_at >= sweep.messages_before
        });
        state.last_dispatch = Some(now);
        swept
    }

    fn scheduled(&self) -> ScheduledHealth {
        let state = self.state();
        let waiting = state
            .scheduled
            .iter()
            .filter(|row| row.state == SendState::Scheduled);
        ScheduledHealth {
            waiting: waiting.clone().count() as u64,
            next_due_at: waiting.map(|row| row.send.send_at).min().map(timestamp),
        }
    }

    fn outbox(&self) -> OutboxHealth {
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
    let Some(status) = MessageStatus::parse(event.kind) else {
        return Some(message.view.id.clone());
    };
    let events = message.view.events.get_or_insert_with(Vec::new);
    events.push(EventView {
        kind: status,
        time: event.time.clone(),
        error_code: event.error_code.clone(),
        retryable: event.retryable,
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

/// Sets the status of the messages `ids` (not their rank-guarded way: a scheduled send's
/// messages are cancelled or failed outright).
fn set_status(
    state: &mut State,
    ids: [&Option<String>; 2],
    status: MessageStatus,
    now: OffsetDateTime,
    only_scheduled: bool,
) {
    for message in state.messages.iter_mut() {
        if !ids
            .iter()
            .any(|id| id.as_deref() == Some(message.view.id.as_str()))
            || (only_scheduled && message.view.status != MessageStatus::Scheduled)
        {
            continue;
        }
        message.view.status = status;
        message.rank = status.rank();
        message.view.updated_at = timestamp(now);
        if status == MessageStatus::Failed {
            message.view.error_code = Some("provider_timeout".to_owned());
        }
        for (recipient, rank) in message
            .view
            .recipients
            .iter_mut()
            .zip(message.recipient_ranks.iter_mut())
        {
            recipient.status = status;
            *rank = status.rank();
        }
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

/// Counts the request against the limits of the groups `counted` picks.
fn count(
    state: &mut State,
    admission: &Admission,
    now: OffsetDateTime,
    counted: impl Fn(u8) -> bool,
) {
    for limit in admission.limits.iter().filter(|l| counted(l.group)) {
        let tat = state.limits.get(&limit.key).copied();
        state
            .limits
            .insert(limit.key.clone(), gcra::counted(tat, now, limit));
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
            let now = self.now();
            let mut state = self.state();
            keep(&mut state, messages, answer);
            state.scheduled.push(ScheduledRow {
                send: send.clone(),
                state: SendState::Scheduled,
                lease_until: None,
                updated_at: now,
            });
            Ok(())
        })
    }

    fn due_sends(
        &self,
        limit: u16,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Vec<ScheduledSend>, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut state = self.state();
            let state = &mut *state;
            let mut lapsed = Vec::new();
            for row in state.scheduled.iter_mut() {
                if row.state == SendState::Sending && row.lease_until.is_some_and(|l| l < now) {
                    row.state = SendState::Unknown;
                    row.send.content.clear();
                    row.updated_at = now;
                    lapsed.push((row.send.email_id.clone(), row.send.sms_id.clone()));
                }
            }
            for (email, sms) in &lapsed {
                set_status(state, [email, sms], MessageStatus::Failed, now, true);
            }
            let mut due: Vec<&mut ScheduledRow> = state
                .scheduled
                .iter_mut()
                .filter(|row| row.state == SendState::Scheduled && row.send.send_at <= now)
                .collect();
            due.sort_by_key(|row| row.send.send_at);
            Ok(due
                .into_iter()
                .take(usize::from(limit))
                .map(|row| {
                    row.state = SendState::Sending;
                    row.lease_until = Some(now + lease);
                    row.updated_at = now;
                    row.send.clone()
                })
                .collect())
        })
    }

    fn sent<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut state = self.state();
            let row = state.scheduled.iter_mut().find(|row| row.send.id == id);
            if let Some(row) = row.filter(|row| row.state == SendState::Sending) {
                row.state = SendState::Sent;
                row.send.content = Vec::new();
                row.lease_until = None;
                row.updated_at = now;
            }
            Ok(())
        })
    }

    fn change<'a>(&'a self, id: &'a str, change: Change) -> BoxFuture<'a, Result<Changed, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut state = self.state();
            let state = &mut *state;
            let found = state.scheduled.iter_mut().find(|row| {
                row.send.id == id
                    || row.send.email_id.as_deref() == Some(id)
                    || row.send.sms_id.as_deref() == Some(id)
            });
            let Some(row) = found else {
                return Ok(Changed::NotScheduled);
            };
            if row.state != SendState::Scheduled {
                return Ok(Changed::TooLate);
            }
            row.updated_at = now;
            let changed = match change {
                Change::MoveTo(at) => {
                    row.send.send_at = at;
                    Changed::Done {
                        id: row.send.id.clone(),
                        send_at: Some(at),
                    }
                }
                Change::Cancel => {
                    row.state = SendState::Cancelled;
                    row.send.content = Vec::new();
                    let ids = (row.send.email_id.clone(), row.send.sms_id.clone());
                    let id = row.send.id.clone();
                    set_status(
                        state,
                        [&ids.0, &ids.1],
                        MessageStatus::Cancelled,
                        now,
                        false,
                    );
                    Changed::Done { id, send_at: None }
                }
            };
            Ok(changed)
        })
    }

    fn settle<'a>(&'a self, settled: &'a [Settled]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
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
            Ok(())
        })
    }

    fn events<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: u16,
    ) -> BoxFuture<'a, Result<Option<EventPage>, Error>> {
        Box::pin(async move {
            let state = self.state();
            let start = match after {
                None => 0,
                Some(after) => match state.events.iter().position(|row| row.id == after) {
                    Some(i) => i + 1,
                    None => return Ok(None),
                },
            };
            let events = state
                .events
                .iter()
                .skip(start)
                .take(usize::from(limit) + 1)
                .filter_map(|row| serde_json::from_str(&row.payload).ok())
                .collect();
            Ok(Some(EventPage::of(events, limit)))
        })
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
