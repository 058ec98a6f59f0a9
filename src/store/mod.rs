//! The store: what outlives one request (idempotency keys, the message log, the limits every
//! instance shares, delivery events, scheduled sends and batches, the pacer, the suppression list, patients' choices, the audit trail), as one small trait per
//! concern with two implementations: Postgres when `DATABASE_URL` is set, and memory (the
//! default for `cargo run`, demo mode and tests), which behaves the same within one process.
//!
//! Adding a query: one method on its concern's trait (in `<concern>.rs` here), its two
//! implementations (`memory/<concern>.rs`, and `postgres/<concern>.rs` with its SQL beside it),
//! and one test in `tests/api/store/<concern>.rs`, which runs on both stores.
//!
//! Each call is one atomic step (one round trip on Postgres), so that any number of instances
//! sharing a database see one count, one claim and one log.

mod admission;
mod audit;
mod batch;
mod gcra;
mod log;
mod memory;
mod outbox;
mod pace;
mod postgres;
mod preferences;
mod reputation;
mod scheduled;
mod suppression;
mod upkeep;

#[cfg(test)]
mod tests;

pub use admission::{
    Admission, Admit, Admitted, Claim, ClaimOutcome, Limit, Reach, Refusal, StoredAnswer,
};
pub use audit::{AuditPage, AuditQuery, AuditTrail};
pub use batch::{BatchRecord, BatchView, Batches};
pub use log::{
    Cursor, EventView, MessageFilter, MessageLog, MessagePage, MessageRecord, MessageView,
    RecipientView, Stats,
};
pub use memory::MemoryStore;
pub use outbox::{
    Applied, EventPage, FIRST_ATTEMPT_LEASE, Forwarding, NewEvent, Outbox, OutboxHealth, Outgoing,
    PracticeEvent, Settled,
};
pub use pace::{Paced, Pacer};
pub use postgres::{PostgresStore, SCHEMA_VERSION};
pub use preferences::{Choice, Chosen, Consent, Preferences};
pub use reputation::{EmailCounts, Guard, Reputation};
pub use scheduled::{Change, Changed, Schedule, ScheduledHealth, ScheduledSend};
pub use suppression::{Suppressed, Suppression, SuppressionFilter, SuppressionPage, Suppressions};
pub use upkeep::{StoreHealth, Sweep, Swept, Upkeep};

use std::time::Duration;

use crate::config::StoreConfig;
use crate::error::{Error, ErrorCode};

/// Every concern at once: what the service holds. Implemented by any type that implements
/// them all; a new concern is one more bound here.
pub trait Store:
    Admit
    + MessageLog
    + Outbox
    + Schedule
    + Batches
    + Pacer
    + Suppressions
    + Preferences
    + Reputation
    + AuditTrail
    + Upkeep
    + Send
    + Sync
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: Admit
        + MessageLog
        + Outbox
        + Schedule
        + Batches
        + Pacer
        + Suppressions
        + Preferences
        + Reputation
        + AuditTrail
        + Upkeep
        + Send
        + Sync
        + std::fmt::Debug
{
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
