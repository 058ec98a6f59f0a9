//! Upkeep and health: the dispatcher's retention sweep, and whether the store answers.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{OutboxHealth, ScheduledHealth};
use crate::error::Error;
use crate::support::BoxFuture;

/// Upkeep and health.
pub trait Upkeep {
    /// Removes what has outlived its retention, a bounded number of rows a call, and stamps the
    /// dispatch with `summary` (JSON) for health.
    fn sweep<'a>(
        &'a self,
        sweep: &'a Sweep,
        summary: &'a str,
    ) -> BoxFuture<'a, Result<Swept, Error>>;

    /// Whether the store answers, its schema version and its queues: for health.
    fn check(&self) -> BoxFuture<'_, StoreHealth>;

    /// Makes a connection ready (and the schema checked) ahead of the first call that needs
    /// one: a function starts it while its runtime waits for the first request. Nothing to do
    /// for a store without connections; a failure is left for that call to meet and answer.
    fn connect_ahead(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// What the dispatcher's sweep removes: everything older than these times, at most
/// `max_rows` of each kind per call.
#[derive(Debug, Clone, Copy)]
pub struct Sweep {
    pub audit_before: OffsetDateTime,
    pub messages_before: OffsetDateTime,
    pub max_rows: u32,
}

/// How many of each were removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Swept {
    pub idempotency_keys: u64,
    pub limits: u64,
    pub messages: u64,
    pub orphan_events: u64,
    pub audit_lines: u64,
}

/// The store as health reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreHealth {
    pub reachable: bool,
    pub schema_version: Option<i32>,
    pub problem: Option<String>,
    /// When the store answered.
    pub outbox: Option<OutboxHealth>,
    pub scheduled: Option<ScheduledHealth>,
}
