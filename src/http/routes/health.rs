//! `GET /api/health`: each channel's provider and mode, the store, and the version. Always 200.

use http::StatusCode;

use super::super::response;
use super::super::route::{Endpoint, Reply, Route};

pub const HEALTH: Endpoint = Endpoint {
    route: Route::Health,
    caller_check: None,
    handler: |app, _, context| {
        Box::pin(async move {
            Ok(Reply::from(response::json(
                &context.request_id,
                StatusCode::OK,
                &app.health_checked().await,
            )))
        })
    },
};
