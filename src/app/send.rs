//! Sending: each recipient's cap, the email providers tried in order (failover), the audit
//! event of every attempt, and a templated notification on both channels at once.

use std::time::Instant;

use super::channel::Senders;
use super::{App, RequestContext};
use crate::audit::{AuditEvent, AuditRecipient};
use crate::config::Misconfiguration;
use crate::domain::{EmailMessage, Recipients, Sent, SmsMessage};
use crate::email::EmailSender;
use crate::error::{Attempt, Error, ErrorCode};
use crate::names::{Channel, Provider};
use crate::support::NonEmpty;
use crate::templates::TemplateName;

/// The outcome of a templated notification, per requested channel (`None`: not requested).
#[derive(Debug)]
pub struct NotificationOutcome {
    pub email: Option<Result<Sent, Error>>,
    pub sms: Option<Result<Sent, Error>>,
}

impl App {
    /// Sends an email on the configured channel and writes its audit event. On a live
    /// channel each recipient's hourly cap is checked first.
    pub async fn send_email(
        &self,
        message: &EmailMessage,
        context: &RequestContext,
    ) -> Result<Sent, Error> {
        let started = Instant::now();
        let recipients: Vec<AuditRecipient> = message
            .to
            .iter()
            .map(|to| AuditRecipient {
                hash: self.auditor.recipient_hash(to.address()),
                masked: to.masked(),
            })
            .collect();
        let senders = self.email();
        let (provider, result) = match senders {
            Senders::Live(providers) => {
                let capped = recipients
                    .iter()
                    .try_for_each(|r| self.limits.check_email_recipient(&r.hash));
                match capped {
                    Ok(()) => self.send_with_failover(providers, message).await,
                    Err(error) => (providers.first.provider(), Err(error)),
                }
            }
            Senders::Demo(demo) => (demo.provider(), demo.send(message).await),
            Senders::Misconfigured(m) => (Provider::AwsSes, Err(misconfigured("Email", m))),
        };
        self.audit_send(
            Channel::Email,
            provider,
            senders,
            recipients,
            &result,
            context,
            started,
        );
        result
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

    /// Sends an SMS on the configured channel and writes its audit event. On a live channel
    /// the recipient's hourly cap is checked first.
    pub async fn send_sms(
        &self,
        message: &SmsMessage,
        context: &RequestContext,
    ) -> Result<Sent, Error> {
        let started = Instant::now();
        let recipient = AuditRecipient {
            hash: self.auditor.recipient_hash(message.to.as_str()),
            masked: message.to.masked(),
        };
        let senders = self.sms();
        let (provider, result) = match senders {
            Senders::Live(providers) => {
                let twilio = &providers.first;
                let provider = twilio.provider();
                let result = match self.limits.check_sms_recipient(&recipient.hash) {
                    Ok(()) => twilio
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
                    Err(error) => Err(error),
                };
                (provider, result)
            }
            Senders::Demo(demo) => (demo.provider(), demo.send(message).await),
            Senders::Misconfigured(m) => (Provider::Twilio, Err(misconfigured("SMS", m))),
        };
        self.audit_send(
            Channel::Sms,
            provider,
            senders,
            vec![recipient],
            &result,
            context,
            started,
        );
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn audit_send<S: ?Sized>(
        &self,
        channel: Channel,
        provider: Provider,
        senders: &Senders<S>,
        recipients: Vec<AuditRecipient>,
        result: &Result<Sent, Error>,
        context: &RequestContext,
        started: Instant,
    ) {
        let (outcome, message_id, error, failed_over) = match result {
            Ok(sent) => (
                if sent.demo { "logged" } else { "sent" },
                sent.message_id.as_deref(),
                None,
                sent.failed_over.as_slice(),
            ),
            Err(error) => ("failed", None, Some(error), error.attempts.as_slice()),
        };
        self.auditor.record(&AuditEvent {
            kind: "audit",
            event: "send_attempt",
            time: crate::support::now_rfc3339(),
            request_id: &context.request_id,
            channel,
            template: context.template,
            provider,
            mode: senders.mode(),
            outcome,
            message_id,
            error_code: error.map(|e| e.code),
            provider_code: error.and_then(|e| e.provider_code.as_deref()),
            status: error.map_or(200, Error::status),
            latency_ms: started.elapsed().as_millis() as u64,
            recipients,
            failed_over,
            acceptance_unknown: error.is_some_and(|e| e.acceptance_unknown),
        });
    }

    /// Renders `template` with `data` and sends it to each recipient given, email and SMS at
    /// once. Invalid data is an `Err` (nothing is sent); channel failures are in the outcome.
    pub async fn send_template_notification(
        &self,
        template: TemplateName,
        data: serde_json::Value,
        recipients: &Recipients,
        context: &RequestContext,
    ) -> Result<NotificationOutcome, Error> {
        let rendered = template.render(data, &self.config.branding)?;
        let context = RequestContext {
            template: Some(template.as_str()),
            ..context.clone()
        };
        let email = recipients.email.as_ref().map(|to| EmailMessage {
            to: vec![to.clone()],
            subject: rendered.subject.clone(),
            text: Some(rendered.text.clone()),
            html: Some(rendered.html.clone()),
            reply_to: Vec::new(),
            attachments: Vec::new(),
        });
        let sms = recipients.phone.as_ref().map(|to| SmsMessage {
            to: to.clone(),
            body: rendered.sms.clone(),
        });
        let (email, sms) = tokio::join!(
            async {
                match &email {
                    Some(message) => Some(self.send_email(message, &context).await),
                    None => None,
                }
            },
            async {
                match &sms {
                    Some(message) => Some(self.send_sms(message, &context).await),
                    None => None,
                }
            }
        );
        Ok(NotificationOutcome { email, sms })
    }
}

fn misconfigured(channel: &str, problem: &Misconfiguration) -> Error {
    let mut names: Vec<&str> = problem.missing.iter().map(String::as_str).collect();
    names.extend(problem.invalid.iter().map(|i| i.field.as_str()));
    let mut error = Error::new(
        ErrorCode::ChannelMisconfigured,
        format!(
            "{channel} is not configured correctly on this deployment: fix {}.",
            names.join(", ")
        ),
    )
    .with_hint("Set the variables in Vercel (Settings > Environment Variables, All Environments) and redeploy.");
    error.missing = problem.missing.clone();
    error.invalid = problem.invalid.clone();
    error
}
