//! The send requests as callers write them (JSON, camelCase, one address or many), parsed
//! here into domain types: by the HTTP adapter as they arrive, and by the service when a
//! scheduled one comes due. Nothing below reads JSON requests.

mod attachments;
mod batch;
mod preferences;
mod schedule;
mod send_email;
mod send_notification;
mod send_sms;
mod suppress;

pub use batch::{BatchRequest, MAX_BATCH_ITEMS};
pub use preferences::{PatientAddresses, PreferencesChange, PreferencesRequest, patient};
pub use schedule::{RescheduleRequest, SCHEDULE_WINDOW, Timed, Timing, without_send_at};
pub use send_email::{OneOrMany, SendEmailRequest};
pub use send_notification::{Delivery, ParsedNotification, SendNotificationRequest};
pub use send_sms::SendSmsRequest;
pub use suppress::{LiftRequest, ManualSuppression, SuppressRequest};
