//! Scheduled sends: a request kept sealed in the store until its `sendAt`, then run by the
//! dispatcher through the same route as an immediate send (limits, failover, audit, events);
//! cancelling and moving one while it waits.

use std::time::Duration;

use time::OffsetDateTime;

use super::admit::{Admit, Planned};
use super::send::{Sending, misconfigured};
use super::{App, RequestContext};
use crate::audit::AuditRecipient;
use crate::config::ChannelConfig;
use crate::domain::DeliveryEvent;
use crate::error::{Error, ErrorCode};
use crate::names::{Channel, EventKind, MessageStatus, Provider, ScheduledRoute, StoreKind};
use crate::store::{Change, Changed, MessageRecord, ScheduledSend, StoredAnswer};
use crate::support::{BoxFuture, Sealer, new_id};
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
}

impl ScheduledIds {
    pub fn of(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Email => self.email.as_deref(),
            Channel::Sms => self.sms.as_deref(),
        }
    }
}

/// A due send, opened: what the HTTP layer runs through its route, as its caller.
#[derive(Debug)]
pub struct DueSend {
    pub route: ScheduledRoute,
    pub body: Vec<u8>,
    pub context: RequestContext,
}

/// How the dispatcher runs a due send: the HTTP layer's route, handed down so that this layer
/// never parses a request.
pub type RunScheduled = for<'a> fn(&'a App, DueSend) -> BoxFuture<'a, ()>;

impl App {
    /// Keeps `plan` for its time. Credentials, the channels' set-up and the caller's rate are
    /// checked now; recipient caps when it is sent.
    pub async fn schedule(
        &self,
        plan: SchedulePlan,
        context: &RequestContext,
        answer: impl FnOnce(&Scheduled) -> StoredAnswer,
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
                // Recipient caps count when it is sent, not now.
                live: false,
            })
            .collect();
        let admitted = match self.admit(context, &planned).await? {
            Admit::Go(admitted) => admitted,
            Admit::Replay(answer) => return Ok(Sending::Replay(answer)),
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
        };
        let scheduled = Scheduled {
            id,
            send_at: plan.send_at,
            deferred_until: plan.deferred_until,
        };
        let answer = admitted
            .claim
            .as_ref()
            .map(|claim| (claim, answer(&scheduled)));
        let kept = answer.as_ref().map(|(claim, answer)| (*claim, answer));
        self.store().schedule(&send, &records, kept).await?;
        tracing::info!(id = %scheduled.id, route = %plan.route, "scheduled a send");
        Ok(Sending::Done(scheduled))
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

    /// Runs the scheduled sends that are due, `limit` at a time, until none is left or
    /// `budget` is spent; how many were run.
    pub(super) async fn send_due(
        &self,
        run: RunScheduled,
        budget: Duration,
    ) -> Result<(u64, bool), Error> {
        let started = std::time::Instant::now();
        // Longer than a send may take, so only a dispatcher that stopped leaves one behind.
        let lease = self.config.policy.send_timeout + Duration::from_secs(30);
        let mut count = 0;
        loop {
            let due = self.store().due_sends(SEND_BATCH, lease).await?;
            if due.is_empty() {
                return Ok((count, false));
            }
            count += due.len() as u64;
            let runs = due.into_iter().map(|send| self.run_due(run, send));
            futures_util::future::join_all(runs).await;
            if started.elapsed() >= budget {
                return Ok((count, true));
            }
        }
    }

    async fn run_due(&self, run: RunScheduled, send: ScheduledSend) {
        let opened = self
            .sealer()
            .ok()
            .and_then(|s| s.open(&send.id, &send.content));
        match opened {
            Some(body) => {
                let context = RequestContext {
                    request_id: send.request_id.clone(),
                    template: None,
                    caller: send.caller.clone(),
                    idempotency: None,
                    scheduled: Some(ScheduledIds {
                        email: send.email_id.clone(),
                        sms: send.sms_id.clone(),
                    }),
                };
                run(
                    self,
                    DueSend {
                        route: send.route,
                        body,
                        context: context.clone(),
                    },
                )
                .await;
                self.report_failures(&send, &context).await;
            }
            // Sealed under another NOTIFY_STORE_KEY (rotated while it waited), or altered.
            None => {
                tracing::error!(id = %send.id, "a scheduled send could not be opened with NOTIFY_STORE_KEY; it is not sent")
            }
        }
        if let Err(failed) = self.store().sent(&send.id).await {
            tracing::error!(id = %send.id, code = %failed.code.as_str(), "a scheduled send went, but could not be marked sent; its lease keeps it from going again");
        }
    }

    /// A scheduled send that failed when it was due has no caller waiting for the answer: each
    /// failed message becomes a `failed` delivery event (kept, and forwarded to the practice
    /// app as any event), its `provider_message_id` our message id when the provider gave none.
    async fn report_failures(&self, send: &ScheduledSend, context: &RequestContext) {
        let mut events = Vec::new();
        for id in [&send.email_id, &send.sms_id].into_iter().flatten() {
            let Ok(Some(message)) = self.store().message(id).await else {
                continue;
            };
            if message.status != MessageStatus::Failed {
                continue;
            }
            events.push(DeliveryEvent {
                id: crate::webhooks::event_id(&["scheduled", id]),
                kind: EventKind::Failed,
                channel: message.channel,
                provider: message.provider,
                provider_message_id: message.provider_message_id.unwrap_or_else(|| id.clone()),
                recipient_hash: message.recipients.first().map(|r| r.hash.clone()),
                time: crate::support::now_rfc3339(),
                error_code: message.error_code,
                retryable: None,
            });
        }
        if events.is_empty() {
            return;
        }
        match self.deliver(events, context).await {
            Ok(Some(forwarding)) => forwarding.await,
            Ok(None) => {}
            Err(failed) => {
                tracing::error!(id = %send.id, code = %failed.code.as_str(), "a scheduled send's failure could not be kept as an event")
            }
        }
    }

    /// The sealer of scheduled content: under `NOTIFY_STORE_KEY`, or with the memory store
    /// locally a key of this process's own. Scheduling needs a database on Vercel (instances
    /// come and go) and the key with one.
    fn sealer(&self) -> Result<&Sealer, Error> {
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
    fn provider_of(&self, channel: Channel) -> Result<Provider, Error> {
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

/// Scheduled sends run this many at a time.
const SEND_BATCH: u16 = 20;

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
