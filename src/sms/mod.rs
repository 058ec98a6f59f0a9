//! The SMS channel: the `SmsSender` trait, its Twilio provider and its demo stand-in.

mod demo;
mod twilio;

pub use demo::DemoSmsSender;
pub use twilio::{TwilioSmsSender, classify_twilio_error};

use crate::domain::SmsMessage;
use crate::error::Error;
use crate::sent::Sent;

/// Anything that can send an `SmsMessage`.
pub trait SmsSender: Send + Sync {
    /// The provider's name in answers, health and audit events.
    fn provider(&self) -> &'static str;

    fn send(
        &self,
        message: &SmsMessage,
    ) -> impl std::future::Future<Output = Result<Sent, Error>> + Send;
}
