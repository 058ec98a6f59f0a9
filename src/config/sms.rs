//! The SMS channel's settings: the Twilio account and who the messages come from.

use super::Secret;
use super::vars::{Vars, check_url};
use crate::domain::PhoneNumber;
use crate::error::FieldError;

/// Who the SMS comes from: a number, a Messaging Service, or both (the service then picks
/// features such as opt-out handling while the number stays the sender).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioSender {
    pub phone_number: Option<PhoneNumber>,
    pub messaging_service_sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioSettings {
    pub account_sid: String,
    pub auth_token: Secret,
    pub sender: TwilioSender,
    pub api_base_url: String,
}

pub const DEFAULT_TWILIO_API_BASE_URL: &str = "https://api.twilio.com";

pub(super) const TWILIO_REQUIRED: &[&[&str]] = &[
    &["TWILIO_ACCOUNT_SID"],
    &["TWILIO_AUTH_TOKEN"],
    &["TWILIO_PHONE_NUMBER", "TWILIO_MESSAGING_SERVICE_SID"],
];

pub(super) fn read_twilio(vars: &Vars, invalid: &mut Vec<FieldError>) -> Option<TwilioSettings> {
    let account_sid = vars.get("TWILIO_ACCOUNT_SID");
    if account_sid.is_some_and(|sid| !is_twilio_sid(sid, "AC")) {
        invalid.push(FieldError::new(
            "TWILIO_ACCOUNT_SID",
            "must be AC followed by 32 hexadecimal characters, as shown in the Twilio Console",
        ));
    }
    let phone_number = vars.get("TWILIO_PHONE_NUMBER").and_then(|v| {
        PhoneNumber::parse(v)
            .map_err(|m| invalid.push(FieldError::new("TWILIO_PHONE_NUMBER", m)))
            .ok()
    });
    let messaging_service_sid = vars.get("TWILIO_MESSAGING_SERVICE_SID");
    if messaging_service_sid.is_some_and(|sid| !is_twilio_sid(sid, "MG")) {
        invalid.push(FieldError::new(
            "TWILIO_MESSAGING_SERVICE_SID",
            "must be MG followed by 32 hexadecimal characters",
        ));
    }
    let api_base_url = vars
        .get("TWILIO_API_BASE_URL")
        .map_or(Some(DEFAULT_TWILIO_API_BASE_URL.to_owned()), |v| {
            check_url("TWILIO_API_BASE_URL", v, invalid)
        });
    let sender = TwilioSender {
        phone_number,
        messaging_service_sid: messaging_service_sid.map(str::to_owned),
    };
    if sender.phone_number.is_none() && sender.messaging_service_sid.is_none() {
        return None;
    }
    Some(TwilioSettings {
        account_sid: account_sid?.to_owned(),
        auth_token: Secret::new(vars.get("TWILIO_AUTH_TOKEN")?),
        sender,
        api_base_url: api_base_url?,
    })
}

pub(super) fn is_twilio_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}
