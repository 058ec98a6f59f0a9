//! The JSON contract's request bodies as callers send them (camelCase, one address or many),
//! parsed here into domain types, so nothing below the HTTP layer sees the wire.

mod attachments;
mod schedule;
mod send_email;
mod send_notification;
mod send_sms;

pub use schedule::{RescheduleRequest, Timed, Timing, without_send_at};
pub use send_email::SendEmailRequest;
pub use send_notification::SendNotificationRequest;
pub use send_sms::SendSmsRequest;
