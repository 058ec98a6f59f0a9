//! The SMS channel: the `SmsSender` trait (the seam `App` sends through), its Twilio provider and
//! its demo stand-in.

mod demo;
mod twilio;

pub use demo::DemoSmsSender;
pub use twilio::{TwilioSmsSender, classify_twilio_error};

use crate::domain::{Sent, SmsMessage};
use crate::error::Error;
use crate::names::Provider;
use crate::support::BoxFuture;

/// Anything that can send an `SmsMessage`.
pub trait SmsSender: Send + Sync + std::fmt::Debug {
    /// The provider's name in answers, health and audit events.
    fn provider(&self) -> Provider;

    fn send<'a>(&'a self, message: &'a SmsMessage) -> BoxFuture<'a, Result<Sent, Error>>;
}
