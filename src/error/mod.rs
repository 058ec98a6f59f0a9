//! The one error type of the API: its code is the stable name callers switch on and decides the
//! HTTP status; the provider's own error, when there is one, is kept as its `source()`.

mod code;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use code::ErrorCode;

use crate::names::{DeclineRule, Provider, SuppressionReason};

/// One provider that was tried and failed, before the next one was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Attempt {
    pub provider: Provider,
    pub code: ErrorCode,
}

/// A recipient the suppression list kept a message from: who (masked), why, since when, and
/// the entry (`GET /api/suppressions`, `DELETE /api/suppressions/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuppressedRecipient {
    /// The recipient, masked.
    pub to: String,
    pub reason: SuppressionReason,
    /// When the entry was added (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub since: String,
    pub suppression_id: String,
}

/// A recipient a choice kept a message from: who (masked) and the rule that declined it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DeclinedRecipient {
    /// The recipient, masked.
    pub to: String,
    pub rule: DeclineRule,
}

/// One invalid field of a request, or one invalid variable of the deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FieldError {
    /// The field's path, such as `to[2]` or `data.due_date` (or the variable's name).
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
#[derive(Debug, Clone)]
pub struct Error {
    /// Stable snake_case name, part of the contract; it decides the status.
    pub code: ErrorCode,
    /// A sentence a person can act on. Never carries a secret or a message body.
    pub message: String,
    /// What to do about it; it may name the deployment's own settings (a role's ARN).
    pub hint: Option<Cow<'static, str>>,
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
    pub provider: Option<Provider>,
    pub attempts: Vec<Attempt>,
    /// The recipients the suppression list kept the message from (`recipient_suppressed`).
    pub suppressed: Vec<SuppressedRecipient>,
    /// The recipients a choice kept the message from (`recipient_declined`).
    pub declined: Vec<DeclinedRecipient>,
    /// The message's id in the log, when the failed attempt was recorded.
    pub id: Option<String>,
    /// The provider's or library's own error, never shown to the caller.
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
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
            suppressed: Vec::new(),
            declined: Vec::new(),
            id: None,
            source: None,
        }
    }

    /// A 422 for a message withheld from every recipient: `recipient_suppressed` when one is
    /// on the suppression list, else `recipient_declined`. Nothing was sent.
    pub fn withheld(
        suppressed: Vec<SuppressedRecipient>,
        declined: Vec<DeclinedRecipient>,
    ) -> Self {
        let error = if suppressed.is_empty() {
            Self::new(
                ErrorCode::RecipientDeclined,
                "The recipient does not take this category on this channel, so nothing was sent.",
            )
            .with_hint(
                "GET /api/preferences shows the patient's choices; `rule` says which one declined it.",
            )
        } else {
            Self::new(
                ErrorCode::RecipientSuppressed,
                "The recipient is on the suppression list, so nothing was sent.",
            )
            .with_hint(
                "GET /api/suppressions lists the entry and its reason; a patient's STOP is lifted only by the patient (START).",
            )
        };
        Self {
            suppressed,
            declined,
            ..error
        }
    }

    /// Keeps `source` as the cause, and logs it here, where it is classified: the log names
    /// the code and the cause (a provider's error text carries no recipient or body).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        tracing::warn!(code = %self.code, cause = %source, "{}", self.message);
        self.source = Some(Arc::new(source));
        self
    }

    /// Marks the error as one after which the provider may have accepted the message.
    pub fn with_acceptance_unknown(mut self) -> Self {
        self.acceptance_unknown = true;
        self
    }

    /// Whether another provider may be tried: the message was certainly not accepted, and
    /// the failure is the provider's (down, throttled, misconfigured), not the message's.
    pub fn may_fail_over(&self) -> bool {
        !self.acceptance_unknown && matches!(self.status(), 429 | 502 | 503 | 504)
    }

    pub fn with_hint(mut self, hint: impl Into<Cow<'static, str>>) -> Self {
        self.hint = Some(hint.into());
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
            ..Self::new(ErrorCode::InvalidRequest, message)
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
        self.code.status()
    }

    /// Whether the provider may succeed if asked again after a pause.
    pub fn is_transient(&self) -> bool {
        matches!(self.status(), 429 | 502 | 504)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
