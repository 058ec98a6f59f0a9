//! Domain types: what a valid recipient, message, delivery event and quiet-hours window are. Requests are parsed
//! into these once, at the edge, so everything below the HTTP layer holds only valid values.

mod attachment;
mod caller;
mod delivery_event;
mod email_address;
mod email_message;
mod permissions;
mod phone_number;
mod quiet_hours;
mod recipients;
mod sent;
mod sms_message;

pub use attachment::{
    Attachment, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, is_executable, parse_content_type,
    sanitize_filename, total_too_large,
};
pub use caller::Caller;
pub use delivery_event::DeliveryEvent;
pub use email_address::EmailAddress;
pub use email_message::{EmailMessage, MAX_RECIPIENTS, MAX_REPLY_TO, MAX_SUBJECT_CHARS};
pub use permissions::Permissions;
pub use phone_number::PhoneNumber;
pub use quiet_hours::QuietHours;
pub use recipients::Recipients;
pub use sent::Sent;
pub use sms_message::{MAX_SMS_CHARS, SmsMessage};
