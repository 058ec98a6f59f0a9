//! Receiving a webhook: verify it, turn it into delivery events, record each in the audit
//! trail, and forward them in the background so the provider gets its 2xx at once.

use crate::app::{App, Channel, SendContext};
use crate::error::{Error, ErrorKind};
use crate::http::Route;

use super::{DeliveryEvent, is_aws_sns_host, ses_events, twilio_event, twilio_signature_is_valid};

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
        context: &SendContext,
    ) -> Result<Option<DeliveryEvent>, Error> {
        let Channel::Live(twilio) = &self.sms else {
            return Err(not_wired(
                "Twilio webhooks need the SMS channel live (TWILIO_* variables).",
            ));
        };
        let Some(public_url) = &self.webhooks.public_url else {
            return Err(not_wired(
                "Twilio webhooks need NOTIFY_PUBLIC_URL, the URL Twilio signs.",
            ));
        };
        let url = match query {
            Some(query) => format!("{public_url}{}?{query}", Route::TwilioWebhook.path()),
            None => format!("{public_url}{}", Route::TwilioWebhook.path()),
        };
        let valid = signature.is_some_and(|s| {
            twilio_signature_is_valid(twilio.auth_token().expose(), &url, params, s)
        });
        if !valid {
            tracing::warn!(request_id = %context.request_id, signed = signature.is_some(), "refused a Twilio webhook with a missing or wrong signature");
            return Err(forged(
                "The X-Twilio-Signature header is missing or does not match.",
            ));
        }
        let event = twilio_event(
            params,
            |r| self.auditor.recipient_hash(r),
            crate::audit::now_rfc3339(),
        );
        if let Some(event) = &event {
            self.deliver(vec![event.clone()], context);
        }
        Ok(event)
    }

    /// An SNS message carrying SES events, or a subscription (un)confirmation.
    pub async fn receive_sns(
        &self,
        body: &[u8],
        context: &SendContext,
    ) -> Result<SnsOutcome, Error> {
        let message = self.webhooks.sns.verify(body).await.map_err(|reason| {
            tracing::warn!(request_id = %context.request_id, reason = %reason, "refused an SNS message");
            forged(&format!("The SNS message is not verified: {reason}."))
        })?;
        match message.kind.as_str() {
            "SubscriptionConfirmation" => {
                let url = message.subscribe_url.as_deref().unwrap_or_default();
                if !is_aws_sns_host(url) {
                    return Err(forged("The SubscribeURL is not on an AWS SNS host."));
                }
                if self.webhooks.sns.confirm(url).await.is_err() {
                    return Err(Error::new(
                        ErrorKind::ProviderFailed,
                        "subscription_not_confirmed",
                        "SNS did not accept the subscription confirmation; it will send it again.",
                    ));
                }
                tracing::info!(topic = %message.topic_arn, "confirmed the SNS subscription");
                Ok(SnsOutcome::Confirmed)
            }
            "UnsubscribeConfirmation" => {
                tracing::warn!(topic = %message.topic_arn, "unsubscribed from the SNS topic");
                Ok(SnsOutcome::Unsubscribed)
            }
            _ => {
                let events = ses_events(&message.message_id, &message.message, |r| {
                    self.auditor.recipient_hash(r)
                })
                .map_err(|reason| {
                    Error::invalid_fields(vec![crate::error::FieldError::new("Message", reason)])
                })?;
                let count = events.len();
                self.deliver(events, context);
                Ok(SnsOutcome::Events(count))
            }
        }
    }

    /// Records each event in the audit trail and forwards them, after the answer.
    fn deliver(&self, events: Vec<DeliveryEvent>, context: &SendContext) {
        for event in &events {
            self.auditor.record_delivery(event, &context.request_id);
        }
        if let Some(target) = self.webhooks.events.clone() {
            let client = self.http_client().clone();
            context.background.spawn(async move {
                for event in &events {
                    target.forward(&client, event).await;
                }
            });
        }
    }
}

/// A webhook this deployment cannot verify is refused like a forged one (403): it is not
/// believed, and an unconfigured deployment is no reason for a 5xx.
fn not_wired(message: &str) -> Error {
    Error::new(ErrorKind::Forbidden, "webhooks_not_configured", message)
        .with_hint("See Delivery events in the README.")
}

fn forged(message: &str) -> Error {
    Error::new(ErrorKind::Forbidden, "invalid_signature", message)
}
