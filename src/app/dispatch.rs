//! The dispatcher: each call forwards the delivery events that are due (in order per message,
//! never one twice however many dispatchers run), sweeps what has outlived its retention and
//! measures the reputation guard, within a bounded time. Vercel Cron (or any scheduler) calls it; `cargo run` runs it on a timer.

use std::time::{Duration, Instant};

use serde::Serialize;
use time::OffsetDateTime;

use super::App;
use crate::error::Error;
use crate::store::{Forwarding, Outgoing, Settled, Store, Sweep, Swept};
use crate::support::HttpClient;
use crate::webhooks::{EventsTarget, retry_after};

/// Events leased at a time: each batch is attempted at once (one event per message, so order
/// holds), then settled in one store call.
const BATCH: u16 = 50;
/// How long a dispatcher holds the events it leased: far longer than an attempt may take, so
/// that only a dispatcher that died leaves its events to the next.
const LEASE: Duration = Duration::from_secs(60);
/// When a dispatch stops leasing more: with one more batch's attempts (4 s at most) and the
/// sweep, it ends well inside the function's `maxDuration` (60 s in vercel.json). What is
/// left is the next call's, and the answer says so (`more`).
const BUDGET: Duration = Duration::from_secs(40);
/// Rows of each kind one sweep removes at most.
const SWEEP_ROWS: u32 = 1_000;

/// What one dispatch did (its JSON is the summary the store stamps the dispatch with; the
/// answer's is the adapter's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dispatched {
    /// Scheduled sends that were due and went.
    pub scheduled_sent: u64,
    pub delivered: u64,
    /// Refused or unreachable this time, tried again later.
    pub retrying: u64,
    /// Refused through the whole schedule: marked failed, and kept.
    pub failed: u64,
    pub swept: Swept,
    /// Whether work was left for the next call.
    pub more: bool,
}

impl App {
    /// Sends the scheduled sends that are due, then forwards the events that are due, then
    /// sweeps.
    pub async fn dispatch(&self) -> Result<Dispatched, Error> {
        let started = Instant::now();
        let mut report = Dispatched::default();
        let (sent, more) = self.send_due(None, BUDGET / 2, Duration::ZERO).await?;
        report.scheduled_sent = sent;
        report.more = more;
        if let Some(target) = &self.events {
            // What the scheduled sends (a batch's paced ones may take all of theirs) left.
            let left = BUDGET.saturating_sub(started.elapsed());
            forward_due(target, &self.http, self.store(), left, &mut report).await?;
        }
        let retention = &self.config.dispatch;
        let now = OffsetDateTime::now_utc();
        let sweep = Sweep {
            audit_before: now - retention.audit_retention,
            messages_before: now - retention.message_retention,
            max_rows: SWEEP_ROWS,
        };
        let summary = serde_json::to_string(&report).unwrap_or_else(|_| "{}".into());
        report.swept = self.store().sweep(&sweep, &summary).await?;
        self.measure_reputation().await?;
        let swept = &report.swept;
        report.more |= [
            swept.idempotency_keys,
            swept.limits,
            swept.messages,
            swept.orphan_events,
            swept.audit_lines,
        ]
        .contains(&u64::from(SWEEP_ROWS));
        // `cargo run` dispatches every few seconds: a line only when there was something to do.
        if !report.is_idle() {
            tracing::info!(
                scheduled_sent = report.scheduled_sent,
                delivered = report.delivered,
                retrying = report.retrying,
                failed = report.failed,
                swept = ?report.swept,
                more = report.more,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "dispatched"
            );
        }
        Ok(report)
    }
}

impl Dispatched {
    /// Whether the dispatch found nothing to send, forward or sweep.
    pub fn is_idle(&self) -> bool {
        self == &Self::default()
    }
}

/// Forwards the events that are due, a batch at a time, until none is left or `budget` is
/// spent (then `report.more`).
pub(super) async fn forward_due(
    target: &EventsTarget,
    http: &HttpClient,
    store: &dyn Store,
    budget: Duration,
    report: &mut Dispatched,
) -> Result<(), Error> {
    let started = Instant::now();
    loop {
        let due = store.due_events(BATCH, LEASE).await?;
        if due.is_empty() {
            return Ok(());
        }
        let settled = attempt_all(target, http, due).await;
        report.count(&settled);
        store.settle(&settled).await?;
        if started.elapsed() >= budget {
            report.more = true;
            return Ok(());
        }
    }
}

impl Dispatched {
    pub(super) fn count(&mut self, settled: &[Settled]) {
        for outcome in settled {
            match outcome.forward {
                Forwarding::Delivered => self.delivered += 1,
                Forwarding::Pending => self.retrying += 1,
                Forwarding::Failed => self.failed += 1,
            }
        }
    }
}

/// Attempts each event at once (they belong to different messages) and says how each ended.
pub(super) async fn attempt_all(
    target: &EventsTarget,
    http: &HttpClient,
    due: Vec<Outgoing>,
) -> Vec<Settled> {
    let mut attempts = tokio::task::JoinSet::new();
    for outgoing in due {
        let (target, http) = (target.clone(), http.clone());
        attempts.spawn(async move {
            let result = target.attempt(&http, &outgoing.id, &outgoing.payload).await;
            settled(outgoing, result)
        });
    }
    attempts.join_all().await
}

fn settled(outgoing: Outgoing, result: Result<(), String>) -> Settled {
    let (forward, next_at, error) = match result {
        Ok(()) => (Forwarding::Delivered, None, None),
        Err(reason) => match retry_after(outgoing.attempts + 1) {
            Some(wait) => {
                tracing::warn!(event_id = %outgoing.id, reason = %reason, attempt = outgoing.attempts + 1, retry_in_s = wait.as_secs(), "the events receiver did not accept an event; it is tried again later");
                (
                    Forwarding::Pending,
                    Some(OffsetDateTime::now_utc() + wait),
                    Some(reason),
                )
            }
            None => {
                tracing::error!(event_id = %outgoing.id, reason = %reason, attempts = outgoing.attempts + 1, "an event was refused through its whole retry schedule; it is marked failed and kept (GET /api/events still serves it)");
                (Forwarding::Failed, None, Some(reason))
            }
        },
    };
    Settled {
        id: outgoing.id,
        attempts: outgoing.attempts,
        forward,
        next_at,
        error,
    }
}
