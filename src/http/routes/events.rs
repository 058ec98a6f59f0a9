//! `GET /api/events?after=<event id>&limit=`: delivery events in the order they were kept,
//! each the JSON it is forwarded as, so a practice app can catch up after an outage without
//! waiting for redelivery. Credentials as for the message log.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;

use super::super::query::Query;
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{pipeline, response};
use crate::app::{App, RequestContext};
use crate::error::{Error, FieldError};

pub const EVENTS: Endpoint = Endpoint {
    route: Route::Events,
    caller_check: Some(pipeline::check_reader_or_sender),
    handler: |app, incoming, context| Box::pin(events(app, incoming, context)),
};

pub(in crate::http) const DEFAULT_LIMIT: u16 = 100;
pub(in crate::http) const MAX_LIMIT: u16 = 1000;
/// The query parameters it takes (the description lists the same).
pub(in crate::http) const PARAMETERS: &[&str] = &["after", "limit"];

async fn events(app: &App, incoming: Incoming, context: &RequestContext) -> Result<Reply, Error> {
    let query = Query::parse(&incoming, PARAMETERS)?;
    let mut problems = Vec::new();
    let limit = query
        .parsed(
            "limit",
            |l| l.parse().ok().filter(|l| (1..=MAX_LIMIT).contains(l)),
            "a whole number from 1 to 1000",
            &mut problems,
        )
        .unwrap_or(DEFAULT_LIMIT);
    if !problems.is_empty() {
        return Err(Error::invalid_fields(problems));
    }
    let after = query.get("after");
    let Some(page) = app.events(after, limit).await? else {
        return Err(Error::invalid_fields(vec![FieldError::new(
            "after",
            "is not the id of a kept event (it may have passed retention); start without it",
        )]));
    };
    let body = Page {
        success: true,
        events: &page.events,
        more: page.more,
    };
    Ok(Reply::from(response::json(
        &context.request_id,
        StatusCode::OK,
        &body,
    )))
}

/// A delivery event, or a practice event (a suppression, a preference, the reputation guard).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum AnyEvent {
    Delivery(crate::webhooks::EventPayload<'static>),
    Practice(crate::webhooks::PracticePayload<'static, serde_json::Map<String, serde_json::Value>>),
}

/// Delivery and practice events in the order they were kept, each as it is forwarded.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "EventPage")]
pub(in crate::http) struct Page<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    #[schemars(with = "Vec<AnyEvent>")]
    events: &'a [serde_json::Value],
    /// Whether more events follow: ask again with the last one's `data.id` as `after`.
    more: bool,
}
