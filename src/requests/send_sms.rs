//! The `POST /api/send-sms` body as sent, and its parsing into an [`SmsMessage`].

use schemars::JsonSchema;
use serde::Deserialize;

use super::schedule::{SEND_AT_DOC, TIMEZONE_DOC, URGENT_DOC};
use crate::domain::{MAX_SMS_CHARS, PhoneNumber, SmsMessage};
use crate::error::FieldError;
use crate::names::Category;

/// The JSON body of `POST /api/send-sms`, as sent.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a JSON object with to and message")]
pub struct SendSmsRequest {
    /// E.164, such as `+15551234567` (spaces, dots, hyphens and parentheses between digits
    /// are also accepted).
    #[schemars(required, with = "String", regex(pattern = r"^\+[1-9][0-9]{6,14}$"))]
    pub to: Option<String>,
    /// Long texts go as several segments (`GET /api/preview?format=sms` counts them).
    #[schemars(required, with = "String", length(min = 1, max = MAX_SMS_CHARS))]
    pub message: Option<String>,
    #[serde(rename = "sendAt")]
    #[schemars(description = SEND_AT_DOC, extend("format" = "date-time"))]
    pub send_at: Option<String>,
    #[schemars(description = TIMEZONE_DOC)]
    pub timezone: Option<String>,
    #[schemars(description = URGENT_DOC)]
    pub urgent: Option<bool>,
    /// What the message is about (`billing_alerts`, `billing_receipts`, `care_reminders`,
    /// `documents`): suppressions of that category then apply too. Without one, only
    /// suppressions for every category do.
    pub category: Option<Category>,
}

impl TryFrom<SendSmsRequest> for SmsMessage {
    type Error = Vec<FieldError>;

    fn try_from(request: SendSmsRequest) -> Result<Self, Self::Error> {
        let mut errors = Vec::new();
        let to = match request.to.as_deref().map(PhoneNumber::parse) {
            None => {
                errors.push(FieldError::new("to", "is required"));
                None
            }
            Some(Err(message)) => {
                errors.push(FieldError::new("to", message));
                None
            }
            Some(Ok(number)) => Some(number),
        };
        let body = request.message.unwrap_or_default();
        let chars = body.chars().count();
        if body.trim().is_empty() {
            errors.push(FieldError::new(
                "message",
                "is required and must not be blank",
            ));
        } else if chars > MAX_SMS_CHARS {
            errors.push(FieldError::new(
                "message",
                format!("is {chars} characters long; at most {MAX_SMS_CHARS} are allowed"),
            ));
        }
        match to {
            Some(to) if errors.is_empty() => Ok(Self {
                to,
                body,
                category: request.category,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(to: Option<&str>, message: Option<&str>) -> Result<SmsMessage, Vec<FieldError>> {
        SmsMessage::try_from(SendSmsRequest {
            to: to.map(Into::into),
            message: message.map(Into::into),
            send_at: None,
            timezone: None,
            urgent: None,
            category: None,
        })
    }

    #[test]
    fn the_seed_example_parses() {
        let sms = request(Some("+15551234567"), Some("Test SMS from ClinicalCanvas")).unwrap();
        assert_eq!(sms.to.as_str(), "+15551234567");
        assert_eq!(sms.body, "Test SMS from ClinicalCanvas");
    }

    #[test]
    fn message_length_is_counted_in_characters_up_to_1600() {
        assert!(request(Some("+15551234567"), Some(&"😀".repeat(1600))).is_ok());
        let errors = request(Some("+15551234567"), Some(&"a".repeat(1601))).unwrap_err();
        assert_eq!(errors[0].field, "message");
    }

    #[test]
    fn both_fields_are_reported_when_both_are_wrong() {
        let errors = request(Some("5551234567"), Some("   ")).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["to", "message"]);
        let errors = request(None, None).unwrap_err();
        assert_eq!(errors.len(), 2);
    }
}
