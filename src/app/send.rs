//! Sending: admission (rate, key, caps, the suppression list), then each channel's attempt
//! (`attempt.rs`), its record kept with the answer for replays (a templated notification:
//! `notification.rs`).

use super::admit::{Planned, Verdict};
use super::attempt::Attempted;
use super::channel::Senders;
use super::record::{Sending, sent};
use super::{App, RequestContext};
use crate::audit::AuditRecipient;
use crate::domain::{EmailMessage, Sent, SmsMessage};
use crate::error::Error;
use crate::names::Channel;

impl App {
    /// Sends an email on the configured channel: the provider's outcome, and its record to
    /// write with the answer.
    pub async fn send_email(
        &self,
        message: &EmailMessage,
        context: &RequestContext,
    ) -> Result<Sending<Result<Sent, Error>>, Error> {
        let recipients: Vec<AuditRecipient> = message
            .to
            .iter()
            .map(|to| self.recipient(to.address(), to.masked()))
            .collect();
        let live = matches!(self.email(), Senders::Live(_));
        let planned = [Planned {
            channel: Channel::Email,
            recipients: &recipients,
            live,
            category: message.category,
        }];
        let admitted = match self.admit(context, &planned).await? {
            Verdict::Go(admitted) => admitted,
            Verdict::Replay(answer) => return Ok(Sending::Replay(answer)),
        };
        let Attempted {
            result,
            record,
            audit,
        } = self
            .email_attempt(message, context, recipients, &admitted)
            .await;
        Ok(sent(result, admitted, vec![record], vec![audit]))
    }

    /// Sends an SMS on the configured channel, as [`App::send_email`] does.
    pub async fn send_sms(
        &self,
        message: &SmsMessage,
        context: &RequestContext,
    ) -> Result<Sending<Result<Sent, Error>>, Error> {
        let recipient = self.recipient(message.to.as_str(), message.to.masked());
        let live = matches!(self.sms(), Senders::Live(_));
        let recipients = [recipient];
        let planned = [Planned {
            channel: Channel::Sms,
            recipients: &recipients,
            live,
            category: message.category,
        }];
        let admitted = match self.admit(context, &planned).await? {
            Verdict::Go(admitted) => admitted,
            Verdict::Replay(answer) => return Ok(Sending::Replay(answer)),
        };
        let [recipient] = recipients;
        let Attempted {
            result,
            record,
            audit,
        } = self
            .sms_attempt(message, context, recipient, &admitted)
            .await;
        Ok(sent(result, admitted, vec![record], vec![audit]))
    }

    /// A recipient (a normalised address or number) as the log, the lists and the audit trail
    /// name it: its keyed hash and its masked form.
    pub fn recipient(&self, address: &str, masked: String) -> AuditRecipient {
        AuditRecipient {
            hash: self.auditor.recipient_hash(address),
            masked,
        }
    }
}
