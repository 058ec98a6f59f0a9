//! `DemoEmailSender`: the email channel without credentials. It logs what it would send
//! (recipients masked, no subject or body) and answers `demo`.

use super::EmailSender;
use crate::domain::{EmailMessage, Sent};
use crate::error::Error;
use crate::names::Provider;
use crate::support::BoxFuture;

#[derive(Debug, Default)]
pub struct DemoEmailSender;

impl EmailSender for DemoEmailSender {
    fn provider(&self) -> Provider {
        Provider::AwsSes
    }

    fn send<'a>(&'a self, message: &'a EmailMessage) -> BoxFuture<'a, Result<Sent, Error>> {
        let recipients: Vec<String> = message.to.iter().map(|a| a.masked()).collect();
        tracing::info!(
            channel = "email",
            mode = "demo",
            to = ?recipients,
            subject_chars = message.subject.chars().count(),
            has_html = message.html.is_some(),
            "email logged (demo mode - AWS SES not configured)"
        );
        Box::pin(std::future::ready(Ok(Sent::demo())))
    }
}
