//! The `POST /api/send-email` body as sent, and its parsing into an [`EmailMessage`].

use schemars::JsonSchema;
use serde::Deserialize;

use super::attachments::{AttachmentRequest, parse_attachments};
use super::schedule::{SEND_AT_DOC, TIMEZONE_DOC, URGENT_DOC};
use crate::domain::{
    EmailAddress, EmailMessage, MAX_ATTACHMENTS, MAX_RECIPIENTS, MAX_REPLY_TO, MAX_SUBJECT_CHARS,
};
use crate::error::FieldError;
use crate::names::Category;

/// The JSON body of `POST /api/send-email`, as sent. Every field is optional here so that
/// parsing can report all missing and invalid fields at once; unknown fields are refused so
/// that nothing a caller sent is silently dropped.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "a JSON object with to, subject and body"
)]
#[schemars(description = "One email: to, subject and body (or html); now, or later with sendAt.")]
pub struct SendEmailRequest {
    /// One address or a list of up to 50; `Name <addr@host>` accepted.
    #[schemars(required, with = "OneOrMany")]
    pub to: Option<OneOrMany>,
    /// One line.
    #[schemars(required, with = "String", length(min = 1, max = MAX_SUBJECT_CHARS))]
    pub subject: Option<String>,
    /// The plain-text body; required unless `html` is given.
    pub body: Option<String>,
    /// The HTML part; `body` is then its text alternative.
    pub html: Option<String>,
    /// One address or a list of up to 10.
    pub reply_to: Option<OneOrMany>,
    /// At most 10 files and 3 MiB decoded in all (413 `attachments_too_large`); executable
    /// types are refused.
    #[schemars(length(max = MAX_ATTACHMENTS))]
    pub attachments: Option<Vec<AttachmentRequest>>,
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

/// One address or a list of addresses.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged, expecting = "an email address or a list of email addresses")]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl TryFrom<SendEmailRequest> for EmailMessage {
    type Error = Vec<FieldError>;

    fn try_from(request: SendEmailRequest) -> Result<Self, Self::Error> {
        let mut errors = Vec::new();
        let to = match request.to {
            None => {
                errors.push(FieldError::new("to", "is required"));
                Vec::new()
            }
            Some(to) => parse_addresses("to", to, MAX_RECIPIENTS, &mut errors),
        };
        let reply_to = request
            .reply_to
            .map(|r| parse_addresses("replyTo", r, MAX_REPLY_TO, &mut errors))
            .unwrap_or_default();
        let subject = parse_subject(request.subject, &mut errors);
        let text = non_blank("body", request.body, &mut errors);
        let html = non_blank("html", request.html, &mut errors);
        let attachments = parse_attachments(request.attachments.unwrap_or_default(), &mut errors);
        if text.is_none() && html.is_none() && !errors.iter().any(|e| e.field == "body") {
            errors.push(FieldError::new(
                "body",
                "is required (the plain-text body) unless html is given",
            ));
        }
        if errors.is_empty() {
            Ok(Self {
                to,
                subject,
                text,
                html,
                reply_to,
                attachments,
                category: request.category,
                list_unsubscribe: None,
            })
        } else {
            Err(errors)
        }
    }
}

fn parse_addresses(
    field: &str,
    value: OneOrMany,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Vec<EmailAddress> {
    let entries: Vec<(String, String)> = match value {
        OneOrMany::One(one) => vec![(field.to_owned(), one)],
        OneOrMany::Many(many) => {
            if many.is_empty() {
                errors.push(FieldError::new(field, "must list at least one address"));
            }
            if many.len() > max {
                errors.push(FieldError::new(
                    field,
                    format!("lists {} addresses; at most {max} are allowed", many.len()),
                ));
                return Vec::new();
            }
            many.into_iter()
                .enumerate()
                .map(|(i, a)| (format!("{field}[{i}]"), a))
                .collect()
        }
    };
    let mut parsed: Vec<(String, EmailAddress)> = Vec::with_capacity(entries.len());
    for (path, raw) in entries {
        match EmailAddress::parse(&raw) {
            Ok(address) => {
                let earlier = parsed
                    .iter()
                    .find(|(_, p)| p.address().eq_ignore_ascii_case(address.address()));
                match earlier {
                    Some((earlier_path, _)) => errors.push(FieldError::new(
                        path,
                        format!("repeats the address in {earlier_path}"),
                    )),
                    None => parsed.push((path, address)),
                }
            }
            Err(message) => errors.push(FieldError::new(path, message)),
        }
    }
    parsed.into_iter().map(|(_, address)| address).collect()
}

fn parse_subject(subject: Option<String>, errors: &mut Vec<FieldError>) -> String {
    let Some(subject) = subject else {
        errors.push(FieldError::new("subject", "is required"));
        return String::new();
    };
    let chars = subject.chars().count();
    if subject.trim().is_empty() {
        errors.push(FieldError::new("subject", "must not be blank"));
    } else if chars > MAX_SUBJECT_CHARS {
        errors.push(FieldError::new(
            "subject",
            format!("is {chars} characters long; at most {MAX_SUBJECT_CHARS} are allowed"),
        ));
    } else if subject.contains(['\r', '\n']) {
        errors.push(FieldError::new("subject", "must not contain line breaks"));
    }
    subject
}

/// A present text field must say something: an empty `body` is a mistake, not an absence.
fn non_blank(field: &str, value: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value?;
    if value.trim().is_empty() {
        errors.push(FieldError::new(field, "must not be blank"));
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: serde_json::Value) -> Result<EmailMessage, Vec<FieldError>> {
        let request: SendEmailRequest = serde_json::from_value(json).unwrap();
        EmailMessage::try_from(request)
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn the_seed_example_parses() {
        let message = request(serde_json::json!({
            "to": "test@example.com",
            "subject": "Test Email",
            "body": "This is a test email from ClinicalCanvas EHR"
        }))
        .unwrap();
        assert_eq!(message.to[0].address(), "test@example.com");
        assert_eq!(message.subject, "Test Email");
        assert_eq!(message.html, None);
    }

    #[test]
    fn a_list_of_recipients_and_reply_to_parse() {
        let message = request(serde_json::json!({
            "to": ["a@example.com", "Bea <b@example.com>"],
            "subject": "Hi",
            "html": "<p>Hi</p>",
            "replyTo": "desk@practice.example.com"
        }))
        .unwrap();
        assert_eq!(message.to.len(), 2);
        assert_eq!(message.text, None);
        assert_eq!(message.reply_to[0].address(), "desk@practice.example.com");
    }

    #[test]
    fn every_missing_field_is_named_at_once() {
        let errors = request(serde_json::json!({})).unwrap_err();
        assert_eq!(fields(&errors), ["to", "subject", "body"]);
    }

    #[test]
    fn a_bad_address_in_a_list_is_named_by_its_index() {
        let errors = request(serde_json::json!({
            "to": ["a@example.com", "nope"], "subject": "s", "body": "b"
        }))
        .unwrap_err();
        assert_eq!(fields(&errors), ["to[1]"]);
    }

    #[test]
    fn fifty_recipients_are_allowed_and_fifty_one_are_not() {
        let list =
            |n: usize| -> Vec<String> { (0..n).map(|i| format!("p{i}@example.com")).collect() };
        assert!(request(serde_json::json!({"to": list(50), "subject": "s", "body": "b"})).is_ok());
        let errors =
            request(serde_json::json!({"to": list(51), "subject": "s", "body": "b"})).unwrap_err();
        assert_eq!(fields(&errors), ["to"]);
    }

    #[test]
    fn repeated_and_empty_recipient_lists_are_refused() {
        let errors = request(serde_json::json!({
            "to": ["a@example.com", "A@Example.com"], "subject": "s", "body": "b"
        }))
        .unwrap_err();
        assert_eq!(fields(&errors), ["to[1]"]);
        let errors =
            request(serde_json::json!({"to": [], "subject": "s", "body": "b"})).unwrap_err();
        assert_eq!(fields(&errors), ["to"]);
    }

    #[test]
    fn subject_limits_are_two_hundred_characters_and_one_line() {
        let ok = "é".repeat(200);
        assert!(
            request(serde_json::json!({"to": "a@example.com", "subject": ok, "body": "b"})).is_ok()
        );
        for bad in ["é".repeat(201), "two\nlines".into(), "  ".into(), "".into()] {
            let errors =
                request(serde_json::json!({"to": "a@example.com", "subject": bad, "body": "b"}))
                    .unwrap_err();
            assert_eq!(fields(&errors), ["subject"]);
        }
    }

    #[test]
    fn blank_bodies_are_refused_rather_than_ignored() {
        let errors =
            request(serde_json::json!({"to": "a@example.com", "subject": "s", "body": " "}))
                .unwrap_err();
        assert_eq!(fields(&errors), ["body"]);
        let errors = request(serde_json::json!({
            "to": "a@example.com", "subject": "s", "body": "text", "html": ""
        }))
        .unwrap_err();
        assert_eq!(fields(&errors), ["html"]);
    }
}
