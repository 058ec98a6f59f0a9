//! `GET /api/health`: each channel's provider and mode, the store, and the version. Always 200.

use http::StatusCode;
use serde::Serialize;

use super::super::response;
use super::super::route::{Endpoint, Reply, Route};
use crate::app::Health;

pub const HEALTH: Endpoint = Endpoint {
    route: Route::Health,
    caller_check: None,
    handler: |app, _, context| {
        Box::pin(async move {
            #[derive(Serialize)]
            struct Answer<'a> {
                success: bool,
                #[serde(flatten)]
                health: Health<'a>,
            }
            let health = app.health_checked().await;
            Ok(Reply::from(response::json(
                &context.request_id,
                StatusCode::OK,
                &Answer {
                    success: true,
                    health,
                },
            )))
        })
    },
};
