//! The store: what outlives one request (idempotency keys, the message log, the limits every
//! instance shares), behind one trait with two implementations: Postgres when `DATABASE_URL`
//! is set, and memory (the default for `cargo run`, demo mode and tests), which behaves the
//! same within one process.

mod gcra;
mod memory;
mod outbox;
mod postgres;
mod scheduled;
mod types;

#[cfg(test)]
mod tests;

pub use memory::MemoryStore;
pub use outbox::{
    Applied, EventPage, FIRST_ATTEMPT_LEASE, Forwarding, NewEvent, OutboxHealth, Outgoing, Settled,
    Sweep, Swept,
};
pub use postgres::PostgresStore;
pub use scheduled::{Change, Changed, ScheduledHealth, ScheduledSend};
pub use types::{
    Admission, Admitted, AuditPage, AuditQuery, Claim, ClaimOutcome, Cursor, EventView, Limit,
    MessageFilter, MessagePage, MessageRecord, MessageView, RecipientView, Refusal, Stats,
    StoreHealth, StoredAnswer,
};

use std::time::Duration;

use crate::config::StoreConfig;
use crate::error::{Error, ErrorCode};
use crate::support::BoxFuture;

/// What every store does. Each call is one atomic step (one round trip on Postgres), so that
/// any number of instances sharing a database see one count, one claim and one log.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Counts the request against its limits and claims its idempotency key, atomically.
    fn admit<'a>(&'a self, admission: &'a Admission) -> BoxFuture<'a, Result<Admitted, Error>>;

    /// Writes the messages of a send and their audit lines and, when it had a key, its answer
    /// for replays. A message already in the log under its id (a scheduled one, now sent) is
    /// replaced by its new record.
    fn record<'a>(
        &'a self,
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// Keeps a delivery event in order with its audit line (an orphan when its message is
    /// unknown), moves the message's and the recipient's status forward, never back, and, when
    /// it is to be forwarded, queues it. The same report (the same event id) is kept once, on
    /// any number of instances.
    fn apply_event<'a>(&'a self, new: NewEvent<'a>) -> BoxFuture<'a, Result<Applied, Error>>;

    /// Leases up to `limit` events due for a forwarding attempt, for `lease`: the first waiting
    /// event of each message only, and none that another caller holds.
    fn due_events(
        &self,
        limit: u16,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Vec<Outgoing>, Error>>;

    /// Records how attempts ended.
    fn settle<'a>(&'a self, settled: &'a [Settled]) -> BoxFuture<'a, Result<(), Error>>;

    /// Up to `limit` events in order after the event `after` (from the first without it);
    /// `None` when there is no event `after`.
    fn events<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: u16,
    ) -> BoxFuture<'a, Result<Option<EventPage>, Error>>;

    /// Removes what has outlived its retention, a bounded number of rows a call, and stamps the
    /// dispatch with `summary` (JSON) for health.
    fn sweep<'a>(
        &'a self,
        sweep: &'a Sweep,
        summary: &'a str,
    ) -> BoxFuture<'a, Result<Swept, Error>>;

    /// Keeps a send for later with its messages (status `scheduled`) and, when it had a key,
    /// the answer for replays.
    fn schedule<'a>(
        &'a self,
        send: &'a ScheduledSend,
        messages: &'a [MessageRecord],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// Leases up to `limit` scheduled sends that are due, for `lease`, to one dispatcher. A
    /// send whose dispatcher stopped before it was done is not sent again: it is marked
    /// unknown, and its messages failed, as for a key whose request never finished.
    fn due_sends(
        &self,
        limit: u16,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Vec<ScheduledSend>, Error>>;

    /// Marks a leased send as sent and deletes its content.
    fn sent<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// Cancels or moves a scheduled send, found by its id or the id of one of its messages;
    /// a cancelled one's content is deleted and its messages become `cancelled`.
    fn change<'a>(&'a self, id: &'a str, change: Change) -> BoxFuture<'a, Result<Changed, Error>>;

    /// Appends one audit line (a refused webhook).
    fn append_audit<'a>(&'a self, line: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// The audit trail, oldest first, for an export.
    fn audit<'a>(&'a self, query: &'a AuditQuery) -> BoxFuture<'a, Result<AuditPage, Error>>;

    /// A message by our id or the provider's message id.
    fn message<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<MessageView>, Error>>;

    /// A page of messages, newest first.
    fn messages<'a>(
        &'a self,
        filter: &'a MessageFilter,
    ) -> BoxFuture<'a, Result<MessagePage, Error>>;

    /// Counts by channel and status, and by template, over a time range.
    fn stats<'a>(
        &'a self,
        since: Option<time::OffsetDateTime>,
        until: Option<time::OffsetDateTime>,
    ) -> BoxFuture<'a, Result<Stats, Error>>;

    /// Whether the store answers, and its schema version: for health.
    fn check(&self) -> BoxFuture<'_, StoreHealth>;
}

/// The store the configuration asks for. Nothing connects here: Postgres connects on first use.
pub fn open(config: &StoreConfig) -> Box<dyn Store> {
    match config {
        StoreConfig::Memory => Box::new(MemoryStore::default()),
        StoreConfig::Postgres(settings) => Box::new(PostgresStore::new(settings)),
        StoreConfig::Misconfigured(problem) => {
            Box::new(PostgresStore::misconfigured(problem.clone()))
        }
    }
}

/// The answer when the store cannot be used: a 503 that says to retry, never a send without it.
pub(crate) fn unavailable(why: impl std::fmt::Display) -> Error {
    tracing::error!(error = %why, "the store is unavailable");
    Error::new(
        ErrorCode::StoreUnavailable,
        "The message store is unavailable, so nothing was sent. Retry after the delay given.",
    )
    .with_hint("Check DATABASE_URL and the database's status; GET /api/health reports it.")
    .with_retry_after(Duration::from_secs(5))
}

/// A page of at most `limit` messages from up to `limit + 1` fetched, newest first: the one
/// more tells whether there is a next page, which starts after the last one kept.
fn page(mut views: Vec<MessageView>, limit: u16) -> MessagePage {
    let limit = usize::from(limit);
    let more = views.len() > limit;
    views.truncate(limit);
    let next_cursor = views.last().filter(|_| more).and_then(|last| {
        let created_at = time::OffsetDateTime::parse(
            &last.created_at,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()?;
        Some(
            Cursor {
                created_at,
                id: last.id.clone(),
            }
            .encode(),
        )
    });
    MessagePage {
        messages: views,
        next_cursor,
    }
}
