//! `DemoSmsSender`: the SMS channel without Twilio credentials. It logs what it would send
//! (number masked, no text) and answers `demo`.

use super::SmsSender;
use crate::domain::{Sent, SmsMessage};
use crate::error::Error;
use crate::names::Provider;
use crate::support::BoxFuture;

#[derive(Debug, Default)]
pub struct DemoSmsSender;

impl SmsSender for DemoSmsSender {
    fn provider(&self) -> Provider {
        Provider::Twilio
    }

    fn send<'a>(&'a self, message: &'a SmsMessage) -> BoxFuture<'a, Result<Sent, Error>> {
        tracing::info!(
            channel = "sms",
            mode = "demo",
            to = %message.to.masked(),
            chars = message.body.chars().count(),
            "SMS logged (demo mode - Twilio not configured)"
        );
        Box::pin(std::future::ready(Ok(Sent::demo())))
    }
}
