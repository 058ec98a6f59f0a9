//! The memory store's batches: kept with their messages and sends, counted, cancelled.

use std::collections::BTreeMap;

use super::audit::append;
use super::log::keep;
use super::scheduled::{ScheduledRow, SendState, set_status};
use super::{MemoryStore, done};
use crate::error::Error;
use crate::names::MessageStatus;
use crate::store::{
    BatchRecord, BatchView, Batches, Claim, MessageRecord, ScheduledSend, StoredAnswer,
};
use crate::support::BoxFuture;

impl Batches for MemoryStore {
    fn keep_batch<'a>(
        &'a self,
        batch: &'a BatchRecord,
        sends: &'a [ScheduledSend],
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let now = self.now();
        let mut state = self.state();
        for line in audit {
            append(&mut state, now, line);
        }
        keep(&mut state, messages, answer.as_slice());
        state
            .scheduled
            .extend(sends.iter().map(|send| ScheduledRow {
                send: send.clone(),
                state: SendState::Scheduled,
                lease_until: None,
                updated_at: now,
            }));
        state.batches.push(batch.clone());
        done(())
    }

    fn batch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<BatchView>, Error>> {
        let state = self.state();
        let found = state.batches.iter().find(|b| b.id == id).map(|batch| {
            let mut counts = BTreeMap::new();
            let of_batch = state
                .messages
                .iter()
                .filter(|m| m.view.batch_id.as_deref() == Some(id));
            for message in of_batch {
                *counts
                    .entry(message.view.status.as_str().to_owned())
                    .or_default() += 1;
            }
            BatchView {
                id: batch.id.clone(),
                caller: batch.caller.clone(),
                items: batch.items,
                created_at: batch.created_at,
                counts,
            }
        });
        done(found)
    }

    fn cancel_batch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<u64>, Error>> {
        let now = self.now();
        let mut state = self.state();
        let state = &mut *state;
        if !state.batches.iter().any(|b| b.id == id) {
            return done(None);
        }
        let mut cancelled = Vec::new();
        for row in state.scheduled.iter_mut().filter(|row| {
            row.state == SendState::Scheduled && row.send.batch_id.as_deref() == Some(id)
        }) {
            row.state = SendState::Cancelled;
            row.send.content = Vec::new();
            row.updated_at = now;
            cancelled.push((row.send.email_id.clone(), row.send.sms_id.clone()));
        }
        for (email, sms) in &cancelled {
            set_status(state, [email, sms], MessageStatus::Cancelled, now, false);
        }
        done(Some(cancelled.len() as u64))
    }
}
