//! Scheduled sends: a request kept sealed in the store until its `sendAt`, then run by the
//! dispatcher through the same route as an immediate send (limits, failover, audit, events);
//! cancelling and moving one while it waits.

use time::OffsetDateTime;

use super::admit::{Planned, Verdict};
use super::attempt::misconfigured;
use super::record::{Pending, Sending, Unrecorded};
use super::{App, RequestContext};
use crate::audit::{AuditRecipient, ScheduledLine};
use crate::config::ChannelConfig;
use crate::error::{Error, ErrorCode};
use crate::names::{AuditKind, Channel, MessageStatus, Provider, ScheduledRoute, StoreKind};
use crate::store::{Change, Changed, MessageRecord, ScheduledSend};
use crate::support::{Sealer, new_id, now_rfc3339};
use crate::templates::TemplateName;

/// A send to keep for later, as its route describes it.
#[derive(Debug)]
pub struct SchedulePlan {
    pub route: ScheduledRoute,
    /// The request body to run at `send_at` (without its `sendAt`).
    pub body: Vec<u8>,
    pub send_at: OffsetDateTime,
    /// Set when quiet hours moved it to `send_at`.
    pub deferred_until: Option<OffsetDateTime>,
    pub template: Option<TemplateName>,
    /// Each channel it sends on, with its recipients as (full address or number, masked).
    pub channels: Vec<(Channel, Vec<(String, String)>)>,
}

/// A send kept for later: its id in the message log, and when it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    pub id: String,
    pub send_at: OffsetDateTime,
    pub deferred_until: Option<OffsetDateTime>,
}

/// The messages a scheduled send's run records, under the ids its scheduling gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduledIds {
    pub email: Option<String>,
    pub sms: Option<String>,
    /// The batch it is an item of: every message its run records carries it (a fallback's
    /// too).
    pub batch: Option<String>,
}

impl ScheduledIds {
    pub fn of(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Email => self.email.as_deref(),
            Channel::Sms => self.sms.as_deref(),
        }
    }
}

impl App {
    /// Keeps `plan` for its time. Credentials, the channels' set-up and the caller's rate are
    /// checked now; recipient caps when it is sent.
    pub async fn schedule(
        &self,
        plan: SchedulePlan,
        context: &RequestContext,
    ) -> Result<Sending<Scheduled>, Error> {
        let sealer = self.sealer()?;
        let mut channels = Vec::new();
        for (channel, recipients) in plan.channels {
            let recipients: Vec<AuditRecipient> = recipients
                .into_iter()
                .map(|(address, masked)| self.recipient(&address, masked))
                .collect();
            channels.push((channel, self.provider_of(channel)?, recipients));
        }
        let planned: Vec<Planned> = channels
            .iter()
            .map(|(channel, _, recipients)| Planned {
                channel: *channel,
                recipients,
                // Recipient caps count when it is sent, not now; the suppression list is read
                // then too.
                live: false,
                category: None,
            })
            .collect();
        let admitted = match self.admit(context, &planned).await? {
            Verdict::Go(admitted) => admitted,
            Verdict::Replay(answer) => return Ok(Sending::Replay(answer)),
        };
        let id = format!("msg_{}", new_id());
        let mut ids = ScheduledIds::default();
        let created_at = crate::support::now_micros();
        let records: Vec<MessageRecord> = channels
            .into_iter()
            .enumerate()
            .map(|(i, (channel, provider, recipients))| {
                let message_id = if i == 0 {
                    id.clone()
                } else {
                    format!("msg_{}", new_id())
                };
                match channel {
                    Channel::Email => ids.email = Some(message_id.clone()),
                    Channel::Sms => ids.sms = Some(message_id.clone()),
                }
                MessageRecord {
                    template: plan.template,
                    ..context.record(
                        message_id,
                        (channel, provider),
                        MessageStatus::Scheduled,
                        recipients,
                        created_at,
                    )
                }
            })
            .collect();
        let content = sealer.seal(&id, &plan.body).ok_or_else(|| {
            Error::new(
                ErrorCode::InternalError,
                "The scheduled message could not be sealed.",
            )
        })?;
        let send = ScheduledSend {
            id: id.clone(),
            route: plan.route,
            send_at: plan.send_at,
            content,
            caller: context.caller.clone(),
            request_id: context.request_id.clone(),
            email_id: ids.email,
            sms_id: ids.sms,
            batch_id: None,
        };
        let scheduled = Scheduled {
            id,
            send_at: plan.send_at,
            deferred_until: plan.deferred_until,
        };
        let send_at = crate::support::timestamp(plan.send_at);
        let audit = records
            .iter()
            .map(|record| {
                let recipients = (record.recipients.iter())
                    .map(|r| AuditRecipient {
                        hash: r.hash.clone(),
                        masked: r.masked.clone(),
                    })
                    .collect();
                self.auditor.record_change(&ScheduledLine {
                    kind: "audit",
                    event: AuditKind::SendScheduled,
                    time: now_rfc3339(),
                    request_id: &context.request_id,
                    id: &record.id,
                    channel: record.channel,
                    template: record.template,
                    caller: &record.caller,
                    send_at: send_at.clone(),
                    quiet_hours: plan.deferred_until.is_some(),
                    recipients,
                })
            })
            .collect();
        let pending = Pending::Scheduled {
            claim: admitted.claim,
            send,
            records,
            audit,
        };
        Ok(Sending::Done(scheduled, Unrecorded(pending)))
    }

    /// Cancels or moves the scheduled send `id` (or the one a message `id` is of) while it
    /// waits; once it has gone, `409 message_already_sent`.
    pub async fn change_scheduled(&self, id: &str, change: Change) -> Result<Scheduled, Error> {
        match self.store().change(id, change).await? {
            Changed::Done { id, send_at } => Ok(Scheduled {
                id,
                send_at: send_at.unwrap_or(OffsetDateTime::UNIX_EPOCH),
                deferred_until: None,
            }),
            Changed::TooLate => Err(already_sent()),
            Changed::NotScheduled => match self.store().message(id).await? {
                Some(_) => Err(already_sent()),
                None => Err(Error::new(
                    ErrorCode::MessageNotFound,
                    format!("There is no message {id:?} in the log."),
                )),
            },
        }
    }

    /// The sealer of scheduled content: under `NOTIFY_STORE_KEY`, or with the memory store
    /// locally a key of this process's own. Scheduling needs a database on Vercel (instances
    /// come and go) and the key with one.
    pub(super) fn sealer(&self) -> Result<&Sealer, Error> {
        let config = &self.config;
        let kind = config.store.kind();
        if kind == StoreKind::Memory && config.on_vercel {
            return Err(store_required(
                "DATABASE_URL",
                "Scheduled sends need a database on Vercel, where instances come and go",
            ));
        }
        let sealer = self.sealer.get_or_init(|| match &config.store_key {
            Some(key) => Sealer::new(key.expose()),
            None if kind == StoreKind::Memory => Sealer::ephemeral(),
            None => None,
        });
        sealer.as_ref().ok_or_else(|| {
            store_required(
                "NOTIFY_STORE_KEY",
                "Scheduled messages are sealed in the database under NOTIFY_STORE_KEY, which is not set or not usable",
            )
        })
    }

    /// The provider a channel would send with now, read off the configuration (building a
    /// channel's senders here would link the other channel's provider into every send
    /// function); a misconfigured channel is refused now.
    pub(super) fn provider_of(&self, channel: Channel) -> Result<Provider, Error> {
        match channel {
            Channel::Email => match &self.config.email {
                ChannelConfig::Live(email) => Ok(email.providers.first.provider()),
                ChannelConfig::Demo => Ok(Provider::AwsSes),
                ChannelConfig::Misconfigured(m) => Err(misconfigured("Email", m)),
            },
            Channel::Sms => match &self.config.sms {
                ChannelConfig::Live(_) | ChannelConfig::Demo => Ok(Provider::Twilio),
                ChannelConfig::Misconfigured(m) => Err(misconfigured("SMS", m)),
            },
        }
    }
}

fn already_sent() -> Error {
    Error::new(
        ErrorCode::MessageAlreadySent,
        "This message is no longer waiting: it has been sent (or is being sent), cancelled or given up on.",
    )
}

fn store_required(variable: &str, why: &str) -> Error {
    let mut error = Error::new(ErrorCode::StoreRequired, format!("{why}: set {variable}."))
        .with_hint("See Scheduled sends in the README.");
    error.missing = vec![variable.to_owned()];
    error
}
