//! `GET /api/health`: each channel's provider and mode, the store, and the version. Always 200.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;

use super::super::health::{self, Health};
use super::super::response;
use super::super::route::{Endpoint, Reply, Route};

pub const HEALTH: Endpoint = Endpoint {
    route: Route::Health,
    caller_check: None,
    handler: |app, _, context| {
        Box::pin(async move {
            let health = health::checked(app).await;
            Ok(Reply::from(response::json(
                &context.request_id,
                StatusCode::OK,
                &HealthAnswer {
                    success: true,
                    health,
                },
            )))
        })
    },
};

/// Each channel's provider and mode, the version, and which safeguards are set (never a value);
/// `status` is `degraded` when something is misconfigured.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Health")]
pub(in crate::http) struct HealthAnswer<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    #[serde(flatten)]
    health: Health<'a>,
}
