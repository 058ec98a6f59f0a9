//! Domain types: what a valid recipient and a valid message are. Requests are parsed into
//! these once, at the edge, so everything after the HTTP layer holds only valid values.

mod attachment;
mod email_address;
mod email_message;
mod notification_request;
mod phone_number;
mod sms_message;

pub use attachment::{
    Attachment, AttachmentRequest, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, parse_attachments,
    total_too_large,
};
pub use email_address::EmailAddress;
pub use email_message::{
    EmailMessage, MAX_RECIPIENTS, MAX_SUBJECT_CHARS, OneOrMany, SendEmailRequest,
};
pub use notification_request::{RecipientsRequest, SendNotificationRequest};
pub use phone_number::PhoneNumber;
pub use sms_message::{MAX_SMS_CHARS, SendSmsRequest, SmsMessage};
