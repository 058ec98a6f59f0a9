//! A templated notification: rendered once, its channels admitted in one store call, then
//! sent on every channel at once (`all`) or on the first that can reach the patient, the next
//! only when one cannot (`fallback`): no address, a suppression, a declined choice, or a
//! provider's refusal of that recipient. A fallback names its original in the log, and the
//! practice is told (`message.fallback`).

use serde::Serialize;
use serde_json::json;

use super::admit::{Planned, Verdict};
use super::attempt::Attempted;
use super::channel::Senders;
use super::fallback::NextChannel;
use super::preferences::Patient;
use super::record::{Sending, sent};
use super::{App, RequestContext};
use crate::domain::{EmailMessage, Recipients, Sent, SmsMessage};
use crate::error::{Error, ErrorCode, FieldError};
use crate::names::{Category, Channel, Strategy};
use crate::requests::{Delivery, ParsedNotification};

/// The outcome of a templated notification, per channel (`None`: not requested, or not needed
/// because an earlier channel reached the patient).
#[derive(Debug)]
pub struct NotificationOutcome {
    pub strategy: Strategy,
    pub email: Option<Result<Sent, Error>>,
    pub sms: Option<Result<Sent, Error>>,
}

impl NotificationOutcome {
    fn slot(&mut self, channel: Channel) -> &mut Option<Result<Sent, Error>> {
        match channel {
            Channel::Email => &mut self.email,
            Channel::Sms => &mut self.sms,
        }
    }
}

impl App {
    /// The strategy and the channels in order: the request's, else the practice's default
    /// for the category (fallback: text first, then email). With `all`, only the channels
    /// with an address (naming one without is a 400); with `fallback`, every one named.
    pub fn delivery_plan(
        &self,
        category: Category,
        delivery: &Delivery,
        recipients: &Recipients,
    ) -> Result<(Strategy, Vec<Channel>), Error> {
        let has = |c: Channel| match c {
            Channel::Email => recipients.email.is_some(),
            Channel::Sms => recipients.phone.is_some(),
        };
        let strategy = delivery.strategy.unwrap_or_else(|| {
            if self.config.reach.fallback_categories.contains(&category) {
                Strategy::Fallback
            } else {
                Strategy::All
            }
        });
        let order = match (&delivery.channels, strategy) {
            (Some(channels), _) => channels.clone(),
            (None, Strategy::Fallback) => vec![Channel::Sms, Channel::Email],
            (None, Strategy::All) => vec![Channel::Email, Channel::Sms],
        };
        if strategy == Strategy::All && delivery.fallback_after.is_some() {
            return Err(Error::invalid_fields(vec![FieldError::new(
                "fallbackAfter",
                "needs strategy fallback (this template's category is sent on every channel)",
            )]));
        }
        if strategy == Strategy::All {
            let missing: Vec<FieldError> = order
                .iter()
                .enumerate()
                .filter(|(_, c)| delivery.channels.is_some() && !has(**c))
                .map(|(i, c)| {
                    let needed = if *c == Channel::Email { "email" } else { "phone" };
                    FieldError::new(
                        format!("channels[{i}]"),
                        format!("is {c}, and to has no {needed} (with strategy fallback it would be passed over)"),
                    )
                })
                .collect();
            if !missing.is_empty() {
                return Err(Error::invalid_fields(missing));
            }
            return Ok((strategy, order.into_iter().filter(|c| has(*c)).collect()));
        }
        Ok((strategy, order))
    }

    /// Renders the notification and sends it as its strategy says. Invalid data is an `Err`
    /// (nothing is sent); channel failures are in the outcome.
    pub async fn send_template_notification(
        &self,
        notification: ParsedNotification,
        context: &RequestContext,
    ) -> Result<Sending<NotificationOutcome>, Error> {
        let ParsedNotification {
            template,
            data,
            recipients,
            delivery,
        } = notification;
        let category = template.category();
        let (strategy, order) = self.delivery_plan(category, &delivery, &recipients)?;
        // The addresses of the channels used, hashed once: the preference page link names
        // them and the attempts are made to them.
        let patient = Patient {
            email: recipients
                .email
                .as_ref()
                .filter(|_| order.contains(&Channel::Email))
                .map(|to| self.recipient(to.address(), to.masked())),
            phone: recipients
                .phone
                .as_ref()
                .filter(|_| order.contains(&Channel::Sms))
                .map(|to| self.recipient(to.as_str(), to.masked())),
        };
        let link = patient
            .email
            .is_some()
            .then(|| self.preference_page_link(&patient))
            .flatten();
        // A fallback's later channel may be sent later, from the same data.
        let kept_data = (strategy == Strategy::Fallback && order.len() > 1).then(|| data.clone());
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
                    category: Some(category),
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
                    category: Some(category),
                };
                (message, hashed)
            });
        let mut planned = Vec::new();
        if let Some((_, to)) = &email {
            planned.push(Planned {
                channel: Channel::Email,
                recipients: to,
                live: matches!(self.email(), Senders::Live(_)),
                category: Some(category),
            });
        }
        if let Some((_, to)) = &sms {
            planned.push(Planned {
                channel: Channel::Sms,
                recipients: std::slice::from_ref(to),
                live: matches!(self.sms(), Senders::Live(_)),
                category: Some(category),
            });
        }
        let admitted = match self.admit(&context, &planned).await? {
            Verdict::Go(admitted) => admitted,
            Verdict::Replay(answer) => return Ok(Sending::Replay(answer)),
        };
        let attempt = async |channel: Channel| match channel {
            Channel::Email => match &email {
                Some((message, to)) => Some(
                    self.email_attempt(message, &context, to.clone(), &admitted)
                        .await,
                ),
                None => None,
            },
            Channel::Sms => match &sms {
                Some((message, to)) => Some(
                    self.sms_attempt(message, &context, to.clone(), &admitted)
                        .await,
                ),
                None => None,
            },
        };
        let mut outcome = NotificationOutcome {
            strategy,
            email: None,
            sms: None,
        };
        let (mut records, mut audit) = (Vec::new(), Vec::new());
        match strategy {
            Strategy::All => {
                let (first, second) = tokio::join!(attempt(Channel::Email), attempt(Channel::Sms));
                for (channel, attempted) in [(Channel::Email, first), (Channel::Sms, second)] {
                    if let Some(a) = attempted {
                        records.push(a.record);
                        audit.push(a.audit);
                        *outcome.slot(channel) = Some(a.result);
                    }
                }
            }
            Strategy::Fallback => {
                // The last message tried, and why it could not reach the patient.
                let mut original: Option<(Channel, String, ErrorCode)> = None;
                // The channel that reached the patient, its message, and where it is in order.
                let mut reached: Option<(Channel, String, usize)> = None;
                for (position, &channel) in order.iter().enumerate() {
                    let Some(Attempted {
                        result,
                        mut record,
                        audit: line,
                    }) = attempt(channel).await
                    else {
                        *outcome.slot(channel) = Some(Err(no_address(channel)));
                        continue;
                    };
                    if let Some((from, id, why)) = &original {
                        record.fallback_of = Some(id.clone());
                        self.tell_fallback(*from, id, channel, &record.id, why.as_str())
                            .await;
                    }
                    let passed_over = result.as_ref().err().filter(|e| cannot_reach(e));
                    original = passed_over.map(|e| (channel, record.id.clone(), e.code));
                    let done = original.is_none();
                    if result.is_ok() {
                        reached = Some((channel, record.id.clone(), position));
                    }
                    records.push(record);
                    audit.push(line);
                    *outcome.slot(channel) = Some(result);
                    if done {
                        break;
                    }
                }
                // The next channel with an address waits for the first one's fate.
                let next = reached.and_then(|(channel, id, position)| {
                    let next = order[position + 1..].iter().find_map(|c| match c {
                        Channel::Email => email.as_ref().map(|(_, to)| {
                            let address = recipients.email.as_ref().map(|a| a.address());
                            (Channel::Email, json!({"email": address}), to[0].clone())
                        }),
                        Channel::Sms => sms.as_ref().map(|(_, to)| {
                            let number = recipients.phone.as_ref().map(|n| n.as_str());
                            (Channel::Sms, json!({"phone": number}), to.clone())
                        }),
                    })?;
                    Some(((channel, id), next))
                });
                if let (Some((original, (channel, to, recipient))), Some(data)) = (next, kept_data)
                {
                    let notification = json!({"template": template.as_str(), "data": data,
                        "to": to, "channels": [channel], "strategy": "all"});
                    let next = NextChannel {
                        notification,
                        channel,
                        recipient,
                        template,
                    };
                    let original = (original.0, original.1.as_str());
                    self.prepare_fallback(next, original, delivery.fallback_after, &context)
                        .await;
                }
            }
        }
        Ok(sent(outcome, admitted, records, audit))
    }

    /// `message.fallback` for the practice's webhook: which message could not reach the
    /// patient, why, and which one was sent instead. A message has gone by then, so a store
    /// that cannot keep the event is logged, never answered: the send's record comes first.
    pub(super) async fn tell_fallback(
        &self,
        from: Channel,
        original: &str,
        channel: Channel,
        fallback: &str,
        why: &str,
    ) {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct FellBack<'a> {
            original: &'a str,
            original_channel: Channel,
            reason: &'a str,
            fallback: &'a str,
            channel: Channel,
        }
        let fields = FellBack {
            original,
            original_channel: from,
            reason: why,
            fallback,
            channel,
        };
        let id = format!("evt_{}", crate::support::new_id());
        if let Err(failed) = self.tell_practice("message.fallback", &id, &fields).await {
            tracing::error!(code = %failed.code.as_str(), "message.fallback could not be kept for the practice");
        }
    }
}

/// Whether a failure means this channel cannot reach the patient (so the next may), rather
/// than a fault that would fail the next channel's send as well, or that a retry may clear.
fn cannot_reach(error: &Error) -> bool {
    matches!(
        error.code,
        ErrorCode::RecipientSuppressed
            | ErrorCode::RecipientDeclined
            | ErrorCode::InvalidRecipient
            | ErrorCode::RecipientOptedOut
            | ErrorCode::RecipientNotMobile
            | ErrorCode::MessageRejected
    )
}

fn no_address(channel: Channel) -> Error {
    let what = match channel {
        Channel::Email => "an email address",
        Channel::Sms => "a phone number",
    };
    Error::new(
        ErrorCode::NoAddress,
        format!("The notification has no {what} for the patient: the next channel was tried."),
    )
}
