//! `GET /api/cron/dispatch`: the dispatcher, called by Vercel Cron every minute (or by any
//! scheduler) with `Authorization: Bearer $CRON_SECRET`. Forwards the events that are due and
//! sweeps what has outlived its retention, then says what it did.

use http::StatusCode;
use serde::Serialize;

use super::super::route::{Endpoint, Reply, Route};
use super::super::{pipeline, response};
use crate::app::Dispatched;

pub const DISPATCH: Endpoint = Endpoint {
    route: Route::Dispatch,
    caller_check: Some(pipeline::check_cron),
    handler: |app, _, context| {
        Box::pin(async move {
            #[derive(Serialize)]
            struct Answer {
                success: bool,
                #[serde(flatten)]
                dispatched: Dispatched,
            }
            let dispatched = app.dispatch().await?;
            Ok(Reply::from(response::json(
                &context.request_id,
                StatusCode::OK,
                &Answer {
                    success: true,
                    dispatched,
                },
            )))
        })
    },
};
