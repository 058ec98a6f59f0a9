//! Building answers: the one place where an error becomes its HTTP answer, where JSON answers
//! get their content type and `requestId`, and where every answer gets its `x-request-id`.

use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use serde::Serialize;

use super::ResponseBody;
use crate::error::{Attempt, DeclinedRecipient, Error, ErrorCode, FieldError, SuppressedRecipient};
use crate::names::{DeclineRule, Provider, SuppressionReason};
use crate::store::StoredAnswer;

/// A JSON answer; every one carries the request's id as `requestId`.
pub fn json(request_id: &str, status: StatusCode, body: &impl Serialize) -> Response<ResponseBody> {
    json_bytes(status, json_body(request_id, body))
}

/// The JSON body of an answer, with `requestId`.
fn json_body(request_id: &str, body: &impl Serialize) -> Vec<u8> {
    #[derive(Serialize)]
    struct WithRequestId<'a, T> {
        #[serde(flatten)]
        body: &'a T,
        #[serde(rename = "requestId")]
        request_id: &'a str,
    }
    let body = WithRequestId { body, request_id };
    serde_json::to_vec(&body).unwrap_or_else(|_| {
        br#"{"success":false,"error":"The answer could not be encoded.","code":"internal_error"}"#
            .to_vec()
    })
}

fn json_bytes(status: StatusCode, json: Vec<u8>) -> Response<ResponseBody> {
    let mut response = with_type(ResponseBody::from(json), "application/json; charset=utf-8");
    *response.status_mut() = status;
    private(response.headers_mut());
    response
}

/// What [`json`] answers, as kept for an `Idempotency-Key`'s replays.
pub fn stored(request_id: &str, status: StatusCode, body: &impl Serialize) -> StoredAnswer {
    StoredAnswer {
        status: status.as_u16(),
        body: String::from_utf8(json_body(request_id, body)).unwrap_or_default(),
    }
}

/// What [`error`] answers, as kept for replays.
pub fn stored_error(request_id: &str, error: &Error) -> StoredAnswer {
    stored(request_id, error_status(error), &ErrorBody::from(error))
}

/// A kept first answer, answered again with `Idempotency-Replayed: true`.
pub fn replay(answer: StoredAnswer) -> Response<ResponseBody> {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = json_bytes(status, answer.body.into_bytes());
    response
        .headers_mut()
        .insert("idempotency-replayed", HeaderValue::from_static("true"));
    response
}

fn error_status(error: &Error) -> StatusCode {
    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A body of `content_type`.
pub fn with_type(
    body: impl Into<ResponseBody>,
    content_type: &'static str,
) -> Response<ResponseBody> {
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The answer to an error: its status, its JSON, and `Retry-After` when it has one.
pub fn error(request_id: &str, error: &Error) -> Response<ResponseBody> {
    let mut response = json(request_id, error_status(error), &ErrorBody::from(error));
    if let Some(after) = error.retry_after {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_seconds(after)),
        );
    }
    response
}

/// Sets the request's id on the answer, whatever built it.
pub fn set_request_id(response: &mut Response<ResponseBody>, request_id: &str) {
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", id);
    }
}

/// Answers can name recipients: no shared cache may keep them, nor may a browser guess their
/// type.
pub fn private(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// Whole seconds for a `Retry-After` header, never 0 (that would invite an immediate retry).
fn retry_after_seconds(after: std::time::Duration) -> u64 {
    after.as_secs_f64().ceil().max(1.0) as u64
}

/// The JSON body of an error answer.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Error")]
pub struct ErrorBody<'a> {
    #[schemars(extend("const" = false))]
    success: bool,
    /// A sentence a person can act on.
    error: &'a str,
    /// Stable: switch on this.
    code: ErrorCode,
    /// What to do about it, where there is something to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    /// Each invalid field.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    details: &'a [FieldError],
    /// Variables a misconfigured channel lacks.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    missing: &'a [String],
    /// Variables a misconfigured channel has wrong.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    invalid: &'a [FieldError],
    /// The provider's own code, such as `MessageRejected` or `21610`.
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_code: Option<&'a str>,
    /// Seconds to wait (also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    retry_after: Option<u64>,
    /// Present when the provider may have accepted the message despite the error: check
    /// before resending.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schemars(extend("const" = true))]
    acceptance_unknown: bool,
    /// The provider that failed last.
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<Provider>,
    /// Email providers that failed before it.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    failed_over: &'a [Attempt],
    /// Why the (first) recipient is on the suppression list (`recipient_suppressed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<SuppressionReason>,
    /// Since when (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    since: Option<&'a str>,
    /// The entry (`DELETE /api/suppressions/{id}` lifts it).
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression_id: Option<&'a str>,
    /// Each suppressed recipient (`recipient_suppressed`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    suppressed: &'a [SuppressedRecipient],
    /// The rule that declined the (first) recipient (`recipient_declined`).
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<DeclineRule>,
    /// Each declined recipient.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    declined: &'a [DeclinedRecipient],
    /// The failed message's id in the log (`GET /api/messages/{id}`), when it was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^msg_"))]
    id: Option<&'a str>,
}

impl<'a> From<&'a Error> for ErrorBody<'a> {
    fn from(error: &'a Error) -> Self {
        Self {
            success: false,
            error: &error.message,
            code: error.code,
            hint: error.hint.as_deref(),
            details: &error.details,
            missing: &error.missing,
            invalid: &error.invalid,
            provider_code: error.provider_code.as_deref(),
            retry_after: error.retry_after.map(retry_after_seconds),
            acceptance_unknown: error.acceptance_unknown,
            provider: error.provider,
            failed_over: &error.attempts,
            reason: error.suppressed.first().map(|s| s.reason),
            since: error.suppressed.first().map(|s| s.since.as_str()),
            suppression_id: error.suppressed.first().map(|s| s.suppression_id.as_str()),
            suppressed: &error.suppressed,
            rule: error.declined.first().map(|d| d.rule),
            declined: &error.declined,
            id: error.id.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(30)), 30);
    }
}
