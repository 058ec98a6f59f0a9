//! One attempt on one channel: the recipients it is withheld from left out (`withheld.rs`), the providers
//! tried in order (failover) within the send budget, Twilio's refusals added to the list, and
//! the attempt's audit event and message record.

use std::time::Instant;

use super::admit::Admitted;
use super::channel::Senders;
use super::withheld::{Withheld, is_billing};
use super::{App, RequestContext};
use crate::audit::{AuditEvent, AuditRecipient};
use crate::config::Misconfiguration;
use crate::domain::{EmailMessage, Sent, SmsMessage};
use crate::email::EmailSender;
use crate::error::{Attempt, DeclinedRecipient, Error, ErrorCode, SuppressedRecipient};
use crate::names::{AuditKind, AuditOutcome, Category, Channel, MessageStatus, Provider};
use crate::store::MessageRecord;
use crate::support::{NonEmpty, new_id};

/// One attempt on one channel, for the audit trail and the message log.
pub(super) struct Attempted {
    pub result: Result<Sent, Error>,
    pub record: MessageRecord,
    /// The attempt's audit line, kept by the store with the record.
    pub audit: String,
}

impl App {
    /// One email on the configured channel to the recipients it is not withheld from, unless
    /// they are over their caps.
    pub(super) async fn email_attempt(
        &self,
        message: &EmailMessage,
        context: &RequestContext,
        recipients: Vec<AuditRecipient>,
        admitted: &Admitted,
    ) -> Attempted {
        let started = Instant::now();
        let senders = self.email();
        let withheld = admitted.withheld(Channel::Email, &recipients);
        let (suppressed, declined) = split(&withheld);
        let (provider, result) = if withheld.iter().all(Option::is_some) {
            let provider = match senders {
                Senders::Live(providers) => providers.first.provider(),
                Senders::Demo(demo) => demo.provider(),
                Senders::Misconfigured(_) => Provider::AwsSes,
            };
            (provider, Err(Error::withheld(suppressed, declined)))
        } else {
            let going: Vec<&AuditRecipient> = recipients
                .iter()
                .zip(&withheld)
                .filter(|(_, w)| w.is_none())
                .map(|(r, _)| r)
                .collect();
            // One link names one recipient: only a one-recipient email carries it.
            let link = match going.as_slice() {
                [one] => self.unsubscribe_link(Channel::Email, one, message.category),
                _ => None,
            };
            let changed;
            let message = if withheld.iter().all(Option::is_none) && link.is_none() {
                message
            } else {
                let to = message.to.iter().zip(&withheld);
                changed = EmailMessage {
                    to: to
                        .filter(|(_, s)| s.is_none())
                        .map(|(to, _)| to.clone())
                        .collect(),
                    list_unsubscribe: link,
                    ..message.clone()
                };
                &changed
            };
            let (provider, result) = match senders {
                Senders::Live(providers) => {
                    match admitted.refusal(Channel::Email, message.category) {
                        None => self.send_with_failover(providers, message).await,
                        Some(error) => (providers.first.provider(), Err(error)),
                    }
                }
                Senders::Demo(demo) => (demo.provider(), demo.send(message).await),
                Senders::Misconfigured(m) => (Provider::AwsSes, Err(misconfigured("Email", m))),
            };
            let sent = |sent| Sent {
                suppressed,
                declined,
                ..sent
            };
            (provider, result.map(sent))
        };
        let attempt = ((Channel::Email, message.category), provider, result);
        self.attempted(attempt, senders, recipients, context, started, admitted)
    }

    /// One SMS on the configured channel, unless it is withheld from its recipient or the
    /// recipient is over the cap. Twilio's answer that the number opted out or cannot take texts puts it on
    /// the list.
    pub(super) async fn sms_attempt(
        &self,
        message: &SmsMessage,
        context: &RequestContext,
        recipient: AuditRecipient,
        admitted: &Admitted,
    ) -> Attempted {
        let started = Instant::now();
        let senders = self.sms();
        let withheld = admitted.withheld(Channel::Sms, std::slice::from_ref(&recipient));
        let (provider, result) = match senders {
            _ if withheld[0].is_some() => {
                let provider = match senders {
                    Senders::Demo(demo) => demo.provider(),
                    _ => Provider::Twilio,
                };
                let (suppressed, declined) = split(&withheld);
                (provider, Err(Error::withheld(suppressed, declined)))
            }
            Senders::Live(providers) => {
                let twilio = &providers.first;
                let provider = twilio.provider();
                let result = match admitted.refusal(Channel::Sms, message.category) {
                    None => twilio
                        .send(message)
                        .await
                        .map(|sent| Sent {
                            provider: Some(provider),
                            ..sent
                        })
                        .map_err(|error| Error {
                            provider: Some(provider),
                            ..error
                        }),
                    Some(error) => Err(error),
                };
                (provider, result)
            }
            Senders::Demo(demo) => (demo.provider(), demo.send(message).await),
            Senders::Misconfigured(m) => (Provider::Twilio, Err(misconfigured("SMS", m))),
        };
        let attempt = ((Channel::Sms, message.category), provider, result);
        let attempted = self.attempted(
            attempt,
            senders,
            vec![recipient],
            context,
            started,
            admitted,
        );
        if let (Err(error), Some(recipient)) =
            (&attempted.result, attempted.record.recipients.first())
        {
            self.suppress_refused_number(error, recipient, &attempted.record.id, context)
                .await;
        }
        attempted
    }

    /// Tries each provider in order, moving on only when the failure means the message was not
    /// accepted and another provider could succeed; the whole send stays within the send
    /// budget. The answer names the provider that took the message and those that failed first.
    async fn send_with_failover(
        &self,
        providers: &NonEmpty<Box<dyn EmailSender>>,
        message: &EmailMessage,
    ) -> (Provider, Result<Sent, Error>) {
        let mut attempts: Vec<Attempt> = Vec::new();
        let mut last = providers.first.provider();
        let all = async {
            let mut result = providers.first.send(message).await;
            for sender in &providers.rest {
                match &result {
                    Err(error) if error.may_fail_over() => attempts.push(Attempt {
                        provider: last,
                        code: error.code,
                    }),
                    _ => break,
                }
                last = sender.provider();
                result = sender.send(message).await;
            }
            let attempts = std::mem::take(&mut attempts);
            match result {
                Ok(sent) => Ok(Sent {
                    provider: Some(last),
                    failed_over: attempts,
                    ..sent
                }),
                Err(error) => Err(Error {
                    provider: Some(last),
                    attempts,
                    ..error
                }),
            }
        };
        let result = match tokio::time::timeout(self.config.policy.send_timeout, all).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(
                ErrorCode::ProviderTimeout,
                "The email providers did not answer in time. The email may or may not have been sent.",
            )
            .with_acceptance_unknown()),
        };
        (last, result)
    }

    /// Gives the attempt its id, writes its audit event and makes its message record.
    pub(super) fn attempted<S: ?Sized>(
        &self,
        ((channel, category), provider, result): (
            (Channel, Option<Category>),
            Provider,
            Result<Sent, Error>,
        ),
        senders: &Senders<S>,
        recipients: Vec<AuditRecipient>,
        context: &RequestContext,
        started: Instant,
        admitted: &Admitted,
    ) -> Attempted {
        // A scheduled send's run records under the ids its scheduling gave.
        let id = match context.scheduled.as_ref().and_then(|ids| ids.of(channel)) {
            Some(id) => id.to_owned(),
            None => format!("msg_{}", new_id()),
        };
        let result = result
            .map(|sent| Sent {
                id: Some(id.clone()),
                ..sent
            })
            .map_err(|error| Error {
                id: Some(id.clone()),
                ..error
            });
        let (outcome, status, message_id, error, failed_over) = match &result {
            Ok(sent) if sent.demo => (
                AuditOutcome::Logged,
                MessageStatus::Logged,
                None,
                None,
                &[][..],
            ),
            Ok(sent) => (
                AuditOutcome::Sent,
                MessageStatus::Sent,
                sent.message_id.as_deref(),
                None,
                sent.failed_over.as_slice(),
            ),
            Err(error) if error.code == ErrorCode::RecipientSuppressed => (
                AuditOutcome::Suppressed,
                MessageStatus::Suppressed,
                None,
                Some(error),
                &[][..],
            ),
            Err(error) if error.code == ErrorCode::RecipientDeclined => (
                AuditOutcome::Declined,
                MessageStatus::Declined,
                None,
                Some(error),
                &[][..],
            ),
            Err(error) => (
                AuditOutcome::Failed,
                MessageStatus::Failed,
                None,
                Some(error),
                error.attempts.as_slice(),
            ),
        };
        let suppressions: Vec<&str> = recipients
            .iter()
            .filter_map(|r| admitted.suppression(channel, &r.hash))
            .map(|s| s.id.as_str())
            .collect();
        // Billing texts are not covered by the TCPA's healthcare exemption: whether consent
        // was on file is kept with each.
        let consent_on_file = (channel == Channel::Sms && category.is_some_and(is_billing))
            .then(|| recipients.iter().all(|r| admitted.consent_on_file(&r.hash)));
        let audit = self.auditor.record(&AuditEvent {
            kind: "audit",
            event: AuditKind::SendAttempt,
            time: crate::support::now_rfc3339(),
            request_id: &context.request_id,
            id: &id,
            channel,
            template: context.template,
            provider,
            mode: senders.mode(),
            outcome,
            message_id,
            error_code: error.map(|e| e.code),
            provider_code: error.and_then(|e| e.provider_code.as_deref()),
            hint: error.and_then(|e| e.hint.as_deref()),
            status: error.map_or(200, Error::status),
            latency_ms: started.elapsed().as_millis() as u64,
            recipients: recipients.clone(),
            failed_over,
            acceptance_unknown: error.is_some_and(|e| e.acceptance_unknown),
            suppressions,
            declined: recipients
                .iter()
                .filter_map(|r| admitted.decline(channel, &r.hash))
                .collect(),
            consent_on_file,
        });
        let mut record = MessageRecord {
            provider_message_id: message_id.map(str::to_owned),
            error_code: error.map(|e| e.code),
            category,
            reason: error.and_then(|e| {
                let suppressed = e.suppressed.first().map(|s| s.reason.as_str());
                suppressed.or(e.declined.first().map(|d| d.rule.as_str()))
            }),
            consent_on_file,
            ..context.record(
                id,
                (channel, provider),
                status,
                recipients,
                crate::support::now_micros(),
            )
        };
        // A recipient left out of a send that went to the others.
        for recipient in &mut record.recipients {
            if admitted.suppression(channel, &recipient.hash).is_some() {
                recipient.status = MessageStatus::Suppressed;
            } else if admitted.decline(channel, &recipient.hash).is_some() {
                recipient.status = MessageStatus::Declined;
            }
        }
        Attempted {
            result,
            record,
            audit,
        }
    }
}

/// The suppressed and the declined of a list of recipients.
pub(super) fn split(
    withheld: &[Option<Withheld>],
) -> (Vec<SuppressedRecipient>, Vec<DeclinedRecipient>) {
    let (mut suppressed, mut declined) = (Vec::new(), Vec::new());
    for reason in withheld.iter().flatten() {
        match reason {
            Withheld::Suppressed(s) => suppressed.push(s.clone()),
            Withheld::Declined(d) => declined.push(d.clone()),
        }
    }
    (suppressed, declined)
}

pub(super) fn misconfigured(channel: &str, problem: &Misconfiguration) -> Error {
    problem.error(
        ErrorCode::ChannelMisconfigured,
        &format!("{channel} is not configured correctly on this deployment"),
        "Set the variables in Vercel (Settings > Environment Variables, All Environments) and redeploy.",
    )
}
