//! Scheduled sends when they are due: leased from the store in groups, opened, and run as
//! the service runs an immediate send of their route; a failure becomes a delivery event. A
//! batch's item first waits for its slot at the provider's pace, and one the provider
//! throttles goes back to wait (its attempt kept in the audit trail only).

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::record::Sending;
use super::{App, NotificationOutcome, RequestContext, ScheduledIds};
use crate::domain::{DeliveryEvent, EmailMessage, SmsMessage};
use crate::error::{Error, ErrorCode};
use crate::names::{EventKind, MessageStatus, ScheduledRoute};
use crate::requests::{SendEmailRequest, SendNotificationRequest, SendSmsRequest};
use crate::store::ScheduledSend;

/// Scheduled sends running at once, at most, in one worker.
const IN_FLIGHT: usize = 24;
/// How long a batch's item waits when the store could not pace it.
const STORE_RETRY: Duration = Duration::from_secs(5);
/// How long a throttled batch item waits when the provider named no delay.
const THROTTLED_RETRY: Duration = Duration::from_secs(2);

/// What a worker's runs came to: how many ran, whether some were left, whether it leases no
/// more (none due, a pace full, the time spent, or the store failed).
#[derive(Debug, Default)]
struct Tally {
    ran: u64,
    more: bool,
    stopped: bool,
}

impl Tally {
    fn add(&mut self, run: Run) {
        match run {
            Run::Ran => self.ran += 1,
            // No slot left for its pace in this time: the next call's.
            Run::PaceFull => (self.stopped, self.more) = (true, true),
            Run::PutBack => {}
        }
    }
}

/// What became of one leased send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Run {
    /// It ran (or was given up on: it will not go).
    Ran,
    /// It waits again (the provider throttled it, or the store could not pace it).
    PutBack,
    /// It waits again: its pace has no slot left within this worker's time.
    PaceFull,
}

/// How a due send's run ended.
enum Ran {
    Done,
    /// The provider throttled it: it goes again after this wait.
    Throttled(Duration),
}

impl App {
    /// Runs the scheduled sends that are due (of `batch`, or all), up to `IN_FLIGHT` at once,
    /// leasing more as they end, until none is due, a pace is full or `budget` is spent: how
    /// many ran, and whether some were left. A batch's item waits for its slot at most until
    /// `reserve` before the budget's end (a send may take that long after it). A store failure
    /// stops the leasing; what is running ends first.
    pub(super) async fn send_due(
        &self,
        batch: Option<&str>,
        budget: Duration,
        reserve: Duration,
    ) -> Result<(u64, bool), Error> {
        let started = Instant::now();
        let mut running = FuturesUnordered::new();
        let mut tally = Tally::default();
        let mut failed = None;
        loop {
            let wait = budget.saturating_sub(started.elapsed() + reserve);
            if !tally.stopped && wait.is_zero() {
                (tally.stopped, tally.more) = (true, true);
            }
            if !tally.stopped && running.len() <= IN_FLIGHT / 2 {
                let room = (IN_FLIGHT - running.len()) as u16;
                let lease = self.store().due_sends(room, self.lease(wait), batch);
                tokio::pin!(lease);
                // The running sends are driven meanwhile: they may hold the store's
                // connections, which the lease waits for.
                let leased = loop {
                    tokio::select! {
                        leased = &mut lease => break leased,
                        Some(run) = running.next() => tally.add(run),
                    }
                };
                match leased {
                    Ok(due) if due.is_empty() => tally.stopped = true,
                    Ok(due) => running.extend(due.into_iter().map(|send| self.run_due(send, wait))),
                    Err(error) => (tally.stopped, failed) = (true, Some(error)),
                }
            }
            match running.next().await {
                Some(run) => tally.add(run),
                None if tally.stopped => break,
                None => {}
            }
        }
        failed.map_or(Ok((tally.ran, tally.more)), Err)
    }

    /// How long a worker holds the sends it leased: the longest a batch's item may wait for
    /// its slot, then longer than a send may take, so only a worker that stopped leaves one
    /// behind.
    pub(super) fn lease(&self, wait: Duration) -> Duration {
        wait + self.config.policy.send_timeout + Duration::from_secs(30)
    }

    /// Runs one leased send; a batch's item waits at most `max_wait` for its slot, else goes
    /// back to wait in the store.
    pub(super) async fn run_due(&self, send: ScheduledSend, max_wait: Duration) -> Run {
        let opened = self
            .sealer()
            .ok()
            .and_then(|s| s.open(&send.id, &send.content));
        match opened {
            Some(body) => {
                if send.batch_id.is_some() {
                    match self.paced(&send, &body, max_wait).await {
                        Ok(Ok(())) => {}
                        Ok(Err(wait)) => {
                            self.put_back(&send, wait).await;
                            return Run::PaceFull;
                        }
                        Err(_) => {
                            self.put_back(&send, STORE_RETRY).await;
                            return Run::PutBack;
                        }
                    }
                }
                let context = RequestContext {
                    request_id: send.request_id.clone(),
                    template: None,
                    caller: send.caller.clone(),
                    idempotency: None,
                    scheduled: Some(ScheduledIds {
                        email: send.email_id.clone(),
                        sms: send.sms_id.clone(),
                        batch: send.batch_id.clone(),
                    }),
                };
                let retry = send.batch_id.is_some();
                // A one-message route that ran without failing has no failure to report (a
                // notification may have failed on one channel and gone on the other).
                let mut may_have_failed =
                    !matches!(send.route, ScheduledRoute::Email | ScheduledRoute::Sms);
                match self.run_request(send.route, &body, &context, retry).await {
                    Ok(Ran::Throttled(after)) => {
                        self.put_back(&send, after).await;
                        return Run::PutBack;
                    }
                    Ok(Ran::Done) => {
                        tracing::info!(route = %send.route, request_id = %context.request_id, "ran a scheduled send")
                    }
                    Err(error) => {
                        may_have_failed = true;
                        tracing::warn!(route = %send.route, request_id = %context.request_id, code = %error.code.as_str(), "a scheduled send failed")
                    }
                }
                if may_have_failed {
                    self.report_failures(&send, &context).await;
                }
            }
            // Sealed under another NOTIFY_STORE_KEY (rotated while it waited), or altered.
            None => {
                tracing::error!(id = %send.id, "a scheduled send could not be opened with NOTIFY_STORE_KEY; it is not sent")
            }
        }
        if let Err(failed) = self.store().sent(&send.id).await {
            tracing::error!(id = %send.id, code = %failed.code.as_str(), "a scheduled send went, but could not be marked sent; its lease keeps it from going again");
        }
        Run::Ran
    }

    /// A leased send back to wait `after` from now.
    async fn put_back(&self, send: &ScheduledSend, after: Duration) {
        let at = time::OffsetDateTime::now_utc() + after;
        if let Err(failed) = self.store().put_back(&send.id, at).await {
            tracing::error!(id = %send.id, code = %failed.code.as_str(), "a batch send could not be put back; its lease ends it as of unknown outcome");
        }
    }

    /// A due send's request, run as an immediate one of its route (it was checked when it was
    /// scheduled), its messages recorded under the ids its scheduling gave. Its outcome goes
    /// to the log, the audit trail and the events: no caller is waiting for an answer. With
    /// `retry` (a batch's item), a provider's throttling of every channel tried is not its
    /// outcome: it goes again later.
    async fn run_request(
        &self,
        route: ScheduledRoute,
        body: &[u8],
        context: &RequestContext,
        retry: bool,
    ) -> Result<Ran, Error> {
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
                return self.ran(sending, Result::err, retry).await;
            }
            ScheduledRoute::Sms => {
                let request: SendSmsRequest = serde_json::from_slice(body).map_err(unreadable)?;
                let message = SmsMessage::try_from(request).map_err(Error::invalid_fields)?;
                let sending = self.send_sms(&message, context).await?;
                return self.ran(sending, Result::err, retry).await;
            }
            ScheduledRoute::Notification => {
                let request: SendNotificationRequest =
                    serde_json::from_slice(body).map_err(unreadable)?;
                let notification = request.parse()?;
                let sending = self
                    .send_template_notification(notification, context)
                    .await?;
                // A failure when no channel went (a channel that went is not sent again).
                let failure = |outcome: NotificationOutcome| {
                    let results: Vec<_> =
                        [outcome.email, outcome.sms].into_iter().flatten().collect();
                    let none_went = results.iter().all(Result::is_err);
                    results
                        .into_iter()
                        .find_map(Result::err)
                        .filter(|_| none_went)
                };
                return self.ran(sending, failure, retry).await;
            }
            ScheduledRoute::Fallback => {
                let prepared = serde_json::from_slice(body).map_err(unreadable)?;
                self.run_fallback(prepared, context).await?
            }
        };
        failure.map_or(Ok(Ran::Done), Err)
    }

    /// A run's record written and its failure answered, unless (with `retry`) the provider
    /// throttled it: then only its audit line is kept, and it goes again later.
    async fn ran<T>(
        &self,
        sending: Sending<T>,
        failure: impl FnOnce(T) -> Option<Error>,
        retry: bool,
    ) -> Result<Ran, Error> {
        let Sending::Done(outcome, unrecorded) = sending else {
            return Ok(Ran::Done);
        };
        match failure(outcome) {
            Some(error) if retry && error.code == ErrorCode::ProviderThrottled => {
                self.store()
                    .record(&[], &unrecorded.audit_only(), &[])
                    .await?;
                Ok(Ran::Throttled(error.retry_after.unwrap_or(THROTTLED_RETRY)))
            }
            failure => {
                self.record(unrecorded, None).await?;
                failure.map_or(Ok(Ran::Done), Err)
            }
        }
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
                batch_id: None,
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
