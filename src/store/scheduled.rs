//! Scheduled sends: the sealed request waiting for its time, leased once to one dispatcher
//! when due, cancelled or moved while it waits.

use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;

use super::{Claim, MessageRecord, StoredAnswer};
use crate::domain::Caller;
use crate::error::Error;
use crate::names::ScheduledRoute;
use crate::support::BoxFuture;

/// Scheduled sends.
pub trait Schedule {
    /// Keeps a send for later with its messages (status `scheduled`) and, when it had a key,
    /// the answer for replays.
    fn schedule<'a>(
        &'a self,
        send: &'a ScheduledSend,
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// Leases up to `limit` scheduled sends that are due (only `batch`'s, when given), for
    /// `lease`, to one dispatcher. A send whose dispatcher stopped before it was done is not
    /// sent again: it is marked unknown, and its messages failed, as for a key whose request
    /// never finished.
    fn due_sends<'a>(
        &'a self,
        limit: u16,
        lease: Duration,
        batch: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<ScheduledSend>, Error>>;

    /// Puts a leased send back to wait until `at`, its content kept: the pacer had no slot
    /// for it within this run, or the provider asked to slow down.
    fn put_back<'a>(&'a self, id: &'a str, at: OffsetDateTime) -> BoxFuture<'a, Result<(), Error>>;

    /// Marks a leased send as sent and deletes its content.
    fn sent<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// Cancels or moves a scheduled send, found by its id or the id of one of its messages;
    /// a cancelled one's content is deleted and its messages become `cancelled`.
    fn change<'a>(&'a self, id: &'a str, change: Change) -> BoxFuture<'a, Result<Changed, Error>>;
}

/// A send to run at `send_at`: the request as its route takes it, sealed by the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledSend {
    pub id: String,
    pub route: ScheduledRoute,
    pub send_at: OffsetDateTime,
    /// Sealed (see `support::Sealer`), never in the clear.
    pub content: Vec<u8>,
    pub caller: Caller,
    pub request_id: String,
    /// The log's message of each channel it sends on.
    pub email_id: Option<String>,
    pub sms_id: Option<String>,
    /// The batch it is an item of: paced to the providers' rates when it goes.
    pub batch_id: Option<String>,
}

/// A change to a scheduled send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Cancel,
    MoveTo(OffsetDateTime),
}

/// What a change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Done: the scheduled send's id and its time (`None` once cancelled).
    Done {
        id: String,
        send_at: Option<OffsetDateTime>,
    },
    /// It is being sent, or was sent, cancelled or given up: too late to change.
    TooLate,
    /// No scheduled send has this id (nor a message of one).
    NotScheduled,
}

/// Scheduled sends as health reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledHealth {
    pub waiting: u64,
    pub next_due_at: Option<String>,
}
