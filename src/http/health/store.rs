//! The store's part of health's report: which store keeps state, whether it answers, its
//! schema version and what waits in it; what to fix.

use serde::Serialize;

use crate::app::App;
use crate::config::StoreConfig;
use crate::error::FieldError;
use crate::store::{OutboxHealth, ScheduledHealth, StoreHealth};

pub(super) fn store_report(app: &App, check: StoreHealth) -> StoreReport<'_> {
    const MEMORY_ON_VERCEL: &str = "Live channels run on the memory store: idempotency keys, \
        the message log and the limits hold per function instance only. Set DATABASE_URL (Neon \
        through the Vercel Marketplace) to share them.";
    let config = app.config();
    let (missing, invalid): (&[String], &[FieldError]) = match &config.store {
        StoreConfig::Misconfigured(m) => (&m.missing, &m.invalid),
        _ => (&[], &[]),
    };
    let on_memory = matches!(config.store, StoreConfig::Memory);
    StoreReport {
        kind: config.store.kind(),
        check: StoreCheck::from(check),
        missing,
        invalid,
        warning: (config.on_vercel && on_memory && app.has_live_channel())
            .then_some(MEMORY_ON_VERCEL),
    }
}

/// Which store keeps state, whether it answers and its schema version; what to fix.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct StoreReport<'a> {
    pub kind: crate::names::StoreKind,
    #[serde(flatten)]
    pub check: StoreCheck,
    pub missing: &'a [String],
    pub invalid: &'a [FieldError],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<&'static str>,
}

/// Whether the store answered, its schema version, and what waits in it (counts and ages,
/// never an event's or a message's contents).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoreCheck {
    pub reachable: bool,
    pub schema_version: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Delivery events waiting to be forwarded, the oldest one's age, those given up on, and
    /// the last dispatch; when the store answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxCheck>,
    /// Scheduled sends waiting, and the next one due; when the store answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<ScheduledCheck>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxCheck {
    pub waiting: u64,
    pub oldest_waiting_seconds: Option<u64>,
    pub failed: u64,
    #[schemars(extend("format" = "date-time"))]
    pub last_dispatch_at: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledCheck {
    pub waiting: u64,
    #[schemars(extend("format" = "date-time"))]
    pub next_due_at: Option<String>,
}

impl From<StoreHealth> for StoreCheck {
    fn from(check: StoreHealth) -> Self {
        Self {
            reachable: check.reachable,
            schema_version: check.schema_version,
            problem: check.problem,
            outbox: check.outbox.map(|o: OutboxHealth| OutboxCheck {
                waiting: o.waiting,
                oldest_waiting_seconds: o.oldest_waiting_seconds,
                failed: o.failed,
                last_dispatch_at: o.last_dispatch_at,
            }),
            scheduled: check.scheduled.map(|s: ScheduledHealth| ScheduledCheck {
                waiting: s.waiting,
                next_due_at: s.next_due_at,
            }),
        }
    }
}
