//! The reputation guard's measure: email recipients sent to, hard bounces and complaints over
//! a window, from the product's own log and events; and the guard's state as last measured,
//! which admission reads in its own step.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Error;
use crate::names::GuardState;
use crate::support::BoxFuture;

/// The reputation guard's record.
pub trait Reputation {
    /// Email recipients sent to, hard bounces and complaints since each of `since`.
    fn email_counts<'a>(
        &'a self,
        since: &'a [OffsetDateTime],
    ) -> BoxFuture<'a, Result<Vec<EmailCounts>, Error>>;

    /// Keeps the guard as measured, with `audit` when its state changed; answers the state it
    /// had before (`None`: never measured).
    fn keep_guard<'a>(
        &'a self,
        guard: &'a Guard,
        audit: &'a str,
    ) -> BoxFuture<'a, Result<Option<GuardState>, Error>>;

    /// The guard as last measured.
    fn guard(&self) -> BoxFuture<'_, Result<Option<Guard>, Error>>;
}

/// One window's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailCounts {
    pub emails: u64,
    pub bounces: u64,
    pub complaints: u64,
}

/// The guard as measured: its state, the last 24 hours' and 7 days' counts, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Guard {
    pub state: GuardState,
    pub day: EmailCounts,
    pub week: EmailCounts,
    #[serde(with = "time::serde::rfc3339")]
    pub measured_at: OffsetDateTime,
}
