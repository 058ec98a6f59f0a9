//! The `POST /api/send-notification` body, parsed into a template, its data and recipients.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::json;

use super::schedule::{SEND_AT_DOC, TIMEZONE_DOC, URGENT_DOC};
use crate::domain::{EmailAddress, PhoneNumber, Recipients};
use crate::error::{Error, FieldError};
use crate::templates::TemplateName;

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
    /// (the template reads it), and the recipients (at least one).
    pub fn parse(self) -> Result<(TemplateName, serde_json::Value, Recipients), Error> {
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
        match (template, self.data) {
            (Some(template), Some(data)) if errors.is_empty() => Ok((template, data, recipients)),
            _ => Err(Error::invalid_fields(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(
        value: serde_json::Value,
    ) -> Result<(TemplateName, serde_json::Value, Recipients), Error> {
        serde_json::from_value::<SendNotificationRequest>(value)
            .unwrap()
            .parse()
    }

    #[test]
    fn either_recipient_alone_is_enough() {
        let (_, _, to) = parse(
            json!({"template": "paymentReceived", "data": {}, "to": {"phone": "+15551234567"}}),
        )
        .unwrap();
        assert!(to.email.is_none() && to.phone.is_some());
        let (_, _, to) = parse(
            json!({"template": "paymentReceived", "data": {}, "to": {"email": "a@example.com"}}),
        )
        .unwrap();
        assert!(to.email.is_some() && to.phone.is_none());
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
