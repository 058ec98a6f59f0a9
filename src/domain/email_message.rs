//! `EmailMessage`: a valid email to send, and the limits that make it one.

use super::{Attachment, EmailAddress};
use crate::names::Category;

pub const MAX_RECIPIENTS: usize = 50;
pub const MAX_REPLY_TO: usize = 10;
pub const MAX_SUBJECT_CHARS: usize = 200;

/// An email that SES can send as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    pub to: Vec<EmailAddress>,
    pub subject: String,
    /// The plain-text part; with `html`, its text alternative.
    pub text: Option<String>,
    pub html: Option<String>,
    pub reply_to: Vec<EmailAddress>,
    pub attachments: Vec<Attachment>,
    /// What it is about, for the suppression list and the patient's choices; `None`: only
    /// suppressions for every category apply.
    pub category: Option<Category>,
    /// The one-click unsubscribe URL (RFC 8058) for a one-recipient email of a category the
    /// patient may turn off; set by the service, never by a caller.
    pub list_unsubscribe: Option<String>,
}
