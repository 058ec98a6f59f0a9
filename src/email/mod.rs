//! The email channel: the `EmailSender` trait (the seam `App` sends through), its providers (SES
//! v2, any SMTP relay) and its demo stand-in.

mod demo;
mod mime;
mod ses;
mod smtp;

pub use demo::DemoEmailSender;
pub use ses::{REFRESH_BEFORE_EXPIRY, SesEmailSender, WebIdentityToken, classify_ses_error};
pub use smtp::{SmtpEmailSender, classify_smtp_reply};

use crate::domain::{EmailAddress, EmailMessage, Sent};
use crate::error::Error;
use crate::names::Provider;
use crate::support::BoxFuture;

/// Anything that can send an `EmailMessage`. Sends are boxed: the SES SDK's future alone is
/// several KiB, and every future that holds it (fail-over, timeout, the request's task) would
/// otherwise be moved with it, byte by byte, on every send.
pub trait EmailSender: Send + Sync + std::fmt::Debug {
    /// The provider's name in answers, health and audit events.
    fn provider(&self) -> Provider;

    fn send<'a>(&'a self, message: &'a EmailMessage) -> BoxFuture<'a, Result<Sent, Error>>;

    /// Removes `address` from the provider's own suppression list, if it keeps one (SES's
    /// account-level list drops mail to a listed address without a word): whether it was on it.
    fn forget_suppressed<'a>(
        &'a self,
        _address: &'a EmailAddress,
    ) -> BoxFuture<'a, Result<Option<bool>, Error>> {
        Box::pin(std::future::ready(Ok(None)))
    }

    /// The account's maximum send rate (recipients per second), if the provider tells it.
    fn max_send_rate(&self) -> BoxFuture<'_, Option<f64>> {
        Box::pin(std::future::ready(None))
    }
}
