//! `SmsMessage`: a valid text message to send.

use super::PhoneNumber;
use crate::names::Category;

/// Twilio's limit for one message body.
pub const MAX_SMS_CHARS: usize = 1600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    pub to: PhoneNumber,
    pub body: String,
    /// What it is about, as [`EmailMessage::category`](super::EmailMessage) says.
    pub category: Option<Category>,
}
