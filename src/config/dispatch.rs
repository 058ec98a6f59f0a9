//! The dispatcher's settings: the secret its caller (Vercel Cron, or any scheduler) presents,
//! how long the message log and the audit trail are kept, `cargo run`'s timer, and the pace
//! of batch sends.

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
    pub pace: PaceConfig,
}

/// How fast batch sends may go (single sends are never paced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaceConfig {
    /// `NOTIFY_SES_MAX_SEND_RATE`: the account's maximum send rate (recipients per second);
    /// without it, read from SES (`GetAccount`) once per instance.
    pub ses_max_send_rate: Option<u32>,
    /// `NOTIFY_TWILIO_MPS`, default 1: messages per second the sender takes (a long code 1,
    /// toll-free 3 and up, a short code 100).
    pub twilio_mps: u32,
    /// `NOTIFY_BATCH_SHARE_PERCENT`, default 80: the share of each rate batches may use, the
    /// rest being left to single sends.
    pub batch_share_percent: u32,
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
        pace: PaceConfig {
            ses_max_send_rate: vars.get("NOTIFY_SES_MAX_SEND_RATE").map(|_| {
                read_number(vars, "NOTIFY_SES_MAX_SEND_RATE", 1, 1..=100_000, invalid) as u32
            }),
            twilio_mps: read_number(vars, "NOTIFY_TWILIO_MPS", 1, 1..=10_000, invalid) as u32,
            batch_share_percent: read_number(
                vars,
                "NOTIFY_BATCH_SHARE_PERCENT",
                80,
                1..=100,
                invalid,
            ) as u32,
        },
    }
}
