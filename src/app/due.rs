//! Scheduled sends when they are due: leased from the store in batches, opened, and run as
//! the service runs an immediate send of their route; a failure becomes a delivery event.

use std::time::Duration;

use super::record::Sending;
use super::{App, RequestContext, ScheduledIds};
use crate::domain::{DeliveryEvent, EmailMessage, SmsMessage};
use crate::error::{Error, ErrorCode};
use crate::names::{EventKind, MessageStatus, ScheduledRoute};
use crate::requests::{SendEmailRequest, SendNotificationRequest, SendSmsRequest};
use crate::store::ScheduledSend;

/// Scheduled sends run this many at a time.
const SEND_BATCH: u16 = 20;

impl App {
    /// Runs the scheduled sends that are due, `limit` at a time, until none is left or
    /// `budget` is spent; how many were run.
    pub(super) async fn send_due(&self, budget: Duration) -> Result<(u64, bool), Error> {
        let started = std::time::Instant::now();
        // Longer than a send may take, so only a dispatcher that stopped leaves one behind.
        let lease = self.config.policy.send_timeout + Duration::from_secs(30);
        let mut count = 0;
        loop {
            let due = self.store().due_sends(SEND_BATCH, lease, None).await?;
            if due.is_empty() {
                return Ok((count, false));
            }
            count += due.len() as u64;
            let runs = due.into_iter().map(|send| self.run_due(send));
            futures_util::future::join_all(runs).await;
            if started.elapsed() >= budget {
                return Ok((count, true));
            }
        }
    }

    async fn run_due(&self, send: ScheduledSend) {
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
                match self.run_request(send.route, &body, &context).await {
                    Ok(()) => {
                        tracing::info!(route = %send.route, request_id = %context.request_id, "ran a scheduled send")
                    }
                    Err(error) => {
                        tracing::warn!(route = %send.route, request_id = %context.request_id, code = %error.code.as_str(), "a scheduled send failed")
                    }
                }
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

    /// A due send's request, run as an immediate one of its route (it was checked when it was
    /// scheduled), its messages recorded under the ids its scheduling gave. Its outcome goes
    /// to the log, the audit trail and the events: no caller is waiting for an answer.
    async fn run_request(
        &self,
        route: ScheduledRoute,
        body: &[u8],
        context: &RequestContext,
    ) -> Result<(), Error> {
        let unreadable = |e: serde_json::Error| {
            Error::new(
                ErrorCode::InternalError,
                format!("The scheduled request could not be read: {e}"),
            )
        };
        let failure = match route {
            ScheduledRoute::Email => {
                let request: SendEmailRequest = serde_json::from_slice(body).map_err(unreadable)?;
                let message = EmailMessage::try_from(request).map_err(Error::invalid_fields)?;
                let sending = self.send_email(&message, context).await?;
                self.recorded(sending, Result::err).await?
            }
            ScheduledRoute::Sms => {
                let request: SendSmsRequest = serde_json::from_slice(body).map_err(unreadable)?;
                let message = SmsMessage::try_from(request).map_err(Error::invalid_fields)?;
                let sending = self.send_sms(&message, context).await?;
                self.recorded(sending, Result::err).await?
            }
            ScheduledRoute::Notification => {
                let request: SendNotificationRequest =
                    serde_json::from_slice(body).map_err(unreadable)?;
                let notification = request.parse()?;
                let sending = self
                    .send_template_notification(notification, context)
                    .await?;
                self.recorded(sending, |outcome| {
                    [outcome.email, outcome.sms]
                        .into_iter()
                        .flatten()
                        .find_map(Result::err)
                })
                .await?
            }
            ScheduledRoute::Fallback => {
                let prepared = serde_json::from_slice(body).map_err(unreadable)?;
                self.run_fallback(prepared, context).await?
            }
        };
        failure.map_or(Ok(()), Err)
    }

    /// A run's record written (no answer is kept: no caller waits), and its failure, if any.
    pub(super) async fn recorded<T>(
        &self,
        sending: Sending<T>,
        failure: impl FnOnce(T) -> Option<Error>,
    ) -> Result<Option<Error>, Error> {
        match sending {
            Sending::Done(outcome, unrecorded) => {
                self.record(unrecorded, None).await?;
                Ok(failure(outcome))
            }
            // A run has no key, so nothing replays it.
            Sending::Replay(_) => Ok(None),
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
                recipient_masked: message.recipients.first().map(|r| r.masked.clone()),
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
}
