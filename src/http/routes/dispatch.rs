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
                &DispatchAnswer {
                    success: true,
                    dispatched,
                },
            )))
        })
    },
};

/// What a dispatcher call did; `more` when work was left for the next call.
#[derive(Serialize, JsonSchema)]
pub(in crate::http) struct DispatchAnswer {
    #[schemars(extend("const" = true))]
    success: bool,
    #[serde(flatten)]
    dispatched: Dispatched,
}
