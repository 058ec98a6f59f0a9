//! The memory store's scheduled sends: kept, leased once when due (a send whose dispatcher
//! stopped is never sent again), marked sent, cancelled or moved.

use std::time::Duration;

use time::OffsetDateTime;

use super::log::keep;
use super::{MemoryStore, State, done};
use crate::error::{Error, ErrorCode};
use crate::names::MessageStatus;
use crate::store::{
    Change, Changed, Claim, MessageRecord, Schedule, ScheduledHealth, ScheduledSend, StoredAnswer,
};
use crate::support::{BoxFuture, timestamp};

#[derive(Debug)]
pub(super) struct ScheduledRow {
    pub(super) send: ScheduledSend,
    pub(super) state: SendState,
    pub(super) lease_until: Option<OffsetDateTime>,
    pub(super) updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SendState {
    Scheduled,
    Sending,
    Sent,
    Cancelled,
    Unknown,
}

impl Schedule for MemoryStore {
    fn schedule<'a>(
        &'a self,
        send: &'a ScheduledSend,
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let now = self.now();
        for line in audit {
            super::audit::append(&mut self.state(), now, line);
        }
        self.schedule_now(send, messages, answer);
        done(())
    }

    fn due_sends<'a>(
        &'a self,
        limit: u16,
        lease: Duration,
        batch: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<ScheduledSend>, Error>> {
        done(self.due_sends_now(limit, lease, batch))
    }

    fn put_back<'a>(&'a self, id: &'a str, at: OffsetDateTime) -> BoxFuture<'a, Result<(), Error>> {
        let now = self.now();
        let mut state = self.state();
        let row = state.scheduled.iter_mut().find(|row| row.send.id == id);
        if let Some(row) = row.filter(|row| row.state == SendState::Sending) {
            row.state = SendState::Scheduled;
            row.send.send_at = at;
            row.lease_until = None;
            row.updated_at = now;
        }
        done(())
    }

    fn sent<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        self.sent_now(id);
        done(())
    }

    fn change<'a>(&'a self, id: &'a str, change: Change) -> BoxFuture<'a, Result<Changed, Error>> {
        done(self.change_now(id, change))
    }
}

impl MemoryStore {
    fn schedule_now(
        &self,
        send: &ScheduledSend,
        messages: &[MessageRecord],
        answer: Option<(&Claim, &StoredAnswer)>,
    ) {
        let now = self.now();
        let mut state = self.state();
        keep(&mut state, messages, answer.as_slice());
        state.scheduled.push(ScheduledRow {
            send: send.clone(),
            state: SendState::Scheduled,
            lease_until: None,
            updated_at: now,
        });
    }

    fn due_sends_now(
        &self,
        limit: u16,
        lease: Duration,
        batch: Option<&str>,
    ) -> Vec<ScheduledSend> {
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
            .filter(|row| batch.is_none_or(|b| row.send.batch_id.as_deref() == Some(b)))
            .collect();
        due.sort_by_key(|row| row.send.send_at);
        due.into_iter()
            .take(usize::from(limit))
            .map(|row| {
                row.state = SendState::Sending;
                row.lease_until = Some(now + lease);
                row.updated_at = now;
                row.send.clone()
            })
            .collect()
    }

    fn sent_now(&self, id: &str) {
        let now = self.now();
        let mut state = self.state();
        let row = state.scheduled.iter_mut().find(|row| row.send.id == id);
        if let Some(row) = row.filter(|row| row.state == SendState::Sending) {
            row.state = SendState::Sent;
            row.send.content = Vec::new();
            row.lease_until = None;
            row.updated_at = now;
        }
    }

    fn change_now(&self, id: &str, change: Change) -> Changed {
        let now = self.now();
        let mut state = self.state();
        let state = &mut *state;
        let found = state.scheduled.iter_mut().find(|row| {
            row.send.id == id
                || row.send.email_id.as_deref() == Some(id)
                || row.send.sms_id.as_deref() == Some(id)
        });
        let Some(row) = found else {
            return Changed::NotScheduled;
        };
        if row.state != SendState::Scheduled {
            return Changed::TooLate;
        }
        row.updated_at = now;
        match change {
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
        }
    }

    pub(super) fn scheduled(&self) -> ScheduledHealth {
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
}

/// Sets the status of the messages `ids` (not their rank-guarded way: a scheduled send's
/// messages are cancelled or failed outright).
pub(super) fn set_status(
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
            message.view.error_code = Some(ErrorCode::ProviderTimeout.as_str().to_owned());
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
