//! The eight notification templates: their names, typed data, and rendering of each into an
//! email subject, HTML body, plain-text body and SMS text. The template files under
//! `templates/` are compiled into the binary by askama, which checks every variable at build
//! time and HTML-escapes all data in `.html` files.

mod notifications;
pub mod sms_segments;
pub mod values;

use askama::Template;
use serde::Serialize;
use serde::de::DeserializeOwned;

use notifications::*;
pub use notifications::{Field, FieldKind};

use crate::config::Branding;
use crate::error::{Error, ErrorCode};
use crate::names::{Category, Channel};

/// One notification as rendered for every channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
    pub sms: String,
}

macro_rules! templates {
    ($($variant:ident: $name:literal => $module:ident, $description:literal,
       [$subject:literal, $html:literal, $text:literal, $sms:literal];)*) => {
        /// The names of the eight notifications, as callers spell them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum TemplateName {
            $($variant,)*
        }

        impl TemplateName {
            pub const ALL: &[TemplateName] = &[$(TemplateName::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $(Self::$variant => $description,)*
                }
            }

            pub fn fields(self) -> &'static [Field] {
                match self {
                    $(Self::$variant => $variant::FIELDS,)*
                }
            }

            /// Data that renders a realistic message, published for previews.
            pub fn sample(self) -> serde_json::Value {
                match self {
                    $(Self::$variant => $variant::sample(),)*
                }
            }

            /// Reads `data` as this template's typed data and renders every part; an email's
            /// footer links to the patient's `preferences` page when there is one.
            pub fn render(self, data: serde_json::Value, practice: &Branding, preferences: Option<&str>) -> Result<Rendered, Error> {
                match self {
                    $(Self::$variant => {
                        let d: $variant = parse_data(data)?;
                        let portal = d.portal_link.as_ref().map(|l| l.as_str()).or(practice.portal_url.as_deref());
                        render_parts(
                            $module::Subject { d: &d, practice, portal, preferences },
                            $module::Html { d: &d, practice, portal, preferences },
                            $module::Text { d: &d, practice, portal, preferences },
                            $module::Sms { d: &d, practice, portal, preferences },
                        )
                    })*
                }
            }
        }

        $(
            /// What the template files see: the notification's data `d`, the `practice`, and
            /// the `portal` link (the data's own `portal_link`, else the practice's portal) and
            /// the patient's `preferences` page.
            // Every part sees the same context; a subject has no use for the portal link.
            #[allow(dead_code)]
            mod $module {
                use super::*;

                #[derive(Template)]
                #[template(path = $subject)]
                pub struct Subject<'a> {
                    pub d: &'a $variant,
                    pub practice: &'a Branding,
                    pub portal: Option<&'a str>,
                    pub preferences: Option<&'a str>,
                }

                #[derive(Template)]
                #[template(path = $html)]
                pub struct Html<'a> {
                    pub d: &'a $variant,
                    pub practice: &'a Branding,
                    pub portal: Option<&'a str>,
                    pub preferences: Option<&'a str>,
                }

                #[derive(Template)]
                #[template(path = $text)]
                pub struct Text<'a> {
                    pub d: &'a $variant,
                    pub practice: &'a Branding,
                    pub portal: Option<&'a str>,
                    pub preferences: Option<&'a str>,
                }

                #[derive(Template)]
                #[template(path = $sms)]
                pub struct Sms<'a> {
                    pub d: &'a $variant,
                    pub practice: &'a Branding,
                    pub portal: Option<&'a str>,
                    pub preferences: Option<&'a str>,
                }
            }
        )*
    };
}

templates! {
    PaymentReceived: "paymentReceived" => payment_received, "Confirms a payment was received.",
        ["paymentReceived/subject.txt", "paymentReceived/email.html", "paymentReceived/email.txt", "paymentReceived/sms.txt"];
    PaymentFailed: "paymentFailed" => payment_failed, "Says a payment did not go through and how to fix it.",
        ["paymentFailed/subject.txt", "paymentFailed/email.html", "paymentFailed/email.txt", "paymentFailed/sms.txt"];
    RefundProcessed: "refundProcessed" => refund_processed, "Confirms a refund was issued.",
        ["refundProcessed/subject.txt", "refundProcessed/email.html", "refundProcessed/email.txt", "refundProcessed/sms.txt"];
    InvoiceCreated: "invoiceCreated" => invoice_created, "Announces a new invoice and its due date.",
        ["invoiceCreated/subject.txt", "invoiceCreated/email.html", "invoiceCreated/email.txt", "invoiceCreated/sms.txt"];
    AutopayEnabled: "autopayEnabled" => autopay_enabled, "Confirms autopay was turned on.",
        ["autopayEnabled/subject.txt", "autopayEnabled/email.html", "autopayEnabled/email.txt", "autopayEnabled/sms.txt"];
    AutopayFailed: "autopayFailed" => autopay_failed, "Says an autopay charge did not go through.",
        ["autopayFailed/subject.txt", "autopayFailed/email.html", "autopayFailed/email.txt", "autopayFailed/sms.txt"];
    AppointmentReminder: "appointmentReminder" => appointment_reminder, "Reminds of an upcoming appointment (date, time, place; never the reason).",
        ["appointmentReminder/subject.txt", "appointmentReminder/email.html", "appointmentReminder/email.txt", "appointmentReminder/sms.txt"];
    DocumentAssigned: "documentAssigned" => document_assigned, "Says a document is waiting in the portal (never its title).",
        ["documentAssigned/subject.txt", "documentAssigned/email.html", "documentAssigned/email.txt", "documentAssigned/sms.txt"];
}

impl TemplateName {
    /// The template called `name`, or a 404 listing the known ones.
    pub fn parse(name: &str) -> Result<Self, Error> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
                Error::new(
                    ErrorCode::TemplateNotFound,
                    format!(
                        "There is no template {name:?}. The templates are {}.",
                        known.join(", ")
                    ),
                )
            })
    }

    /// The JSON Schema of this template's `data`, from its fields (unknown fields refused, as
    /// reading the data does): what the OpenAPI description publishes for it.
    pub fn data_schema(self) -> serde_json::Value {
        let fields = self.fields();
        let properties: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|f| {
                let mut schema = f.kind.schema();
                schema["description"] = f.description.into();
                (f.name.to_owned(), schema)
            })
            .collect();
        let required: Vec<&str> = fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        serde_json::json!({
            "type": "object",
            "additionalProperties": false,
            "required": required,
            "properties": properties,
        })
    }

    /// Every template can be sent by email and by SMS.
    pub fn channels(self) -> &'static [Channel] {
        Channel::ALL
    }

    /// What the template is about, as a patient's choices and the suppression list see it.
    pub const fn category(self) -> Category {
        match self {
            Self::PaymentFailed | Self::AutopayFailed | Self::AutopayEnabled => {
                Category::BillingAlerts
            }
            Self::PaymentReceived | Self::RefundProcessed | Self::InvoiceCreated => {
                Category::BillingReceipts
            }
            Self::AppointmentReminder => Category::CareReminders,
            Self::DocumentAssigned => Category::Documents,
        }
    }
}

impl Serialize for TemplateName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for TemplateName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

impl schemars::JsonSchema for TemplateName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TemplateName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
        crate::names::names_schema("One of the eight notifications.", &names)
    }
}

impl std::fmt::Display for TemplateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The published description of one template, for `GET /api/templates`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TemplateInfo {
    #[schemars(with = "TemplateName")]
    pub name: &'static str,
    pub description: &'static str,
    /// `billing_alerts` is required: a patient may choose its channel, not turn it off.
    pub category: Category,
    pub channels: &'static [Channel],
    pub fields: &'static [Field],
    /// Data that renders a realistic message (what `GET /api/preview` uses).
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub sample: serde_json::Value,
}

impl From<TemplateName> for TemplateInfo {
    fn from(template: TemplateName) -> Self {
        Self {
            name: template.as_str(),
            description: template.description(),
            category: template.category(),
            channels: template.channels(),
            fields: template.fields(),
            sample: template.sample(),
        }
    }
}

fn parse_data<D: DeserializeOwned>(data: serde_json::Value) -> Result<D, Error> {
    serde_path_to_error::deserialize(data).map_err(|e| Error::from_serde("data", e))
}

fn render_parts(
    subject: impl Template,
    html: impl Template,
    text: impl Template,
    sms: impl Template,
) -> Result<Rendered, Error> {
    let render = |part: &dyn askama::DynTemplate| {
        part.dyn_render().map_err(|e| {
            Error::new(
                ErrorCode::TemplateRenderFailed,
                format!("The template could not be rendered: {e}"),
            )
        })
    };
    Ok(Rendered {
        subject: one_line(&render(&subject)?),
        html: render(&html)?,
        text: tidy_text(&render(&text)?),
        sms: tidy_text(&render(&sms)?),
    })
}

/// Template files are laid out for people to read; a subject is one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Trims each line and keeps at most one blank line between paragraphs.
fn tidy_text(text: &str) -> String {
    let mut tidy = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.trim().lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        tidy.push_str(line.trim_start());
        tidy.push('\n');
    }
    tidy.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn branding() -> Branding {
        Branding {
            practice_name: "Sunrise Clinic".into(),
            phone: Some("(555) 010-2000".into()),
            support_email: Some("help@sunrise.example.com".into()),
            portal_url: Some("https://portal.sunrise.example.com/".into()),
            logo_url: None,
        }
    }

    #[test]
    fn every_template_renders_its_sample_on_every_channel() {
        for template in TemplateName::ALL {
            let rendered = template
                .render(template.sample(), &branding(), None)
                .unwrap();
            assert!(
                !rendered.subject.is_empty() && !rendered.subject.contains('\n'),
                "{template:?}"
            );
            assert!(
                rendered.html.contains("John Doe") && rendered.html.starts_with("<!DOCTYPE html>"),
                "{template:?}"
            );
            assert!(rendered.text.contains("Hello John Doe,"), "{template:?}");
            assert!(rendered.sms.starts_with("Sunrise Clinic: "), "{template:?}");
            assert!(
                !rendered.sms.contains("John"),
                "the SMS carries no name: {template:?}"
            );
        }
    }

    #[test]
    fn every_sample_sms_fits_one_gsm7_segment() {
        for template in TemplateName::ALL {
            let rendered = template
                .render(template.sample(), &branding(), None)
                .unwrap();
            let sms = sms_segments::count(&rendered.sms);
            assert_eq!(
                (sms.encoding, sms.segments),
                (sms_segments::SmsEncoding::Gsm7, 1),
                "{template:?}: {:?} ({} units)",
                rendered.sms,
                sms.units
            );
        }
    }

    #[test]
    fn money_and_dates_are_shown_as_people_read_them() {
        let rendered = TemplateName::PaymentFailed
            .render(TemplateName::PaymentFailed.sample(), &branding(), None)
            .unwrap();
        assert!(rendered.text.contains("$1,234.50"), "{}", rendered.text);
        assert!(
            rendered.text.contains("Tuesday, October 28, 2025"),
            "{}",
            rendered.text
        );
        let reminder = TemplateName::AppointmentReminder
            .render(
                TemplateName::AppointmentReminder.sample(),
                &branding(),
                None,
            )
            .unwrap();
        assert_eq!(
            reminder.subject,
            "Appointment reminder: Tue, Oct 28 at 2:30 PM"
        );
    }

    #[test]
    fn scripts_and_quotes_in_data_are_escaped_in_html() {
        let mut data = TemplateName::PaymentReceived.sample();
        data["client_name"] = json!("<script>alert('x')</script> \"Bobby\"");
        let rendered = TemplateName::PaymentReceived
            .render(data, &branding(), None)
            .unwrap();
        assert!(!rendered.html.contains("<script>"), "{}", rendered.html);
        assert!(
            rendered.html.contains("&#60;script&#62;"),
            "{}",
            rendered.html
        );
        assert!(
            rendered.html.contains("&#34;Bobby&#34;"),
            "{}",
            rendered.html
        );
        assert!(
            rendered.text.contains("<script>alert('x')</script>"),
            "text stays as written"
        );
    }

    #[test]
    fn missing_and_mistyped_fields_are_400s_naming_the_field() {
        let mut data = TemplateName::InvoiceCreated.sample();
        data.as_object_mut().unwrap().remove("due_date");
        let error = TemplateName::InvoiceCreated
            .render(data, &branding(), None)
            .unwrap_err();
        assert_eq!(
            (error.status(), error.details[0].field.as_str()),
            (400, "data.due_date")
        );

        let mut data = TemplateName::InvoiceCreated.sample();
        data["total_amount"] = json!("lots");
        let error = TemplateName::InvoiceCreated
            .render(data, &branding(), None)
            .unwrap_err();
        assert_eq!(error.details[0].field, "data.total_amount");

        let mut data = TemplateName::InvoiceCreated.sample();
        data["diagnosis"] = json!("anything");
        let error = TemplateName::InvoiceCreated
            .render(data, &branding(), None)
            .unwrap_err();
        assert_eq!(error.details[0].field, "data.diagnosis");
    }

    #[test]
    fn unknown_templates_are_404s_listing_the_known_ones() {
        let error = TemplateName::parse("paymentRecieved").unwrap_err();
        assert_eq!(
            (error.status(), error.code.as_str()),
            (404, "template_not_found")
        );
        for template in TemplateName::ALL {
            assert!(error.message.contains(template.as_str()));
        }
    }

    #[test]
    fn published_fields_match_what_the_data_accepts() {
        for template in TemplateName::ALL {
            let sample = template.sample();
            for key in sample.as_object().unwrap().keys() {
                assert!(
                    template.fields().iter().any(|f| f.name == key),
                    "{template:?}: sample field {key} is not published"
                );
            }
            for field in template.fields().iter().filter(|f| f.required) {
                let mut data = sample.clone();
                data.as_object_mut().unwrap().remove(field.name);
                let error = template.render(data, &branding(), None).unwrap_err();
                assert_eq!(error.details[0].field, format!("data.{}", field.name));
            }
        }
    }

    #[test]
    fn without_a_portal_url_the_messages_point_to_the_portal_in_words() {
        let rendered = TemplateName::InvoiceCreated
            .render(
                TemplateName::InvoiceCreated.sample(),
                &Branding::default(),
                None,
            )
            .unwrap();
        assert!(rendered.text.contains("Sign in to your patient portal"));
        assert!(!rendered.html.contains("href=\"https://portal"));
        assert!(rendered.sms.starts_with("Your care team: "));
    }

    #[test]
    fn every_email_footer_links_the_preference_page_when_there_is_one_and_texts_never_do() {
        let link = "https://notify.example.com/preferences.html#abc.def";
        for template in TemplateName::ALL {
            let rendered = template
                .render(template.sample(), &branding(), Some(link))
                .unwrap();
            assert!(
                rendered
                    .text
                    .contains(&format!("Choose which messages you get: {link}")),
                "{template:?}"
            );
            assert!(
                rendered.html.contains(&format!("href=\"{link}\"")),
                "{template:?}"
            );
            assert!(!rendered.sms.contains(link), "{template:?}");
            let without = template
                .render(template.sample(), &branding(), None)
                .unwrap();
            assert!(
                !without.text.contains("Choose which messages"),
                "{template:?}"
            );
        }
    }
}
