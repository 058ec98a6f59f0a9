//! The `POST /api/suppressions` body as sent: a recipient put on the suppression list by hand.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::domain::{EmailAddress, PhoneNumber};
use crate::error::{Error, FieldError};
use crate::names::{Category, Channel, SuppressionReason};

/// The JSON body of `POST /api/suppressions`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a JSON object with to")]
pub struct SuppressRequest {
    /// An email address or an E.164 number: its channel follows. Hashed on the server; the
    /// list keeps only the hash and a masked form.
    #[schemars(required, with = "String")]
    pub to: Option<String>,
    /// Only this category (such as a patient who wants no `care_reminders` by email); without
    /// it, every category.
    pub category: Option<Category>,
    /// `manual` (the default), `unsubscribed` (the patient asked staff) or `invalid_recipient`.
    /// The others are the providers' and the patients' own to give.
    #[schemars(with = "Option<ManualReason>")]
    pub reason: Option<SuppressionReason>,
}

/// The optional JSON body of `DELETE /api/suppressions/{id}`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiftRequest {
    /// The suppressed address, to remove it from SES's account-level suppression list too
    /// (the list here keeps only its hash). Checked against the entry; never stored.
    pub email: Option<String>,
}

impl LiftRequest {
    pub fn parse(self) -> Result<Option<EmailAddress>, Error> {
        self.email
            .map(|e| {
                EmailAddress::parse(&e).map_err(|message| {
                    Error::invalid_fields(vec![FieldError::new("email", message)])
                })
            })
            .transpose()
    }
}

/// The reasons an API caller may give.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum ManualReason {
    Manual,
    Unsubscribed,
    InvalidRecipient,
}

/// A recipient to put on the list, read from a [`SuppressRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualSuppression {
    pub channel: Channel,
    /// The normalised address or number, to hash.
    pub address: String,
    pub masked: String,
    pub scope: Option<Category>,
    pub reason: SuppressionReason,
}

impl SuppressRequest {
    pub fn parse(self) -> Result<ManualSuppression, Error> {
        let mut errors = Vec::new();
        let to = match self.to.as_deref().map(str::trim) {
            None | Some("") => {
                errors.push(FieldError::new("to", "is required"));
                None
            }
            Some(to) if to.contains('@') => match EmailAddress::parse(to) {
                Ok(a) => Some((Channel::Email, a.address().to_owned(), a.masked())),
                Err(message) => {
                    errors.push(FieldError::new("to", message));
                    None
                }
            },
            Some(to) => match PhoneNumber::parse(to) {
                Ok(n) => Some((Channel::Sms, n.as_str().to_owned(), n.masked())),
                Err(message) => {
                    errors.push(FieldError::new(
                        "to",
                        format!("is neither an email address nor a phone number that {message}"),
                    ));
                    None
                }
            },
        };
        let reason = self.reason.unwrap_or(SuppressionReason::Manual);
        if !matches!(
            reason,
            SuppressionReason::Manual
                | SuppressionReason::Unsubscribed
                | SuppressionReason::InvalidRecipient
        ) {
            errors.push(FieldError::new(
                "reason",
                "must be manual, unsubscribed or invalid_recipient; the others come from the providers and the patients",
            ));
        }
        match to {
            Some((channel, address, masked)) if errors.is_empty() => Ok(ManualSuppression {
                channel,
                address,
                masked,
                scope: self.category,
                reason,
            }),
            _ => Err(Error::invalid_fields(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<ManualSuppression, Error> {
        serde_json::from_value::<SuppressRequest>(json)
            .unwrap()
            .parse()
    }

    #[test]
    fn an_address_is_an_email_entry_and_a_number_an_sms_entry() {
        let email = parse(serde_json::json!({"to": "Ann@Example.com"})).unwrap();
        assert_eq!(email.channel, Channel::Email);
        assert_eq!(email.reason, SuppressionReason::Manual);
        let sms = parse(serde_json::json!({"to": "+1 555 123 4567", "category": "care_reminders"}))
            .unwrap();
        assert_eq!(
            (sms.channel, sms.address.as_str()),
            (Channel::Sms, "+15551234567")
        );
        assert_eq!(sms.scope, Some(Category::CareReminders));
    }

    #[test]
    fn a_patients_stop_cannot_be_given_by_a_caller_and_a_bad_recipient_is_named() {
        let error = parse(serde_json::json!({"to": "5551234", "reason": "sms_stop"})).unwrap_err();
        let fields: Vec<&str> = error.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["to", "reason"]);
    }
}
