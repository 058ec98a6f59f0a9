//! Receiving a webhook: verify it, turn it into delivery events, keep each in the audit trail,
//! the message log and the outbox (and on the suppression list when it calls for it; a
//! patient's reply that opts out or back in, too), and hand back the first forwarding attempt as work to run
//! after the answer, so the provider gets its 2xx at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::Dispatched;
use super::dispatch::{attempt_all, forward_due};
use super::{App, RequestContext, SES_WEBHOOK_PATH, TWILIO_WEBHOOK_PATH};
use crate::config::ChannelConfig;
use crate::domain::{DeliveryEvent, PhoneNumber};
use crate::error::{Error, ErrorCode, FieldError};
use crate::store::{Applied, NewEvent, Outgoing};
use crate::webhooks::{
    OptWords, event_payload, is_aws_sns_host, opt_words, ses_events, twilio_event,
    twilio_signature_is_valid,
};

/// Work that must outlive the answer (forwarding events to the practice app). The HTTP layer
/// runs it where its host keeps it alive: Vercel's `waitUntil`, or the local runtime.
pub type AfterAnswer = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A verified webhook's outcome, and the work it leaves for after the answer.
pub struct Received<T> {
    pub outcome: T,
    pub after_answer: Option<AfterAnswer>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Received<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Received")
            .field("outcome", &self.outcome)
            .field("after_answer", &self.after_answer.is_some())
            .finish()
    }
}

/// What a verified SNS message asked of us.
#[derive(Debug, PartialEq, Eq)]
pub enum SnsOutcome {
    /// A subscription confirmed by visiting its `SubscribeURL`.
    Confirmed,
    Unsubscribed,
    Events(usize),
}

impl App {
    /// A Twilio status callback (or inbound message): `params` as posted, signed by
    /// `signature` over `{NOTIFY_PUBLIC_URL}/api/webhooks/twilio` plus the query Twilio used.
    pub async fn receive_twilio(
        &self,
        params: &[(String, String)],
        signature: Option<&str>,
        query: Option<&str>,
        context: &RequestContext,
    ) -> Result<Received<Option<DeliveryEvent>>, Error> {
        let received = self
            .twilio_received(params, signature, query, context)
            .await;
        let refused = received.as_ref().err().map(|e| e.code);
        self.audit_refusal(TWILIO_WEBHOOK_PATH, refused, context)
            .await;
        received
    }

    async fn twilio_received(
        &self,
        params: &[(String, String)],
        signature: Option<&str>,
        query: Option<&str>,
        context: &RequestContext,
    ) -> Result<Received<Option<DeliveryEvent>>, Error> {
        let ChannelConfig::Live(twilio) = &self.config.sms else {
            return Err(not_wired(
                "Twilio webhooks need the SMS channel live (TWILIO_* variables).",
            ));
        };
        let Some(public_url) = &self.config.webhooks.public_url else {
            return Err(not_wired(
                "Twilio webhooks need NOTIFY_PUBLIC_URL, the URL Twilio signs.",
            ));
        };
        let url = match query {
            Some(query) => format!("{public_url}{TWILIO_WEBHOOK_PATH}?{query}"),
            None => format!("{public_url}{TWILIO_WEBHOOK_PATH}"),
        };
        let valid = signature.is_some_and(|s| {
            twilio_signature_is_valid(twilio.auth_token.expose(), &url, params, s)
        });
        if !valid {
            tracing::warn!(request_id = %context.request_id, signed = signature.is_some(), "refused a Twilio webhook with a missing or wrong signature");
            return Err(forged(
                "The X-Twilio-Signature header is missing or does not match.",
            ));
        }
        if let Some((from, words)) = inbound_opt_words(params) {
            self.receive_opt_words(from.as_str(), from.masked(), words, context)
                .await?;
        }
        let event = twilio_event(
            params,
            |r| self.auditor.recipient_hash(r),
            crate::support::now_rfc3339(),
        );
        let after_answer = match &event {
            Some(event) => self.deliver(vec![event.clone()], context).await?,
            None => None,
        };
        Ok(Received {
            outcome: event,
            after_answer,
        })
    }

    /// An SNS message carrying SES events, or a subscription (un)confirmation.
    pub async fn receive_sns(
        &self,
        body: &[u8],
        context: &RequestContext,
    ) -> Result<Received<SnsOutcome>, Error> {
        let received = self.sns_received(body, context).await;
        let refused = received.as_ref().err().map(|e| e.code);
        self.audit_refusal(SES_WEBHOOK_PATH, refused, context).await;
        received
    }

    async fn sns_received(
        &self,
        body: &[u8],
        context: &RequestContext,
    ) -> Result<Received<SnsOutcome>, Error> {
        let message = self.sns().verify(body).await.map_err(|reason| {
            tracing::warn!(request_id = %context.request_id, reason = %reason, "refused an SNS message");
            forged(&format!("The SNS message is not verified: {reason}."))
        })?;
        match message.kind.as_str() {
            "SubscriptionConfirmation" => {
                let url = message.subscribe_url.as_deref().unwrap_or_default();
                if !is_aws_sns_host(url) {
                    return Err(forged("The SubscribeURL is not on an AWS SNS host."));
                }
                if self.sns().confirm(url).await.is_err() {
                    return Err(Error::new(
                        ErrorCode::SubscriptionNotConfirmed,
                        "SNS did not accept the subscription confirmation; it will send it again.",
                    ));
                }
                tracing::info!(topic = %message.topic_arn, "confirmed the SNS subscription");
                Ok(Received {
                    outcome: SnsOutcome::Confirmed,
                    after_answer: None,
                })
            }
            "UnsubscribeConfirmation" => {
                tracing::warn!(topic = %message.topic_arn, "unsubscribed from the SNS topic");
                Ok(Received {
                    outcome: SnsOutcome::Unsubscribed,
                    after_answer: None,
                })
            }
            _ => {
                let events = ses_events(&message.message_id, &message.message, |r| {
                    self.auditor.recipient_hash(r)
                })
                .map_err(|reason| {
                    Error::invalid_fields(vec![FieldError::new("Message", reason)])
                })?;
                let count = events.len();
                Ok(Received {
                    outcome: SnsOutcome::Events(count),
                    after_answer: self.deliver(events, context).await?,
                })
            }
        }
    }

    /// A webhook refused as forged or unverifiable is an audit event (its route and code, never
    /// its content). Kept by the store at best: the refusal is answered either way.
    async fn audit_refusal(
        &self,
        route: &'static str,
        refused: Option<ErrorCode>,
        context: &RequestContext,
    ) {
        let Some(code @ (ErrorCode::InvalidSignature | ErrorCode::WebhooksNotConfigured)) = refused
        else {
            return;
        };
        let line = self
            .auditor
            .record_refusal(route, code, &context.request_id);
        if let Err(failed) = self.store().append_audit(&line).await {
            tracing::error!(code = %failed.code.as_str(), "the audit trail could not keep a refused webhook");
        }
    }

    /// Keeps each event with its audit line, in the message log and, when events are
    /// forwarded, in the outbox; the first attempt at each (when no earlier event of its
    /// message is still waiting) is the work left for after the answer, and the dispatcher
    /// retries what it does not deliver. A store that cannot take them answers 503, so that
    /// the provider sends the report again (the same report keeps its event id, kept once).
    pub(super) async fn deliver(
        &self,
        events: Vec<DeliveryEvent>,
        context: &RequestContext,
    ) -> Result<Option<AfterAnswer>, Error> {
        // A report about a send this instance has just answered finds its message.
        self.settled().await;
        self.suppress_from_events(&events, context).await?;
        // Settled once the events are kept: a fallback moved to now is decided by the
        // status they give its original.
        let settling = events.clone();
        let mut claimed = Vec::new();
        for event in events {
            let audit = self.auditor.record_delivery(&event, &context.request_id);
            let payload = event_payload(&event);
            let new = NewEvent {
                event: &event,
                payload: &payload,
                audit: &audit,
                forward: self.events.is_some(),
            };
            let (applied, batch) = self.store().apply_event(new).await?;
            if applied == Applied::Claimed {
                // As the store keeps it: with its message's batch.
                let payload = match batch {
                    Some(batch) => event_payload(&DeliveryEvent {
                        batch_id: Some(batch),
                        ..event.clone()
                    }),
                    None => payload,
                };
                claimed.push(Outgoing {
                    id: event.id,
                    payload,
                    attempts: 0,
                });
            }
        }
        self.settle_fallbacks(&settling).await?;
        let (Some(target), false) = (self.events.clone(), claimed.is_empty()) else {
            return Ok(None);
        };
        let (http, store) = (self.http.clone(), Arc::clone(self.shared_store()));
        Ok(Some(Box::pin(async move {
            let settled = attempt_all(&target, &http, claimed).await;
            let mut report = Dispatched::default();
            report.count(&settled);
            if let Err(failed) = store.settle(&settled).await {
                // The lease runs out and the dispatcher attempts them again.
                tracing::error!(code = %failed.code.as_str(), "the outcome of forwarding could not be kept");
                return;
            }
            // Later events of the same messages may have arrived meanwhile and wait behind
            // these: once these are delivered, they go now rather than at the next dispatch.
            if report.delivered > 0
                && let Err(failed) =
                    forward_due(&target, &http, store.as_ref(), FOLLOW_UP, &mut report).await
            {
                tracing::warn!(code = %failed.code.as_str(), "events left to the dispatcher");
            }
        })))
    }
}

/// The sender and what their text says, for an inbound message that opts out or back in.
fn inbound_opt_words(params: &[(String, String)]) -> Option<(PhoneNumber, OptWords)> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let status = get("SmsStatus").or_else(|| get("MessageStatus"));
    if !matches!(status, None | Some("received")) {
        return None;
    }
    let from = PhoneNumber::parse(get("From")?).ok()?;
    Some((from, opt_words(get("Body")?)?))
}

/// How long the work after a webhook's answer may go on forwarding the events that waited
/// behind its own (inside the webhook functions' `maxDuration` of 30 s).
const FOLLOW_UP: std::time::Duration = std::time::Duration::from_secs(10);

/// A webhook this deployment cannot verify is refused like a forged one (403): it is not
/// believed, and an unconfigured deployment is no reason for a 5xx.
fn not_wired(message: &str) -> Error {
    Error::new(ErrorCode::WebhooksNotConfigured, message)
        .with_hint("See Delivery events in the README.")
}

fn forged(message: &str) -> Error {
    Error::new(ErrorCode::InvalidSignature, message)
}
