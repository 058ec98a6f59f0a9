//! A fallback decided after the first channel went: the next channel's notification is
//! prepared (sealed, as a scheduled send of route `fallback`, its message `scheduled` in the
//! log) when the first is accepted; a failure report of the first (an undelivered text, a
//! permanent bounce) moves it to now, a delivery receipt cancels it, and when its time comes
//! (`fallbackAfter`, else 72 hours) it goes only if the first was not delivered. The store's
//! lease of due sends makes it go once, whichever instances the reports reach and however often.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{App, RequestContext};
use crate::audit::AuditRecipient;
use crate::domain::DeliveryEvent;
use crate::error::{Error, ErrorCode};
use crate::names::{Channel, EventKind, MessageStatus, ScheduledRoute};
use crate::requests::SendNotificationRequest;
use crate::store::{Change, MessageRecord, ScheduledSend};
use crate::support::new_id;
use crate::templates::TemplateName;

/// How long a prepared fallback waits for a failure report when the notification gave no
/// `fallbackAfter`: past it, no report means no fallback.
const REPORT_WAIT: Duration = Duration::from_secs(72 * 60 * 60);

/// What a prepared fallback keeps, sealed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PreparedFallback {
    /// A `send-notification` request for the next channel alone.
    pub notification: serde_json::Value,
    /// The message it would replace.
    pub fallback_of: String,
    pub original_channel: Channel,
    /// `fallbackAfter` was given: no receipt by its time is reason enough.
    pub deadline: bool,
}

/// The next channel of a fallback notification, as it is prepared.
pub(super) struct NextChannel {
    pub notification: serde_json::Value,
    pub channel: Channel,
    pub recipient: AuditRecipient,
    pub template: TemplateName,
}

impl App {
    /// Keeps the next channel's notification for later. The first channel's message has gone
    /// by then, so a failure here is logged, never answered (the send's record comes first);
    /// without a sealer (no `NOTIFY_STORE_KEY` with a database) nothing is prepared, as
    /// health's scheduling check already says.
    pub(super) async fn prepare_fallback(
        &self,
        next: NextChannel,
        original: (Channel, &str),
        after: Option<Duration>,
        context: &RequestContext,
    ) {
        if let Err(failed) = self
            .try_prepare_fallback(next, original, after, context)
            .await
        {
            tracing::error!(code = %failed.code.as_str(), "a fallback could not be prepared; the first channel's fate will not be followed");
        }
    }

    async fn try_prepare_fallback(
        &self,
        next: NextChannel,
        original: (Channel, &str),
        after: Option<Duration>,
        context: &RequestContext,
    ) -> Result<(), Error> {
        let sealer = self.sealer()?;
        let id = format!("msg_{}", new_id());
        let prepared = PreparedFallback {
            notification: next.notification,
            fallback_of: original.1.to_owned(),
            original_channel: original.0,
            deadline: after.is_some(),
        };
        let sealed = serde_json::to_vec(&prepared)
            .ok()
            .and_then(|body| sealer.seal(&id, &body))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InternalError,
                    "The fallback could not be sealed.",
                )
            })?;
        let now = crate::support::now_micros();
        let record = MessageRecord {
            template: Some(next.template),
            category: Some(next.template.category()),
            fallback_of: Some(original.1.to_owned()),
            ..context.record(
                id.clone(),
                (next.channel, self.provider_of(next.channel)?),
                MessageStatus::Scheduled,
                vec![next.recipient],
                now,
            )
        };
        let (email_id, sms_id) = match next.channel {
            Channel::Email => (Some(id.clone()), None),
            Channel::Sms => (None, Some(id.clone())),
        };
        let send = ScheduledSend {
            id,
            route: ScheduledRoute::Fallback,
            send_at: now + after.unwrap_or(REPORT_WAIT),
            content: sealed,
            caller: context.caller.clone(),
            request_id: context.request_id.clone(),
            email_id,
            sms_id,
            batch_id: None,
        };
        self.store().schedule(&send, &[record], &[], None).await
    }

    /// Delivery reports about messages with a prepared fallback: a delivery (or a read)
    /// cancels it, a failure (or a permanent bounce) moves it to now for the dispatcher. One
    /// look-up per report of those kinds.
    pub(super) async fn settle_fallbacks(&self, events: &[DeliveryEvent]) -> Result<(), Error> {
        for event in events {
            let change = match event.kind {
                EventKind::Delivered | EventKind::Read => Change::Cancel,
                EventKind::Failed => Change::MoveTo(crate::support::now_micros()),
                EventKind::Bounced if event.retryable == Some(false) => {
                    Change::MoveTo(crate::support::now_micros())
                }
                _ => continue,
            };
            let message = self.store().message(&event.provider_message_id).await?;
            if let Some(fallback) = message.and_then(|m| m.fallback) {
                // One that went, or was cancelled, already: nothing left to decide.
                self.store().change(&fallback, change).await?;
            }
        }
        Ok(())
    }

    /// A prepared fallback whose time came: sent when the message it replaces failed (or had
    /// no receipt by `fallbackAfter`), else recorded as cancelled. Its failure, if any.
    pub(super) async fn run_fallback(
        &self,
        prepared: PreparedFallback,
        context: &RequestContext,
    ) -> Result<Option<Error>, Error> {
        let original = self.store().message(&prepared.fallback_of).await?;
        let status = original.as_ref().map(|m| m.status);
        let ids = context.scheduled.clone().unwrap_or_default();
        let id = ids.email.or(ids.sms).unwrap_or_default();
        if !status.is_some_and(|s| fallback_goes(s, prepared.deadline)) {
            return self.drop_fallback(&id, context).await.map(|()| None);
        }
        let request: SendNotificationRequest = serde_json::from_value(prepared.notification)
            .map_err(|e| {
                Error::new(
                    ErrorCode::InternalError,
                    format!("The prepared fallback could not be read: {e}"),
                )
            })?;
        let notification = request.parse()?;
        let channel = notification
            .delivery
            .channels
            .as_ref()
            .and_then(|c| c.first().copied());
        let sending = self
            .send_template_notification(notification, context)
            .await?;
        let failure = self
            .recorded(sending, |outcome| {
                [outcome.email, outcome.sms]
                    .into_iter()
                    .flatten()
                    .find_map(Result::err)
            })
            .await?;
        let reason = match status {
            Some(MessageStatus::Failed) => "undelivered",
            Some(MessageStatus::Bounced) => "bounced",
            _ => "no_receipt",
        };
        if let Some(channel) = channel {
            self.tell_fallback(
                prepared.original_channel,
                &prepared.fallback_of,
                channel,
                &id,
                reason,
            )
            .await;
        }
        Ok(failure)
    }

    /// The prepared message, recorded as cancelled: the message it would replace reached the
    /// patient (or nothing said otherwise in time).
    async fn drop_fallback(&self, id: &str, context: &RequestContext) -> Result<(), Error> {
        let Some(view) = self.store().message(id).await? else {
            return Ok(());
        };
        let recipients = view
            .recipients
            .iter()
            .map(|r| AuditRecipient {
                hash: r.hash.clone(),
                masked: r.masked.clone(),
            })
            .collect();
        let record = MessageRecord {
            template: view.template,
            category: view.category,
            fallback_of: view.fallback_of,
            ..context.record(
                view.id,
                (view.channel, view.provider),
                MessageStatus::Cancelled,
                recipients,
                crate::support::now_micros(),
            )
        };
        self.store().record(&[record], &[], &[]).await
    }
}

/// Whether a prepared fallback goes, by the status of the message it replaces: a failure or
/// a permanent bounce, or, past `fallbackAfter` (`deadline`), no receipt yet.
fn fallback_goes(original: MessageStatus, deadline: bool) -> bool {
    match original {
        MessageStatus::Failed | MessageStatus::Bounced => true,
        MessageStatus::Scheduled
        | MessageStatus::Logged
        | MessageStatus::Sent
        | MessageStatus::Delayed => deadline,
        MessageStatus::Delivered
        | MessageStatus::Read
        | MessageStatus::Complained
        | MessageStatus::OptedOut
        | MessageStatus::Cancelled
        | MessageStatus::Suppressed
        | MessageStatus::Declined => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prepared_fallback_goes_after_a_failure_or_a_missed_deadline_never_after_a_delivery() {
        use MessageStatus::*;
        for (status, deadline, goes) in [
            (Failed, false, true),
            (Bounced, false, true),
            (Sent, false, false),
            (Sent, true, true),
            (Delayed, true, true),
            (Delivered, true, false),
            (Read, true, false),
            (Complained, true, false),
            (OptedOut, false, false),
        ] {
            assert_eq!(
                fallback_goes(status, deadline),
                goes,
                "{status:?} {deadline}"
            );
        }
    }
}
