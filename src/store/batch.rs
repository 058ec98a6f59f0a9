//! Batches: a batch's items kept in one statement (their messages, the sealed sends of the
//! items that go, the answer for replays), read back as counts, and cancelled while they wait.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::{Claim, MessageRecord, ScheduledSend, StoredAnswer};
use crate::error::Error;
use crate::support::BoxFuture;

/// Batches.
pub trait Batches {
    /// Keeps a batch: every item's messages (`scheduled`, or `suppressed`/`declined` with
    /// their audit lines), the sends of the items that go, and with a key the answer.
    fn keep_batch<'a>(
        &'a self,
        batch: &'a BatchRecord,
        sends: &'a [ScheduledSend],
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// A batch with its messages counted by status.
    fn batch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<BatchView>, Error>>;

    /// Cancels every send of the batch that has not gone (its messages become `cancelled`);
    /// how many, or `None` when there is no such batch.
    fn cancel_batch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<u64>, Error>>;
}

/// A batch as it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    pub id: String,
    /// As the log names callers (`Caller::logged`).
    pub caller: String,
    pub request_id: String,
    pub items: u32,
    pub created_at: OffsetDateTime,
}

/// A batch as `GET /api/batches/{id}` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchView {
    pub id: String,
    pub caller: String,
    pub items: u32,
    pub created_at: OffsetDateTime,
    /// Its messages by status.
    pub counts: BTreeMap<String, u64>,
}
