//! `DemoEmailSender`: the email channel without SES credentials. It logs what it would send
//! (recipients masked, no subject or body) and keeps the messages in memory for tests.

use super::EmailSender;
use crate::domain::EmailMessage;
use crate::error::Error;
use crate::sent::{Outbox, Sent};

#[derive(Debug, Default)]
pub struct DemoEmailSender {
    outbox: Outbox<EmailMessage>,
}

impl DemoEmailSender {
    /// The messages "sent" so far, oldest first.
    pub fn outbox(&self) -> Vec<EmailMessage> {
        self.outbox.messages()
    }
}

impl EmailSender for DemoEmailSender {
    fn provider(&self) -> &'static str {
        "aws-ses"
    }

    async fn send(&self, message: &EmailMessage) -> Result<Sent, Error> {
        let recipients: Vec<String> = message.to.iter().map(|a| a.masked()).collect();
        tracing::info!(
            channel = "email",
            mode = "demo",
            to = ?recipients,
            subject_chars = message.subject.chars().count(),
            has_html = message.html.is_some(),
            "email logged (demo mode - AWS SES not configured)"
        );
        self.outbox.push(message);
        Ok(Sent::demo())
    }
}
