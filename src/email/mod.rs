//! The email channel: the `EmailSender` trait, its SES v2 provider and its demo stand-in.

mod demo;
mod ses;
mod ses_http;

pub use demo::DemoEmailSender;
pub use ses::{SesEmailSender, classify_ses_error};

use crate::domain::EmailMessage;
use crate::error::Error;
use crate::sent::Sent;

/// Anything that can send an `EmailMessage`.
pub trait EmailSender: Send + Sync {
    /// The provider's name in answers, health and audit events.
    fn provider(&self) -> &'static str;

    fn send(
        &self,
        message: &EmailMessage,
    ) -> impl std::future::Future<Output = Result<Sent, Error>> + Send;
}
