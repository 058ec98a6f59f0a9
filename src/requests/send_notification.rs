//! The `POST /api/send-notification` body, parsed into a template, its data and recipients.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::json;

use super::schedule::{SEND_AT_DOC, TIMEZONE_DOC, URGENT_DOC};
use crate::domain::{EmailAddress, PhoneNumber, Recipients};
use crate::error::{Error, FieldError};
use crate::names::{Channel, Strategy};
use crate::templates::TemplateName;

const CHANNELS_DOC: &str = "The channels to use, in order (each once). With strategy all: only \
    these, each needing its address in to. With fallback: tried in this order (default sms, then \
    email), the next only when one cannot reach the patient.";
const FALLBACK_AFTER_DOC: &str = "With strategy fallback: an ISO 8601 duration (PT15M, 1 \
    minute to 72 hours). A channel used without a delivery receipt in that time is taken as not \
    reaching the patient: the next channel is sent then (checked by the dispatcher). Without it, \
    the next channel is sent only on a failure report (an undelivered text, a bounced email).";
const STRATEGY_DOC: &str = "all (every channel given) or fallback (the first channel that can \
    reach the patient). Default: the practice's for the template's category \
    (NOTIFY_FALLBACK_CATEGORIES), else all.";

/// `{"template": "paymentReceived", "data": {...}, "to": {"email": "...", "phone": "+1..."}}`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a JSON object with template, data and to"
)]
pub struct SendNotificationRequest {
    pub template: Option<String>,
    pub data: Option<serde_json::Value>,
    pub to: Option<RecipientsRequest>,
    /// When to send it, the patient's zone and whether it may break quiet hours (see
    /// `schedule.rs`).
    #[serde(rename = "sendAt")]
    pub send_at: Option<String>,
    pub timezone: Option<String>,
    pub urgent: Option<bool>,
    pub channels: Option<Vec<Channel>>,
    pub strategy: Option<Strategy>,
    #[serde(rename = "fallbackAfter")]
    pub fallback_after: Option<String>,
}

/// How a notification asked to use its channels (the practice's default fills in the rest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// In order, each once; `None`: every channel with an address.
    pub channels: Option<Vec<Channel>>,
    pub strategy: Option<Strategy>,
    /// With `fallback`: how long the channel used may go without a delivery receipt before
    /// the next one is sent anyway.
    pub fallback_after: Option<std::time::Duration>,
}

/// The shortest and longest `fallbackAfter`.
pub const FALLBACK_AFTER: (std::time::Duration, std::time::Duration) = (
    std::time::Duration::from_secs(60),
    std::time::Duration::from_secs(72 * 60 * 60),
);

/// A `send-notification` request, parsed.
#[derive(Debug)]
pub struct ParsedNotification {
    pub template: TemplateName,
    pub data: serde_json::Value,
    pub recipients: Recipients,
    pub delivery: Delivery,
}

/// The patient: an email address, a phone number, or both.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "an object with email and/or phone")]
#[schemars(extend("minProperties" = 1))]
pub struct RecipientsRequest {
    pub email: Option<String>,
    /// E.164.
    #[schemars(regex(pattern = r"^\+[1-9][0-9]{6,14}$"))]
    pub phone: Option<String>,
}

/// The contract's description: one request schema per template (`<Name>Notification`, its
/// `data` described by the template's own fields as `<Name>Data`), chosen by `template`, so a
/// typed client checks each template's data.
impl JsonSchema for SendNotificationRequest {
    fn schema_name() -> Cow<'static, str> {
        "SendNotificationRequest".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let to = generator.subschema_for::<RecipientsRequest>();
        generator.subschema_for::<Channel>();
        generator.subschema_for::<Strategy>();
        let prefix = format!("#{}/", generator.settings().definitions_path);
        let mut branches = Vec::new();
        let mut mapping = serde_json::Map::new();
        for &template in TemplateName::ALL {
            let name = format!("{template:?}");
            let data = format!("{name}Data");
            let request = format!("{name}Notification");
            let schema = json!({
                "type": "object",
                "description": template.description(),
                "additionalProperties": false,
                "required": ["template", "data", "to"],
                "properties": {
                    "template": {"type": "string", "const": template.as_str()},
                    "data": {"$ref": format!("{prefix}{data}")},
                    "to": to,
                    "sendAt": {"type": "string", "format": "date-time", "description": SEND_AT_DOC},
                    "timezone": {"type": "string", "description": TIMEZONE_DOC},
                    "urgent": {"type": "boolean", "description": URGENT_DOC},
                    "channels": {"type": "array", "items": {"$ref": format!("{prefix}Channel")},
                        "minItems": 1, "maxItems": 2, "uniqueItems": true, "description": CHANNELS_DOC},
                    "strategy": {"$ref": format!("{prefix}Strategy"), "description": STRATEGY_DOC},
                    "fallbackAfter": {"type": "string", "pattern": "^P", "description": FALLBACK_AFTER_DOC},
                },
            });
            let definitions = generator.definitions_mut();
            definitions.insert(data, template.data_schema());
            definitions.insert(request.clone(), schema);
            let reference = format!("{prefix}{request}");
            branches.push(json!({"$ref": reference}));
            mapping.insert(template.as_str().into(), reference.into());
        }
        json_schema!({
            "oneOf": branches,
            "discriminator": {"propertyName": "template", "mapping": mapping},
        })
    }
}

impl SendNotificationRequest {
    /// The template (an unknown one is a 404 listing the known ones), its still unchecked data
    /// (the template reads it), the recipients (at least one) and how to use their channels.
    pub fn parse(self) -> Result<ParsedNotification, Error> {
        let mut errors = Vec::new();
        let template = match self.template.as_deref() {
            None => {
                errors.push(FieldError::new("template", "is required"));
                None
            }
            Some(name) => Some(TemplateName::parse(name)?),
        };
        if self.data.is_none() {
            errors.push(FieldError::new(
                "data",
                "is required: the template's fields",
            ));
        }
        let mut recipients = Recipients::default();
        match self.to {
            None
            | Some(RecipientsRequest {
                email: None,
                phone: None,
            }) => errors.push(FieldError::new(
                "to",
                "needs an email address, a phone number, or both",
            )),
            Some(to) => {
                if let Some(email) = to.email {
                    match EmailAddress::parse(&email) {
                        Ok(email) => recipients.email = Some(email),
                        Err(m) => errors.push(FieldError::new("to.email", m)),
                    }
                }
                if let Some(phone) = to.phone {
                    match PhoneNumber::parse(&phone) {
                        Ok(phone) => recipients.phone = Some(phone),
                        Err(m) => errors.push(FieldError::new("to.phone", m)),
                    }
                }
            }
        }
        if let Some(channels) = &self.channels {
            if channels.is_empty() {
                errors.push(FieldError::new("channels", "needs at least one channel"));
            }
            for (i, channel) in channels.iter().enumerate() {
                if channels[..i].contains(channel) {
                    errors.push(FieldError::new(
                        format!("channels[{i}]"),
                        format!("names {channel} again"),
                    ));
                }
            }
        }
        let fallback_after = self.fallback_after.as_deref().and_then(|text| {
            // ISO 8601 only (jiff would also read "15 minutes"): the contract says PT15M.
            let parsed = Some(text)
                .filter(|t| t.starts_with('P'))
                .and_then(|t| t.parse::<jiff::SignedDuration>().ok())
                .and_then(|d| std::time::Duration::try_from(d).ok())
                .filter(|d| (FALLBACK_AFTER.0..=FALLBACK_AFTER.1).contains(d));
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "fallbackAfter",
                    "must be an ISO 8601 duration from PT1M to PT72H",
                ));
            } else if self.strategy == Some(Strategy::All) {
                errors.push(FieldError::new("fallbackAfter", "needs strategy fallback"));
            }
            parsed
        });
        let delivery = Delivery {
            channels: self.channels,
            strategy: self.strategy,
            fallback_after,
        };
        match (template, self.data) {
            (Some(template), Some(data)) if errors.is_empty() => Ok(ParsedNotification {
                template,
                data,
                recipients,
                delivery,
            }),
            _ => Err(Error::invalid_fields(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: serde_json::Value) -> Result<ParsedNotification, Error> {
        serde_json::from_value::<SendNotificationRequest>(value)
            .unwrap()
            .parse()
    }

    #[test]
    fn either_recipient_alone_is_enough() {
        let to = parse(
            json!({"template": "paymentReceived", "data": {}, "to": {"phone": "+15551234567"}}),
        )
        .unwrap()
        .recipients;
        assert!(to.email.is_none() && to.phone.is_some());
        let to = parse(
            json!({"template": "paymentReceived", "data": {}, "to": {"email": "a@example.com"}}),
        )
        .unwrap()
        .recipients;
        assert!(to.email.is_some() && to.phone.is_none());
    }

    #[test]
    fn channels_are_an_order_each_named_once_and_the_strategy_is_read() {
        let parsed = parse(
            json!({"template": "paymentReceived", "data": {}, "to": {"email": "a@example.com"},
            "channels": ["sms", "email"], "strategy": "fallback"}),
        )
        .unwrap();
        assert_eq!(
            parsed.delivery,
            Delivery {
                channels: Some(vec![Channel::Sms, Channel::Email]),
                strategy: Some(Strategy::Fallback),
                fallback_after: None,
            }
        );
        let after = parse(
            json!({"template": "paymentReceived", "data": {}, "to": {"email": "a@example.com"},
            "strategy": "fallback", "fallbackAfter": "PT15M"}),
        )
        .unwrap();
        assert_eq!(
            after.delivery.fallback_after,
            Some(std::time::Duration::from_secs(900))
        );
        for bad in ["15 minutes", "PT10S", "P4D"] {
            let error = parse(
                json!({"template": "paymentReceived", "data": {}, "to": {"email": "a@example.com"},
                "fallbackAfter": bad}),
            )
            .unwrap_err();
            assert_eq!(error.details[0].field, "fallbackAfter", "{bad}");
        }
        let error = parse(
            json!({"template": "paymentReceived", "data": {}, "to": {"email": "a@example.com"},
            "channels": ["sms", "sms"]}),
        )
        .unwrap_err();
        assert_eq!(error.details[0].field, "channels[1]");
        let error = parse(
            json!({"template": "paymentReceived", "data": {}, "to": {"email": "a@example.com"},
            "channels": []}),
        )
        .unwrap_err();
        assert_eq!(error.details[0].field, "channels");
    }

    #[test]
    fn no_recipient_and_bad_recipients_are_named() {
        let error =
            parse(json!({"template": "paymentReceived", "data": {}, "to": {}})).unwrap_err();
        assert_eq!(error.details[0].field, "to");
        let error = parse(
            json!({"template": "paymentReceived", "data": {}, "to": {"email": "x", "phone": "5"}}),
        )
        .unwrap_err();
        let fields: Vec<_> = error.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["to.email", "to.phone"]);
    }

    #[test]
    fn an_unknown_template_is_a_404() {
        let error =
            parse(json!({"template": "nope", "data": {}, "to": {"email": "a@example.com"}}))
                .unwrap_err();
        assert_eq!(error.status(), 404);
    }
}
