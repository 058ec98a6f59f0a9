//! The practice as its patients know it, shown in every template.

use super::vars::Vars;
use crate::domain::EmailAddress;
use crate::error::FieldError;

/// The practice as its patients know it, shown in every template. Everything is optional:
/// without a portal URL the messages say "your patient portal" without a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    pub practice_name: String,
    pub phone: Option<String>,
    pub support_email: Option<String>,
    pub portal_url: Option<String>,
    pub logo_url: Option<String>,
}

pub const DEFAULT_PRACTICE_NAME: &str = "Your care team";

impl Default for Branding {
    fn default() -> Self {
        Self {
            practice_name: DEFAULT_PRACTICE_NAME.to_owned(),
            phone: None,
            support_email: None,
            portal_url: None,
            logo_url: None,
        }
    }
}

pub(super) fn read_branding(vars: &Vars) -> (Branding, Vec<FieldError>) {
    let mut invalid = Vec::new();
    let mut text = |name: &'static str, max: usize| -> Option<String> {
        let value = vars.get(name)?;
        if value.chars().count() > max || value.chars().any(char::is_control) {
            invalid.push(FieldError::new(
                name,
                format!("must be one line of at most {max} characters"),
            ));
            return None;
        }
        Some(value.to_owned())
    };
    let practice_name = text("PRACTICE_NAME", 80);
    let phone = text("PRACTICE_PHONE", 30);
    let support_email = vars.get("PRACTICE_SUPPORT_EMAIL").and_then(|v| {
        EmailAddress::parse(v)
            .map(|e| e.address().to_owned())
            .map_err(|m| invalid.push(FieldError::new("PRACTICE_SUPPORT_EMAIL", m)))
            .ok()
    });
    let mut https = |name: &'static str| -> Option<String> {
        let value = vars.get(name)?;
        match reqwest::Url::parse(value) {
            Ok(url) if url.scheme() == "https" && url.has_host() => Some(url.to_string()),
            _ => {
                invalid.push(FieldError::new(name, "must be an https URL"));
                None
            }
        }
    };
    let portal_url = https("PRACTICE_PORTAL_URL");
    let logo_url = https("PRACTICE_LOGO_URL");
    let branding = Branding {
        practice_name: practice_name.unwrap_or_else(|| DEFAULT_PRACTICE_NAME.to_owned()),
        phone,
        support_email,
        portal_url,
        logo_url,
    };
    (branding, invalid)
}
