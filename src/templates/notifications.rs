//! The eight notifications' data: one typed struct each, so that reading a request's `data` is
//! its validation, with the field list and sample data that `GET /api/templates` publishes.
//! No field carries a diagnosis, a service or a visit reason: the minimum a patient needs.

use serde::Deserialize;
use serde_json::{Value, json};

use super::values::{Date, Last4, Money, PortalLink, ShortText, TimeOfDay};

/// One field of a template's data, as published.
#[derive(Debug, Clone, Copy, serde::Serialize, schemars::JsonSchema)]
pub struct Field {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    pub required: bool,
    pub description: &'static str,
}

/// What a field holds: its name in `GET /api/templates`, and its JSON Schema in the OpenAPI
/// description (as the value types of `values.rs` read it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Money,
    Date,
    Time,
    Url,
}

impl FieldKind {
    pub const ALL: &[FieldKind] = &[Self::Text, Self::Money, Self::Date, Self::Time, Self::Url];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Text => "string",
            Self::Money => "money",
            Self::Date => "date",
            Self::Time => "time",
            Self::Url => "url",
        }
    }

    pub fn schema(self) -> Value {
        match self {
            Self::Text => json!({"type": "string"}),
            Self::Money => json!({"type": ["number", "string"]}),
            Self::Date => json!({"type": "string", "format": "date"}),
            Self::Time => json!({"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$"}),
            Self::Url => json!({"type": "string", "format": "uri"}),
        }
    }
}

impl schemars::JsonSchema for FieldKind {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FieldKind".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
        crate::names::names_schema("What a template's field holds.", &names)
    }
}

impl serde::Serialize for FieldKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

const fn field(
    name: &'static str,
    kind: FieldKind,
    required: bool,
    description: &'static str,
) -> Field {
    Field {
        name,
        kind,
        required,
        description,
    }
}

const CLIENT_NAME: Field = field(
    "client_name",
    FieldKind::Text,
    true,
    "the patient's name as the practice addresses them",
);
const INVOICE_NUMBER: Field = field(
    "invoice_number",
    FieldKind::Text,
    true,
    "the invoice's number, e.g. INV-123",
);
const TOTAL_AMOUNT: Field = field(
    "total_amount",
    FieldKind::Money,
    true,
    "US dollars, a number or a string: 100, \"1234.50\"",
);
const CARD_LAST4: Field = field(
    "card_last4",
    FieldKind::Text,
    false,
    "the last four digits of the card or account",
);
const PORTAL_LINK: Field = field(
    "portal_link",
    FieldKind::Url,
    false,
    "an https link into the portal; defaults to PRACTICE_PORTAL_URL",
);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentReceived {
    pub client_name: ShortText,
    pub invoice_number: ShortText,
    pub total_amount: Money,
    pub payment_date: Option<Date>,
    pub card_last4: Option<Last4>,
    pub portal_link: Option<PortalLink>,
}

impl PaymentReceived {
    pub const FIELDS: &[Field] = &[
        CLIENT_NAME,
        INVOICE_NUMBER,
        TOTAL_AMOUNT,
        field("payment_date", FieldKind::Date, false, "YYYY-MM-DD"),
        CARD_LAST4,
        PORTAL_LINK,
    ];

    pub fn sample() -> Value {
        json!({"client_name": "John Doe", "invoice_number": "INV-123", "total_amount": 100.00,
               "payment_date": "2025-10-25", "card_last4": "4242"})
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentFailed {
    pub client_name: ShortText,
    pub invoice_number: ShortText,
    pub total_amount: Money,
    pub card_last4: Option<Last4>,
    pub retry_date: Option<Date>,
    pub portal_link: Option<PortalLink>,
}

impl PaymentFailed {
    pub const FIELDS: &[Field] = &[
        CLIENT_NAME,
        INVOICE_NUMBER,
        TOTAL_AMOUNT,
        CARD_LAST4,
        field(
            "retry_date",
            FieldKind::Date,
            false,
            "when the payment will be tried again, YYYY-MM-DD",
        ),
        PORTAL_LINK,
    ];

    pub fn sample() -> Value {
        json!({"client_name": "John Doe", "invoice_number": "INV-123", "total_amount": "1234.50",
               "card_last4": "4242", "retry_date": "2025-10-28"})
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundProcessed {
    pub client_name: ShortText,
    pub invoice_number: ShortText,
    pub refund_amount: Money,
    pub refund_date: Option<Date>,
    pub card_last4: Option<Last4>,
    pub portal_link: Option<PortalLink>,
}

impl RefundProcessed {
    pub const FIELDS: &[Field] = &[
        CLIENT_NAME,
        INVOICE_NUMBER,
        field(
            "refund_amount",
            FieldKind::Money,
            true,
            "US dollars refunded",
        ),
        field("refund_date", FieldKind::Date, false, "YYYY-MM-DD"),
        CARD_LAST4,
        PORTAL_LINK,
    ];

    pub fn sample() -> Value {
        json!({"client_name": "John Doe", "invoice_number": "INV-123", "refund_amount": 25,
               "refund_date": "2025-10-26", "card_last4": "4242"})
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceCreated {
    pub client_name: ShortText,
    pub invoice_number: ShortText,
    pub total_amount: Money,
    pub due_date: Date,
    pub portal_link: Option<PortalLink>,
}

impl InvoiceCreated {
    pub const FIELDS: &[Field] = &[
        CLIENT_NAME,
        INVOICE_NUMBER,
        TOTAL_AMOUNT,
        field("due_date", FieldKind::Date, true, "YYYY-MM-DD"),
        PORTAL_LINK,
    ];

    pub fn sample() -> Value {
        json!({"client_name": "John Doe", "invoice_number": "INV-124", "total_amount": 150,
               "due_date": "2025-11-30"})
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutopayEnabled {
    pub client_name: ShortText,
    pub card_last4: Last4,
    pub start_date: Option<Date>,
    pub portal_link: Option<PortalLink>,
}

impl AutopayEnabled {
    pub const FIELDS: &[Field] = &[
        CLIENT_NAME,
        field(
            "card_last4",
            FieldKind::Text,
            true,
            "the last four digits of the card autopay charges",
        ),
        field(
            "start_date",
            FieldKind::Date,
            false,
            "the first autopay charge, YYYY-MM-DD",
        ),
        PORTAL_LINK,
    ];

    pub fn sample() -> Value {
        json!({"client_name": "John Doe", "card_last4": "4242", "start_date": "2025-11-01"})
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutopayFailed {
    pub client_name: ShortText,
    pub invoice_number: ShortText,
    pub total_amount: Money,
    pub card_last4: Option<Last4>,
    pub portal_link: Option<PortalLink>,
}

impl AutopayFailed {
    pub const FIELDS: &[Field] = &[
        CLIENT_NAME,
        INVOICE_NUMBER,
        TOTAL_AMOUNT,
        CARD_LAST4,
        PORTAL_LINK,
    ];

    pub fn sample() -> Value {
        json!({"client_name": "John Doe", "invoice_number": "INV-125", "total_amount": 80,
               "card_last4": "4242"})
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentReminder {
    pub client_name: ShortText,
    pub appointment_date: Date,
    pub appointment_time: TimeOfDay,
    pub provider_name: Option<ShortText>,
    pub location: Option<ShortText>,
    pub portal_link: Option<PortalLink>,
}

impl AppointmentReminder {
    pub const FIELDS: &[Field] = &[
        CLIENT_NAME,
        field("appointment_date", FieldKind::Date, true, "YYYY-MM-DD"),
        field(
            "appointment_time",
            FieldKind::Time,
            true,
            "24-hour HH:MM, the practice's local time",
        ),
        field(
            "provider_name",
            FieldKind::Text,
            false,
            "who the patient will see (email only)",
        ),
        field(
            "location",
            FieldKind::Text,
            false,
            "where, e.g. the practice's address or \"Video visit\"",
        ),
        PORTAL_LINK,
    ];

    pub fn sample() -> Value {
        json!({"client_name": "John Doe", "appointment_date": "2025-10-28", "appointment_time": "14:30",
               "provider_name": "Dr. Rivera", "location": "12 Main Street, Suite 4"})
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentAssigned {
    pub client_name: ShortText,
    pub due_date: Option<Date>,
    pub portal_link: Option<PortalLink>,
}

impl DocumentAssigned {
    pub const FIELDS: &[Field] = &[
        CLIENT_NAME,
        field(
            "due_date",
            FieldKind::Date,
            false,
            "when it should be completed, YYYY-MM-DD",
        ),
        PORTAL_LINK,
    ];

    pub fn sample() -> Value {
        json!({"client_name": "John Doe", "due_date": "2025-11-05"})
    }
}
