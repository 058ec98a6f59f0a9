//! `DemoSmsSender`: the SMS channel without Twilio credentials. It logs what it would send
//! (number masked, no text) and keeps the messages in memory for tests.

use super::SmsSender;
use crate::domain::SmsMessage;
use crate::error::Error;
use crate::sent::{Outbox, Sent};

#[derive(Debug, Default)]
pub struct DemoSmsSender {
    outbox: Outbox<SmsMessage>,
}

impl DemoSmsSender {
    /// The messages "sent" so far, oldest first.
    pub fn outbox(&self) -> Vec<SmsMessage> {
        self.outbox.messages()
    }
}

impl SmsSender for DemoSmsSender {
    fn provider(&self) -> &'static str {
        "twilio"
    }

    async fn send(&self, message: &SmsMessage) -> Result<Sent, Error> {
        tracing::info!(
            channel = "sms",
            mode = "demo",
            to = %message.to.masked(),
            chars = message.body.chars().count(),
            "SMS logged (demo mode - Twilio not configured)"
        );
        self.outbox.push(message);
        Ok(Sent::demo())
    }
}
