//! The dispatcher's settings: the secret its caller (Vercel Cron, or any scheduler) presents,
//! how long the message log and the audit trail are kept, and `cargo run`'s timer.

use std::time::Duration;

use super::Secret;
use super::vars::{Vars, read_number, read_secret};
use crate::error::FieldError;

const DAY: Duration = Duration::from_secs(86_400);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchConfig {
    /// `CRON_SECRET`: Vercel Cron sends it as `Authorization: Bearer <secret>`. Without it the
    /// dispatcher answers 503: it is never open.
    pub cron_secret: Option<Secret>,
    /// `NOTIFY_AUDIT_RETENTION_DAYS`, default 2,190 (six years, as HIPAA asks of documentation).
    pub audit_retention: Duration,
    /// `NOTIFY_MESSAGE_RETENTION_DAYS`, default 400: a year of history and a margin.
    pub message_retention: Duration,
    /// `NOTIFY_DISPATCH_INTERVAL_SECONDS`, default 10, 0 for never: how often the local server
    /// of `cargo run` dispatches by itself. Functions never do (Vercel Cron calls them).
    pub local_interval: Option<Duration>,
}

pub(super) fn read_dispatch(vars: &Vars, invalid: &mut Vec<FieldError>) -> DispatchConfig {
    let days = |name, default, invalid: &mut Vec<FieldError>| {
        read_number(vars, name, default, 1..=36_500, invalid) as u32 * DAY
    };
    let interval = read_number(
        vars,
        "NOTIFY_DISPATCH_INTERVAL_SECONDS",
        10,
        0..=3_600,
        invalid,
    );
    DispatchConfig {
        // Vercel's guide asks for at least 16 random characters.
        cron_secret: read_secret(vars, "CRON_SECRET", 16, invalid),
        audit_retention: days("NOTIFY_AUDIT_RETENTION_DAYS", 2_190, invalid),
        message_retention: days("NOTIFY_MESSAGE_RETENTION_DAYS", 400, invalid),
        local_interval: (interval > 0).then(|| Duration::from_secs(interval)),
    }
}
