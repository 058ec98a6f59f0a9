//! `GET /api/preferences`'s patient and the `PATCH /api/preferences` body as sent, parsed:
//! the patient's address and number, the categories turned on or off per channel, and SMS
//! consent evidence.

use schemars::JsonSchema;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::domain::{EmailAddress, PhoneNumber};
use crate::error::{Error, FieldError};
use crate::names::{Category, Channel};

/// The JSON body of `PATCH /api/preferences`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a JSON object with email or phone")]
pub struct PreferencesRequest {
    /// The patient's address: email choices are kept under it (hashed, never in clear).
    pub email: Option<String>,
    /// The patient's number, E.164: SMS choices and consent are kept under it.
    pub phone: Option<String>,
    /// Categories turned on or off per channel; the others stay as they are. A required
    /// category (`billing_alerts`) keeps at least one channel on.
    #[serde(default)]
    pub preferences: Vec<PreferenceRequest>,
    /// The patient's consent to texts, recorded with the phone.
    pub consent: Option<ConsentRequest>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferenceRequest {
    pub category: Category,
    pub channel: Channel,
    pub enabled: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsentRequest {
    /// When the patient consented (RFC 3339 with an offset).
    #[schemars(extend("format" = "date-time"))]
    pub at: String,
    /// Where: `intake-form`, `portal`, `verbal`...
    #[schemars(length(min = 1, max = 100))]
    pub source: String,
    /// The wording the patient agreed to, as the practice versions it.
    #[schemars(length(min = 1, max = 100))]
    pub text_version: String,
}

/// A patient named by address, number or both, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientAddresses {
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
}

/// What a `PATCH` asks, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferencesChange {
    pub patient: PatientAddresses,
    pub set: Vec<(Category, Channel, bool)>,
    pub consent: Option<(OffsetDateTime, String, String)>,
}

/// The patient of `email` and `phone` as given (in a query or a body); at least one.
pub fn patient(
    email: Option<&str>,
    phone: Option<&str>,
    problems: &mut Vec<FieldError>,
) -> PatientAddresses {
    let email = email.and_then(|e| match EmailAddress::parse(e) {
        Ok(a) => Some(a),
        Err(message) => {
            problems.push(FieldError::new("email", message));
            None
        }
    });
    let phone = phone.and_then(|p| match PhoneNumber::parse(p) {
        Ok(n) => Some(n),
        Err(message) => {
            problems.push(FieldError::new("phone", message));
            None
        }
    });
    if email.is_none() && phone.is_none() && problems.is_empty() {
        problems.push(FieldError::new("email", "or phone is required"));
    }
    PatientAddresses { email, phone }
}

impl PreferencesRequest {
    pub fn parse(self) -> Result<PreferencesChange, Error> {
        let mut problems = Vec::new();
        let patient = patient(self.email.as_deref(), self.phone.as_deref(), &mut problems);
        let (email, phone) = (self.email.is_some(), self.phone.is_some());
        self.check_choices(email, phone, "the request needs", &mut problems);
        let consent = self.consent.and_then(|c| {
            if self.phone.is_none() {
                problems.push(FieldError::new("consent", "is a phone's: give phone"));
            }
            let blank = |field: &str, value: &str, problems: &mut Vec<FieldError>| {
                if value.trim().is_empty() || value.len() > 100 {
                    problems.push(FieldError::new(
                        format!("consent.{field}"),
                        "must be 1 to 100 characters",
                    ));
                }
            };
            blank("source", &c.source, &mut problems);
            blank("textVersion", &c.text_version, &mut problems);
            match OffsetDateTime::parse(&c.at, &Rfc3339) {
                Ok(at) => Some((at, c.source, c.text_version)),
                Err(_) => {
                    problems.push(FieldError::new(
                        "consent.at",
                        "must be an RFC 3339 time with an offset",
                    ));
                    None
                }
            }
        });
        if !problems.is_empty() {
            return Err(Error::invalid_fields(problems));
        }
        Ok(PreferencesChange {
            patient,
            set: self
                .preferences
                .iter()
                .map(|p| (p.category, p.channel, p.enabled))
                .collect(),
            consent,
        })
    }

    /// The choices of a change made from the preference page, whose link names the patient
    /// (`email` and `phone`: which of the two it names). The body names nobody and records no
    /// consent: consent evidence is the practice's to record.
    pub fn parse_linked(
        self,
        email: bool,
        phone: bool,
    ) -> Result<Vec<(Category, Channel, bool)>, Error> {
        let mut problems = Vec::new();
        for (field, given) in [
            ("email", self.email.is_some()),
            ("phone", self.phone.is_some()),
        ] {
            if given {
                problems.push(FieldError::new(
                    field,
                    "is not taken here: the link names the patient",
                ));
            }
        }
        if self.consent.is_some() {
            problems.push(FieldError::new(
                "consent",
                "is recorded by the practice, not from the preference page",
            ));
        }
        self.check_choices(email, phone, "the link names no", &mut problems);
        if !problems.is_empty() {
            return Err(Error::invalid_fields(problems));
        }
        Ok(self
            .preferences
            .iter()
            .map(|p| (p.category, p.channel, p.enabled))
            .collect())
    }

    /// Each choice names a channel whose address is known, and no category and channel twice.
    fn check_choices(
        &self,
        email: bool,
        phone: bool,
        missing: &str,
        problems: &mut Vec<FieldError>,
    ) {
        for (i, p) in self.preferences.iter().enumerate() {
            let (given, needed) = match p.channel {
                Channel::Email => (email, "email"),
                Channel::Sms => (phone, "phone"),
            };
            if !given {
                problems.push(FieldError::new(
                    format!("preferences[{i}].channel"),
                    format!("is {}, so {missing} {needed}", p.channel),
                ));
            }
            if self.preferences[..i]
                .iter()
                .any(|q| q.category == p.category && q.channel == p.channel)
            {
                problems.push(FieldError::new(
                    format!("preferences[{i}]"),
                    "names a category and channel given before",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<PreferencesChange, Error> {
        serde_json::from_value::<PreferencesRequest>(json)
            .unwrap()
            .parse()
    }

    #[test]
    fn a_choice_needs_the_address_of_its_channel_and_consent_needs_a_phone() {
        let error = parse(serde_json::json!({
            "email": "ann@example.com",
            "preferences": [{"category": "care_reminders", "channel": "sms", "enabled": false}],
            "consent": {"at": "2026-12-01T09:00:00Z", "source": "portal", "textVersion": "v2"},
        }))
        .unwrap_err();
        let fields: Vec<&str> = error.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["preferences[0].channel", "consent"]);
    }

    #[test]
    fn a_change_reads_its_choices_and_consent() {
        let change = parse(serde_json::json!({
            "phone": "+1 555 123 4567",
            "preferences": [{"category": "documents", "channel": "sms", "enabled": false}],
            "consent": {"at": "2026-12-01T09:00:00-05:00", "source": "intake-form", "textVersion": "v2"},
        }))
        .unwrap();
        assert_eq!(change.patient.phone.unwrap().as_str(), "+15551234567");
        assert_eq!(change.set, [(Category::Documents, Channel::Sms, false)]);
        assert_eq!(change.consent.unwrap().2, "v2");
    }

    #[test]
    fn nobody_named_is_a_bad_request() {
        let error = parse(serde_json::json!({"preferences": []})).unwrap_err();
        assert_eq!(error.details[0].field, "email");
    }
}
