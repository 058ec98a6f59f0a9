//! What each route takes and answers, as the description says it: one entry per route (the
//! match is exhaustive, so a new route cannot go undescribed), its types named, its prose here.

mod log;
mod sends;
mod service;
mod suppressions;

use crate::names::Permission;
use serde_json::{Value, json};

use super::super::Route;
use super::Schemas;

/// One operation: a method on a path.
pub(super) struct Operation {
    pub path: &'static str,
    pub method: &'static str,
    id: &'static str,
    summary: &'static str,
    access: Access,
    parameters: Vec<Value>,
    body: Option<Value>,
    answers: Vec<(u16, Value)>,
    /// The error statuses it may answer (each a shared answer listing its codes).
    pub errors: Vec<u16>,
}

/// Who may call it.
#[derive(Clone, Copy)]
enum Access {
    /// The send routes and the message log: an API key or a browser JWT with the permission,
    /// or nothing where the deployment allows it (demo mode).
    Caller(Permission),
    /// A patient's choices: as `Caller`, or the preference page's signed link.
    CallerOrPatient(Permission),
    /// The audit export: API keys with `manage` only.
    ApiKey,
    Cron,
    Anyone,
}

const SEND_ERRORS: &[u16] = &[400, 401, 403, 405, 409, 413, 415, 422, 429, 502, 503, 504];
const READ_ERRORS: &[u16] = &[400, 401, 403, 405, 503];

const SCHEDULED: &str = "Scheduled: kept (sealed) until sendAt, or deferred by quiet hours to the \
    window's end (deferredUntil), then sent by the dispatcher through this same route.";

/// The operations of one route.
pub(super) fn of(route: Route, schemas: &mut Schemas) -> Vec<Operation> {
    match route {
        Route::SendEmail => sends::send_email(schemas),
        Route::SendSms => sends::send_sms(schemas),
        Route::SendNotification => sends::send_notification(schemas),
        Route::Batch => sends::batch(schemas),
        Route::Batches => sends::batches(schemas),
        Route::Templates => service::templates(schemas),
        Route::Preview => service::preview(schemas),
        Route::Health => service::health(schemas),
        Route::OpenApi => service::open_api(schemas),
        Route::TwilioWebhook => service::twilio_webhook(schemas),
        Route::SesWebhook => service::ses_webhook(schemas),
        Route::Messages => log::messages(schemas),
        Route::MessageStats => log::message_stats(schemas),
        Route::Audit => log::audit(schemas),
        Route::Events => log::events(schemas),
        Route::Suppressions => suppressions::suppressions(schemas),
        Route::Preferences => suppressions::preferences(schemas),
        Route::Unsubscribe => suppressions::unsubscribe(schemas),
        Route::Dispatch => service::dispatch(schemas),
    }
}

/// A list of statuses with some more, in order.
fn with(statuses: &[u16], more: &[u16]) -> Vec<u16> {
    let mut all = [statuses, more].concat();
    all.sort_unstable();
    all
}

impl Operation {
    pub(super) fn to_json(&self) -> Value {
        let mut responses = serde_json::Map::new();
        for (status, answer) in &self.answers {
            responses.insert(status.to_string(), answer.clone());
        }
        for &status in &self.errors {
            responses.insert(
                status.to_string(),
                json!({"$ref": format!("#/components/responses/{}", super::error_name(status))}),
            );
        }
        let mut operation = json!({
            "operationId": self.id,
            "summary": self.summary,
            "responses": responses,
        });
        if !self.parameters.is_empty() {
            operation["parameters"] = json!(self.parameters);
        }
        if let Some(body) = &self.body {
            operation["requestBody"] = body.clone();
        }
        let security = match self.access {
            // OpenAPI 3.1 lets a scheme's list name the roles it needs: the permission.
            Access::Caller(needed) => {
                let needed = needed.as_str();
                json!([{"apiKey": [needed]}, {"browserToken": [needed]}, {}])
            }
            Access::CallerOrPatient(needed) => {
                let needed = needed.as_str();
                json!([{"apiKey": [needed]}, {"browserToken": [needed]}, {"patientLink": []}, {}])
            }
            Access::ApiKey => json!([{"apiKey": ["manage"]}, {}]),
            Access::Cron => json!([{"cronSecret": []}]),
            Access::Anyone => Value::Null,
        };
        if !security.is_null() {
            operation["security"] = security;
        }
        operation
    }
}

/// A JSON answer with its schema; `replayable` when an Idempotency-Key's replay answers it too.
fn json_answer(description: &str, schema: Value, replayable: bool) -> Value {
    let mut headers = request_id();
    if replayable {
        headers["idempotency-replayed"] =
            json!({"$ref": "#/components/headers/IdempotencyReplayed"});
    }
    json!({
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": schema}},
    })
}

fn request_id() -> Value {
    json!({"x-request-id": {"$ref": "#/components/headers/RequestId"}})
}

fn json_body(schema: Value, example: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema, "example": example}}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    let mut parameter = json!({"name": name, "in": "query", "required": false, "schema": schema});
    if !description.is_empty() {
        parameter["description"] = description.into();
    }
    parameter
}

fn date_time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn limit(default: u16, max: u16) -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": max, "default": default})
}

/// An operation of `route` with nothing in or out yet.
fn op(
    route: Route,
    method: &'static str,
    id: &'static str,
    summary: &'static str,
    access: Access,
) -> Operation {
    Operation {
        path: route.path(),
        method,
        id,
        summary,
        access,
        parameters: Vec::new(),
        body: None,
        answers: Vec::new(),
        errors: vec![405],
    }
}

fn idempotency_key() -> Value {
    json!({"$ref": "#/components/parameters/IdempotencyKey"})
}

/// `since` and `until`, bounding `what`.
fn since_until(what: &str) -> Vec<Value> {
    vec![
        query(
            "since",
            &format!("{what} at or after (RFC 3339 with an offset)"),
            date_time(),
        ),
        query(
            "until",
            &format!("{what} before (RFC 3339 with an offset)"),
            date_time(),
        ),
    ]
}
