//! The one error type of the API: its kind decides the HTTP status, its code is the stable
//! machine-readable name callers switch on.

use std::time::Duration;

use serde::Serialize;

/// What went wrong, in the terms that decide the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is malformed or a field is invalid (400).
    InvalidRequest,
    /// Credentials are missing or wrong (401).
    Unauthorized,
    /// The caller may not do this, whoever it is (403).
    Forbidden,
    /// No such route (404).
    NotFound,
    /// The route exists but not for this method (405).
    MethodNotAllowed,
    /// The body is over the size limit (413).
    PayloadTooLarge,
    /// The body is not JSON (415).
    UnsupportedMediaType,
    /// The provider refused this message or recipient; sending it again as is will not help (422).
    Rejected,
    /// The provider, or one of this API's own abuse limits, asks the caller to slow down (429).
    Throttled,
    /// The provider failed or answered something we could not understand (502).
    ProviderFailed,
    /// This deployment cannot send on the channel until its configuration or account is fixed (503).
    Unavailable,
    /// The provider did not answer within the send budget (504).
    Timeout,
    /// A bug in this API (500): the request failed, the process goes on serving others.
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::Rejected => 422,
            Self::Throttled => 429,
            Self::ProviderFailed => 502,
            Self::Unavailable => 503,
            Self::Timeout => 504,
            Self::Internal => 500,
        }
    }
}

/// One invalid field of a request: `field` is a path such as `to[2]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error answered to the caller as `{"success": false, "error", "code", ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// Stable snake_case name, part of the contract.
    pub code: &'static str,
    /// A sentence a person can act on. Never carries a secret or a message body.
    pub message: String,
    pub hint: Option<&'static str>,
    pub details: Vec<FieldError>,
    /// Variables a misconfigured channel lacks or has wrong (names only, never values).
    pub missing: Vec<String>,
    pub invalid: Vec<FieldError>,
    /// The provider's own error code (`MessageRejected`, `21610`), for the practice's support desk.
    pub provider_code: Option<String>,
    pub retry_after: Option<Duration>,
    /// The request reached the provider but no answer came back: the message may have been
    /// accepted. Never failed over (it could arrive twice) and said so to the caller.
    pub acceptance_unknown: bool,
    /// The provider that failed last, and those that failed before it (failover).
    pub provider: Option<&'static str>,
    pub attempts: Vec<crate::sent::Attempt>,
}

impl Error {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            hint: None,
            details: Vec::new(),
            missing: Vec::new(),
            invalid: Vec::new(),
            provider_code: None,
            retry_after: None,
            acceptance_unknown: false,
            provider: None,
            attempts: Vec::new(),
        }
    }

    /// Marks the error as one after which the provider may have accepted the message.
    pub fn with_acceptance_unknown(mut self) -> Self {
        self.acceptance_unknown = true;
        self
    }

    /// Whether another provider may be tried: the message was certainly not accepted, and
    /// the failure is the provider's (down, throttled, misconfigured), not the message's.
    pub fn may_fail_over(&self) -> bool {
        !self.acceptance_unknown
            && matches!(
                self.kind,
                ErrorKind::Unavailable
                    | ErrorKind::Throttled
                    | ErrorKind::ProviderFailed
                    | ErrorKind::Timeout
            )
    }

    pub fn with_hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn with_provider_code(mut self, code: impl Into<String>) -> Self {
        self.provider_code = Some(code.into());
        self
    }

    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// A 400 listing every invalid field.
    pub fn invalid_fields(details: Vec<FieldError>) -> Self {
        let fields: Vec<&str> = details.iter().map(|d| d.field.as_str()).collect();
        let message = format!("Invalid request: check {}.", fields.join(", "));
        Self {
            details,
            ..Self::new(ErrorKind::InvalidRequest, "invalid_request", message)
        }
    }

    /// A 400 naming the field that failed to deserialize, its path under `prefix` (`data.due_date`).
    pub fn from_serde(prefix: &str, error: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = without_position(&inner.to_string());
        // serde names missing and unknown fields in backticks, at the parent's path.
        let name = if path == "." {
            backticked(&message).map(str::to_owned)
        } else {
            Some(path)
        };
        let field = match (prefix, name) {
            ("", Some(name)) => name,
            ("", None) => "body".to_owned(),
            (prefix, Some(name)) => format!("{prefix}.{name}"),
            (prefix, None) => prefix.to_owned(),
        };
        Self::invalid_fields(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// Whether the provider may succeed if asked again after a pause.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Throttled | ErrorKind::ProviderFailed | ErrorKind::Timeout
        )
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Error {}

/// serde_json ends its messages with "at line 1 column 9", which says nothing about a field.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// The first `name` quoted in backticks, as serde names missing and unknown fields.
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// The JSON body of an error answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody<'a> {
    success: bool,
    error: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    details: &'a [FieldError],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    missing: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    invalid: &'a [FieldError],
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    acceptance_unknown: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    failed_over: &'a [crate::sent::Attempt],
}

impl<'a> From<&'a Error> for ErrorBody<'a> {
    fn from(error: &'a Error) -> Self {
        Self {
            success: false,
            error: &error.message,
            code: error.code,
            hint: error.hint,
            details: &error.details,
            missing: &error.missing,
            invalid: &error.invalid,
            provider_code: error.provider_code.as_deref(),
            retry_after: error.retry_after.map(retry_after_seconds),
            acceptance_unknown: error.acceptance_unknown,
            provider: error.provider,
            failed_over: &error.attempts,
        }
    }
}

/// Whole seconds for a `Retry-After` header, never 0 (that would invite an immediate retry).
pub(crate) fn retry_after_seconds(after: Duration) -> u64 {
    after.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_to_its_documented_status() {
        let expected = [
            (ErrorKind::InvalidRequest, 400),
            (ErrorKind::Unauthorized, 401),
            (ErrorKind::Forbidden, 403),
            (ErrorKind::NotFound, 404),
            (ErrorKind::MethodNotAllowed, 405),
            (ErrorKind::PayloadTooLarge, 413),
            (ErrorKind::UnsupportedMediaType, 415),
            (ErrorKind::Rejected, 422),
            (ErrorKind::Throttled, 429),
            (ErrorKind::ProviderFailed, 502),
            (ErrorKind::Unavailable, 503),
            (ErrorKind::Timeout, 504),
            (ErrorKind::Internal, 500),
        ];
        for (kind, status) in expected {
            assert_eq!(kind.status(), status, "{kind:?}");
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(30)), 30);
    }

    #[test]
    fn invalid_fields_names_each_field_in_the_sentence() {
        let error = Error::invalid_fields(vec![
            FieldError::new("to", "required"),
            FieldError::new("subject", "too long"),
        ]);
        assert_eq!(error.status(), 400);
        assert!(error.message.contains("to, subject"), "{}", error.message);
    }
}
