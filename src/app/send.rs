//! Sending: admission (rate, key, caps, the suppression list), then each channel's attempt
//! (`attempt.rs`), its record kept with the answer for replays; a templated notification on
//! both channels at once.

use super::admit::{Planned, Verdict};
use super::attempt::Attempted;
use super::channel::Senders;
use super::preferences::Patient;
use super::record::{Sending, sent};
use super::{App, RequestContext};
use crate::audit::AuditRecipient;
use crate::domain::{EmailMessage, Recipients, Sent, SmsMessage};
use crate::error::Error;
use crate::names::Channel;
use crate::templates::TemplateName;

/// The outcome of a templated notification, per requested channel (`None`: not requested).
#[derive(Debug)]
pub struct NotificationOutcome {
    pub email: Option<Result<Sent, Error>>,
    pub sms: Option<Result<Sent, Error>>,
}

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

    /// Renders `template` with `data` and sends it to each recipient given, email and SMS at
    /// once. Invalid data is an `Err` (nothing is sent); channel failures are in the outcome.
    pub async fn send_template_notification(
        &self,
        template: TemplateName,
        data: serde_json::Value,
        recipients: &Recipients,
        context: &RequestContext,
    ) -> Result<Sending<NotificationOutcome>, Error> {
        // Both of the patient's addresses, hashed once: the preference page link names them
        // and the attempts are made to them.
        let patient = Patient {
            email: recipients
                .email
                .as_ref()
                .map(|to| self.recipient(to.address(), to.masked())),
            phone: recipients
                .phone
                .as_ref()
                .map(|to| self.recipient(to.as_str(), to.masked())),
        };
        let link = patient
            .email
            .is_some()
            .then(|| self.preference_page_link(&patient))
            .flatten();
        let rendered = template.render(data, &self.config.branding, link.as_deref())?;
        let context = RequestContext {
            template: Some(template),
            ..context.clone()
        };
        let email = recipients
            .email
            .as_ref()
            .zip(patient.email)
            .map(|(to, hashed)| {
                let message = EmailMessage {
                    to: vec![to.clone()],
                    subject: rendered.subject.clone(),
                    text: Some(rendered.text.clone()),
                    html: Some(rendered.html.clone()),
                    reply_to: Vec::new(),
                    attachments: Vec::new(),
                    category: Some(template.category()),
                    list_unsubscribe: None,
                };
                (message, vec![hashed])
            });
        let sms = recipients
            .phone
            .as_ref()
            .zip(patient.phone)
            .map(|(to, hashed)| {
                let message = SmsMessage {
                    to: to.clone(),
                    body: rendered.sms.clone(),
                    category: Some(template.category()),
                };
                (message, hashed)
            });
        let mut planned = Vec::new();
        if let Some((_, to)) = &email {
            let live = matches!(self.email(), Senders::Live(_));
            planned.push(Planned {
                channel: Channel::Email,
                recipients: to,
                live,
                category: Some(template.category()),
            });
        }
        if let Some((_, to)) = &sms {
            let live = matches!(self.sms(), Senders::Live(_));
            planned.push(Planned {
                channel: Channel::Sms,
                recipients: std::slice::from_ref(to),
                live,
                category: Some(template.category()),
            });
        }
        let admitted = match self.admit(&context, &planned).await? {
            Verdict::Go(admitted) => admitted,
            Verdict::Replay(answer) => return Ok(Sending::Replay(answer)),
        };
        let (email, sms) = tokio::join!(
            async {
                match email {
                    Some((message, to)) => {
                        Some(self.email_attempt(&message, &context, to, &admitted).await)
                    }
                    None => None,
                }
            },
            async {
                match sms {
                    Some((message, to)) => {
                        Some(self.sms_attempt(&message, &context, to, &admitted).await)
                    }
                    None => None,
                }
            }
        );
        let (mut records, mut audit) = (Vec::new(), Vec::new());
        let mut result = |attempt: Option<Attempted>| {
            attempt.map(|a| {
                records.push(a.record);
                audit.push(a.audit);
                a.result
            })
        };
        let outcome = NotificationOutcome {
            email: result(email),
            sms: result(sms),
        };
        Ok(sent(outcome, admitted, records, audit))
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
