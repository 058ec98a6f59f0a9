//! `GET /api/cron/dispatch`: the dispatcher, called by Vercel Cron every minute (or by any
//! scheduler) with `Authorization: Bearer $CRON_SECRET`. Forwards the events that are due and
//! sweeps what has outlived its retention, then says what it did.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;

use super::super::route::{Endpoint, Reply, Route};
use super::super::{pipeline, response};
use crate::app::Dispatched;

pub const DISPATCH: Endpoint = Endpoint {
    route: Route::Dispatch,
    caller_check: Some(pipeline::check_cron),
    handler: |app, _, context| {
        Box::pin(async move {
            let dispatched = app.dispatch().await?;
            Ok(Reply::from(response::json(
                &context.request_id,
                StatusCode::OK,
                &DispatchAnswer::from(&dispatched),
            )))
        })
    },
};

/// What a dispatcher call did; `more` when work was left for the next call.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(in crate::http) struct DispatchAnswer {
    #[schemars(extend("const" = true))]
    success: bool,
    /// Scheduled sends that were due and went.
    scheduled_sent: u64,
    /// Delivery events the practice app accepted.
    delivered: u64,
    /// Refused or unreachable this time, tried again later.
    retrying: u64,
    /// Refused through the whole schedule: marked failed, and kept.
    failed: u64,
    swept: SweptAnswer,
    /// Whether work was left for the next call.
    more: bool,
}

/// What outlived its retention and was removed, by kind.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Swept")]
pub(in crate::http) struct SweptAnswer {
    idempotency_keys: u64,
    limits: u64,
    messages: u64,
    orphan_events: u64,
    audit_lines: u64,
}

impl From<&Dispatched> for DispatchAnswer {
    fn from(done: &Dispatched) -> Self {
        let swept = &done.swept;
        Self {
            success: true,
            scheduled_sent: done.scheduled_sent,
            delivered: done.delivered,
            retrying: done.retrying,
            failed: done.failed,
            swept: SweptAnswer {
                idempotency_keys: swept.idempotency_keys,
                limits: swept.limits,
                messages: swept.messages,
                orphan_events: swept.orphan_events,
                audit_lines: swept.audit_lines,
            },
            more: done.more,
        }
    }
}
