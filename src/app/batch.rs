//! Batches: up to 1,000 sends admitted in one store call (the caller's rate once, the batch's
//! `Idempotency-Key`, the suppression list and the patients' choices for every recipient),
//! kept in a second (each item's messages and its sealed send), then sent at the providers'
//! pace by whichever instances work them: right after the answer, and by the dispatcher.

use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::admit::{Planned, Verdict};
use super::attempt::split;
use super::record::{Pending, Sending, Unrecorded};
use super::{App, RequestContext};
use crate::audit::AuditRecipient;
use crate::error::{Error, ErrorCode};
use crate::names::{BatchItemStatus, Category, Channel, MessageStatus, ScheduledRoute, Strategy};
use crate::store::{BatchRecord, BatchView, MessageRecord, ScheduledSend};
use crate::support::{new_id, now_micros};
use crate::templates::TemplateName;

/// One valid item of a batch, planned by its route: what it sends, on which channels, when.
#[derive(Debug)]
pub struct BatchItem {
    /// Its place in the request's `items`.
    pub index: usize,
    pub route: ScheduledRoute,
    /// The item's request as its route takes it (without `type` and `sendAt`).
    pub body: Vec<u8>,
    pub send_at: OffsetDateTime,
    /// Whether it waits for its `sendAt` or the end of quiet hours (else it is queued now).
    pub later: bool,
    pub template: Option<TemplateName>,
    pub category: Option<Category>,
    pub strategy: Strategy,
    /// Each channel with an address, in order, with its recipients as (full, masked).
    pub channels: Vec<(Channel, Vec<(String, String)>)>,
}

/// What became of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOutcome {
    pub index: usize,
    pub email: Option<String>,
    pub sms: Option<String>,
    pub status: BatchItemStatus,
    pub send_at: Option<OffsetDateTime>,
}

/// A batch admitted and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    pub id: String,
    pub items: Vec<ItemOutcome>,
}

impl App {
    /// Admits and plans every item of a batch in one store call; the record (one more) is
    /// written by [`App::record`] with the answer kept for replays. An item whose every
    /// channel is withheld from the patient is logged as such (with its audit lines) and not
    /// queued.
    pub async fn send_batch(
        &self,
        items: Vec<BatchItem>,
        context: &RequestContext,
    ) -> Result<Sending<BatchOutcome>, Error> {
        let sealer = self.sealer()?;
        let mut hashed = Vec::with_capacity(items.len());
        for item in &items {
            let mut channels = Vec::with_capacity(item.channels.len());
            for (channel, recipients) in &item.channels {
                let recipients: Vec<AuditRecipient> = recipients
                    .iter()
                    .map(|(address, masked)| self.recipient(address, masked.clone()))
                    .collect();
                channels.push((*channel, self.provider_of(*channel)?, recipients));
            }
            hashed.push(channels);
        }
        let planned: Vec<Planned> = items
            .iter()
            .zip(&hashed)
            .flat_map(|(item, channels)| {
                channels.iter().map(|(channel, _, recipients)| Planned {
                    channel: *channel,
                    recipients,
                    // Caps and the reputation guard count when each item goes.
                    live: false,
                    category: item.category,
                })
            })
            .collect();
        let admitted = match self.admit(context, &planned).await? {
            Verdict::Go(admitted) => admitted,
            Verdict::Replay(answer) => return Ok(Sending::Replay(answer)),
        };
        let id = format!("bat_{}", new_id());
        let created_at = now_micros();
        let (mut sends, mut records, mut audit) = (Vec::new(), Vec::new(), Vec::new());
        let mut outcomes = Vec::with_capacity(items.len());
        for (item, channels) in items.into_iter().zip(hashed) {
            let context = RequestContext {
                template: item.template,
                ..context.clone()
            };
            let reasons: Vec<_> = channels
                .iter()
                .map(|(channel, _, recipients)| admitted.withheld(*channel, recipients))
                .collect();
            let mut outcome = ItemOutcome {
                index: item.index,
                email: None,
                sms: None,
                status: BatchItemStatus::Queued,
                send_at: None,
            };
            if reasons.iter().flatten().all(Option::is_some) {
                let (suppressed, _) = split(&reasons.concat());
                outcome.status = if suppressed.is_empty() {
                    BatchItemStatus::Declined
                } else {
                    BatchItemStatus::Suppressed
                };
                for ((channel, provider, recipients), reasons) in channels.into_iter().zip(reasons)
                {
                    let (suppressed, declined) = split(&reasons);
                    let result = Err(Error::withheld(suppressed, declined));
                    let attempt = ((channel, item.category), provider, result);
                    let attempted = match channel {
                        Channel::Email => self.attempted(
                            attempt,
                            self.email(),
                            recipients,
                            &context,
                            Instant::now(),
                            &admitted,
                        ),
                        Channel::Sms => self.attempted(
                            attempt,
                            self.sms(),
                            recipients,
                            &context,
                            Instant::now(),
                            &admitted,
                        ),
                    };
                    outcome.set(channel, attempted.record.id.clone());
                    records.push(MessageRecord {
                        batch_id: Some(id.clone()),
                        ..attempted.record
                    });
                    audit.push(attempted.audit);
                }
                outcomes.push(outcome);
                continue;
            }
            // A fallback waits under its first channel, as a single scheduled one does.
            let going = match item.strategy {
                Strategy::All => channels.len(),
                Strategy::Fallback => 1,
            };
            let mut send_id = None;
            for (channel, provider, recipients) in channels.into_iter().take(going) {
                let message_id = format!("msg_{}", new_id());
                send_id.get_or_insert_with(|| message_id.clone());
                outcome.set(channel, message_id.clone());
                records.push(MessageRecord {
                    category: item.category,
                    batch_id: Some(id.clone()),
                    ..context.record(
                        message_id,
                        (channel, provider),
                        MessageStatus::Scheduled,
                        recipients,
                        created_at,
                    )
                });
            }
            let send_id = send_id.unwrap_or_else(|| format!("msg_{}", new_id()));
            let content = sealer.seal(&send_id, &item.body).ok_or_else(|| {
                Error::new(
                    ErrorCode::InternalError,
                    "A batch item could not be sealed.",
                )
            })?;
            sends.push(ScheduledSend {
                id: send_id,
                route: item.route,
                send_at: item.send_at,
                content,
                caller: context.caller.clone(),
                request_id: context.request_id.clone(),
                email_id: outcome.email.clone(),
                sms_id: outcome.sms.clone(),
                batch_id: Some(id.clone()),
            });
            if item.later {
                outcome.status = BatchItemStatus::Scheduled;
                outcome.send_at = Some(item.send_at);
            }
            outcomes.push(outcome);
        }
        let batch = BatchRecord {
            id: id.clone(),
            caller: context.caller.logged(),
            request_id: context.request_id.clone(),
            items: outcomes.len() as u32,
            created_at,
        };
        let pending = Pending::Batch {
            claim: admitted.claim,
            batch,
            sends,
            records,
            audit,
        };
        let outcome = BatchOutcome {
            id,
            items: outcomes,
        };
        Ok(Sending::Done(outcome, Unrecorded(pending)))
    }

    /// Sends what of the batch `id` is due, at the providers' pace, until none is left or
    /// `budget` is spent; what is left is the dispatcher's. A slot is waited for only while a
    /// send taken then still ends within the budget: a send leased but never made (the
    /// function stopped) would be given up as of unknown outcome.
    pub async fn work_batch(&self, id: &str, budget: Duration) {
        let started = Instant::now();
        let reserve = self.config.policy.send_timeout;
        match self.send_due(Some(id), budget, reserve).await {
            Ok((sent, more)) => {
                tracing::info!(batch = %id, sends = sent, more, elapsed_ms = started.elapsed().as_millis() as u64, "worked a batch")
            }
            Err(failed) => {
                tracing::warn!(batch = %id, code = %failed.code.as_str(), "a batch's sends could not be leased; the dispatcher carries on")
            }
        }
    }

    /// A batch with its messages counted by status.
    pub async fn batch(&self, id: &str) -> Result<BatchView, Error> {
        self.store()
            .batch(id)
            .await?
            .ok_or_else(|| batch_not_found(id))
    }

    /// Cancels what of the batch has not gone; how many sends.
    pub async fn cancel_batch(&self, id: &str) -> Result<u64, Error> {
        self.store()
            .cancel_batch(id)
            .await?
            .ok_or_else(|| batch_not_found(id))
    }
}

impl ItemOutcome {
    fn set(&mut self, channel: Channel, id: String) {
        match channel {
            Channel::Email => self.email = Some(id),
            Channel::Sms => self.sms = Some(id),
        }
    }
}

fn batch_not_found(id: &str) -> Error {
    Error::new(
        ErrorCode::BatchNotFound,
        format!("There is no batch {id:?} (batches are kept as long as the message log)."),
    )
}
