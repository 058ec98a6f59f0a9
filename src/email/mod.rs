//! The email channel: the `EmailSender` trait, its providers (SES v2, any SMTP relay), tried
//! in order, and its demo stand-in.

mod demo;
mod mime;
mod ses;
mod ses_http;
mod smtp;

pub use demo::DemoEmailSender;
pub use ses::{SesEmailSender, classify_ses_error};
pub use smtp::{SmtpEmailSender, classify_smtp_reply};

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

/// One live email provider of the ordered list.
#[derive(Debug)]
pub enum EmailProvider {
    Ses(SesEmailSender),
    Smtp(SmtpEmailSender),
}

impl EmailSender for EmailProvider {
    fn provider(&self) -> &'static str {
        match self {
            Self::Ses(ses) => ses.provider(),
            Self::Smtp(smtp) => smtp.provider(),
        }
    }

    /// Each provider's send runs boxed: the SES SDK's future alone is several KiB, and every
    /// future that holds it (fail-over, timeout, the request's task) would otherwise be moved
    /// with it, byte by byte, on every send.
    async fn send(&self, message: &EmailMessage) -> Result<Sent, Error> {
        match self {
            Self::Ses(ses) => Box::pin(ses.send(message)).await,
            Self::Smtp(smtp) => Box::pin(smtp.send(message)).await,
        }
    }
}
