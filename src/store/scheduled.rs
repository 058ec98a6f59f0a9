//! What goes in and out of a store for scheduled sends: the sealed request waiting for its
//! time, a change asked of it, and the figures health shows.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::names::ScheduledRoute;

/// A send to run at `send_at`: the request as its route takes it, sealed by the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledSend {
    pub id: String,
    pub route: ScheduledRoute,
    pub send_at: OffsetDateTime,
    /// Sealed (see `support::Sealer`), never in the clear.
    pub content: Vec<u8>,
    pub caller: String,
    pub request_id: String,
    /// The log's message of each channel it sends on.
    pub email_id: Option<String>,
    pub sms_id: Option<String>,
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledHealth {
    pub waiting: u64,
    pub next_due_at: Option<String>,
}
