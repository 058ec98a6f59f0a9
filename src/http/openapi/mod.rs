//! The OpenAPI 3.1 description (`docs/openapi.json`), generated from the code: the request and
//! answer types give the schemas (schemars), the routes table gives the paths, the error codes
//! give the error answers, and `operations.rs` says per route what goes in and comes out. Only
//! the contract test calls [`document`] (it writes and checks the committed file that
//! `/api/openapi` serves), so no function links any of it.

mod operations;

use std::collections::BTreeMap;

use http::StatusCode;
use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::Route;
use super::response::ErrorBody;
use crate::error::ErrorCode;

const SCHEMAS: &str = "#/components/schemas/";

/// The whole description, as `docs/openapi.json` holds it.
pub fn document() -> Value {
    let mut schemas = Schemas::new();
    // Every error answer's body.
    schemas.answer::<ErrorBody>();
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    let mut statuses = Vec::new();
    for &route in Route::ALL {
        for operation in operations::of(route, &mut schemas) {
            statuses.extend_from_slice(&operation.errors);
            paths
                .entry(operation.path)
                .or_default()
                .insert(operation.method.into(), operation.to_json());
        }
    }
    statuses.sort_unstable();
    statuses.dedup();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Practice notification API",
            "version": env!("CARGO_PKG_VERSION"),
            "license": {"name": "MIT", "identifier": "MIT"},
            "description": "Email (AWS SES v2) and SMS (Twilio) notifications for a healthcare \
                practice, as Vercel functions. Without provider credentials a channel is in demo \
                mode: sends are logged and answered with demo: true. Every answer carries its \
                request id as x-request-id (and requestId in JSON).",
        },
        "servers": [{"url": "http://localhost:3000", "description": "cargo run"}],
        "paths": paths,
        "components": {
            "schemas": schemas.finish(),
            "responses": statuses.iter().map(|&s| (error_name(s), error_answer(s))).collect::<Map<_, _>>(),
            "headers": {
                "RequestId": {
                    "description": "This request's id, also in the audit trail.",
                    "schema": {"type": "string"},
                },
                "IdempotencyReplayed": {
                    "description": "true when this is the first answer to the request's \
                        Idempotency-Key, answered again",
                    "schema": {"type": "string", "enum": ["true"]},
                },
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": false,
                    "description": "1 to 255 printable ASCII characters, scoped to the caller \
                        and kept 24 hours. The same key with the same request answers the first \
                        answer again (Idempotency-Replayed: true) without sending; while the \
                        first still runs, 409 idempotency_in_progress; with a different request, \
                        422 idempotency_key_reused.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
                },
            },
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A key from NOTIFY_API_KEYS, for the practice's servers: \
                        every permission (send, read, manage), or those its entry names \
                        (key:read+manage). Sending needs it on live channels unless \
                        NOTIFY_ALLOW_UNAUTHENTICATED=1; reading and managing on live channels \
                        or with a database. Each operation names the permission it needs.",
                },
                "browserToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A short-lived HS256 JWT (exp required) signed by the \
                        practice app with NOTIFY_JWT_SECRET, for browsers. Its permissions are \
                        its scope claim, space-separated (\"read manage\"); without scope it \
                        may only send.",
                },
                "patientLink": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Patient-Link",
                    "description": "The token of a preference page link (NOTIFY_LINK_KEY), which \
                        the page reads from its URL fragment: it names the patient, and lets \
                        them read and change their own choices only (not consent).",
                },
                "cronSecret": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "CRON_SECRET, which Vercel Cron sends to the dispatcher (or \
                        any scheduler given it).",
                },
            },
        },
    })
}

/// The schemas of what callers send and of what the API answers. Requests are read (serde's
/// deserialising rules decide what is required), answers written (its serialising rules).
pub(super) struct Schemas {
    read: SchemaGenerator,
    write: SchemaGenerator,
}

impl Schemas {
    fn new() -> Self {
        let settings = |contract| {
            SchemaSettings::draft2020_12().with(|s| {
                s.definitions_path = "/components/schemas".into();
                s.meta_schema = None;
                s.contract = contract;
            })
        };
        Self {
            read: settings(Contract::Deserialize).into_generator(),
            write: settings(Contract::Serialize).into_generator(),
        }
    }

    /// A request body's schema (a reference to its component).
    pub(super) fn request<T: JsonSchema>(&mut self) -> Value {
        self.read.subschema_for::<T>().to_value()
    }

    /// A JSON answer's schema: the type's, with the `requestId` every JSON answer carries.
    pub(super) fn answer<T: JsonSchema>(&mut self) -> Value {
        let body = self.write.subschema_for::<T>().to_value();
        json!({"allOf": [body, {"$ref": format!("{SCHEMAS}RequestId")}]})
    }

    /// Every component. A request field may be `null` for absent (serde reads it so), but the
    /// description leaves `null` out, so a typed client sends a field or leaves it out. An
    /// answer's field that is left out when empty (`skip_serializing_if`) is never `null`.
    fn finish(mut self) -> Map<String, Value> {
        let mut all: Map<String, Value> = self.write.take_definitions(true);
        all.values_mut()
            .for_each(|schema| walk(schema, &mut absent_not_null));
        for (name, mut schema) in self.read.take_definitions(true) {
            walk(&mut schema, &mut not_null);
            if let Some(written) = all.get(&name) {
                assert_eq!(
                    written, &schema,
                    "{name} is both read and written, differently"
                );
            }
            all.insert(name, schema);
        }
        all.values_mut()
            .for_each(|schema| walk(schema, &mut one_line_paragraphs));
        all.insert(
            "RequestId".into(),
            json!({
                "type": "object",
                "required": ["requestId"],
                "properties": {"requestId": {
                    "type": "string",
                    "description": "This request's id, as the x-request-id header says it.",
                }},
            }),
        );
        all
    }
}

/// Applies `change` to every object below `value`, outermost first.
fn walk(value: &mut Value, change: &mut impl FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(object) => {
            change(object);
            object.values_mut().for_each(|v| walk(v, change));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, change)),
        _ => {}
    }
}

/// Takes `null` out of this schema's type list or `anyOf`.
fn not_null(schema: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            schema.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(options)) = schema.get_mut("anyOf") {
        options.retain(|o| o != &json!({"type": "null"}));
        if options.len() == 1
            && let Some(Value::Object(only)) = options.pop()
        {
            schema.remove("anyOf");
            schema.extend(only);
        }
    }
}

/// An object's properties that may be left out are not `null` when present: serde leaves out
/// only what `skip_serializing_if` says (no answer flattens an `Option`, which would break
/// this).
fn absent_not_null(schema: &mut Map<String, Value>) {
    let required = schema.get("required").cloned().unwrap_or_default();
    let required = required.as_array().map(Vec::as_slice).unwrap_or_default();
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            if let Value::Object(property) = property
                && !required.iter().any(|r| r == name.as_str())
            {
                not_null(property);
            }
        }
    }
}

/// A doc comment's lines run on, as the paragraph they are.
fn one_line_paragraphs(schema: &mut Map<String, Value>) {
    if let Some(Value::String(text)) = schema.get_mut("description") {
        *text = text
            .split("\n\n")
            .map(|paragraph| {
                paragraph
                    .split('\n')
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n\n");
    }
}

/// The component name of the error answer with this status: its reason phrase, one word.
fn error_name(status: u16) -> String {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
        .replace([' ', '-'], "")
}

/// An error answer: what the status means here, and every code it carries (from the codes'
/// own table, so a new code is listed under its status by itself).
fn error_answer(status: u16) -> Value {
    let codes: Vec<&str> = ErrorCode::ALL
        .iter()
        .filter(|c| c.status() == status)
        .map(|c| c.as_str())
        .collect();
    let meaning = match status {
        400 => "Malformed JSON, invalid fields or parameters, or an invalid Idempotency-Key.",
        401 => "Credentials missing or wrong where they are needed.",
        403 => {
            "Credentials without the permission this operation needs (the code names it), a \
             browser origin that is not allowed, or a webhook whose signature does not verify \
             or that this deployment is not set up to verify."
        }
        404 => "No such template, or no message in the log with this id (ours or the provider's).",
        405 => "Wrong method.",
        409 => {
            "A request with this Idempotency-Key is still running (retry after Retry-After), or \
             a scheduled message is no longer waiting."
        }
        413 => "The body is over 4.5 MB, or the attachments over 3 MiB decoded.",
        415 => "The body was not sent as JSON.",
        422 => {
            "The provider refused this message or recipient (do not resend it as is), or an \
             Idempotency-Key was reused with a different request."
        }
        429 => "Throttled by the provider or by this API's limits; retry after Retry-After.",
        502 => "The provider failed or could not be reached.",
        503 => {
            "This deployment cannot do it until its set-up is fixed, or the message store is \
             unavailable: nothing was sent."
        }
        504 => "The provider did not answer in time: the message may or may not have gone.",
        _ => "An error.",
    };
    let mut headers = json!({"x-request-id": {"$ref": "#/components/headers/RequestId"}});
    match status {
        405 => {
            headers["Allow"] = json!({
                "description": "the methods this route accepts",
                "schema": {"type": "string"},
            })
        }
        409 | 429 => {
            headers["Retry-After"] = json!({
                "description": "seconds to wait (409: only while the first request runs)",
                "schema": {"type": "integer", "minimum": 1},
            })
        }
        _ => {}
    }
    json!({
        "description": format!("{meaning} Codes: {}.", codes.join(", ")),
        "headers": headers,
        "content": {"application/json": {"schema": {
            "allOf": [{"$ref": format!("{SCHEMAS}Error")}, {"$ref": format!("{SCHEMAS}RequestId")}],
        }}},
    })
}

#[cfg(test)]
mod tests {
    use super::super::routes::contract::{
        audit, events, messages, preferences, suppressions, unsubscribe,
    };
    use super::*;

    fn query_parameters(doc: &Value, path: &str) -> Vec<String> {
        parameters_of(doc, path, "get")
    }

    fn parameters_of(doc: &Value, path: &str, method: &str) -> Vec<String> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn each_read_route_documents_exactly_the_query_parameters_it_takes() {
        let doc = document();
        let without_id: Vec<&str> = messages::LIST_PARAMETERS
            .iter()
            .copied()
            .filter(|p| *p != "id")
            .collect();
        for (path, taken) in [
            ("/api/messages", without_id.as_slice()),
            ("/api/messages/stats", messages::STATS_PARAMETERS),
            ("/api/events", events::PARAMETERS),
            ("/api/audit", audit::PARAMETERS),
            ("/api/preferences", preferences::PARAMETERS),
            ("/api/unsubscribe", unsubscribe::PARAMETERS),
        ] {
            let mut documented = query_parameters(&doc, path);
            let mut taken: Vec<String> = taken.iter().map(|p| p.to_string()).collect();
            documented.sort();
            taken.sort();
            assert_eq!(documented, taken, "{path}");
        }
        // The list's filters, and the lift's `force`.
        let mut documented = query_parameters(&doc, "/api/suppressions");
        documented.extend(parameters_of(&doc, "/api/suppressions/{id}", "delete"));
        documented.sort();
        let mut taken: Vec<String> = suppressions::PARAMETERS
            .iter()
            .filter(|p| **p != "id")
            .map(|p| p.to_string())
            .collect();
        taken.sort();
        assert_eq!(documented, taken);
    }

    #[test]
    fn every_error_status_an_operation_names_lists_its_codes() {
        let doc = document();
        for (name, answer) in doc["components"]["responses"].as_object().unwrap() {
            let description = answer["description"].as_str().unwrap();
            assert!(description.contains("Codes: "), "{name}: {description}");
            assert!(!description.ends_with("Codes: ."), "{name} lists no code");
        }
    }
}
