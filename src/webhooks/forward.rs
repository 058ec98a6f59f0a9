//! Forwarding delivery events to the practice app (`NOTIFY_EVENTS_URL`), signed as the
//! Standard Webhooks specification says, with bounded retries.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use base64::Engine;
use ring::hmac;
use serde::Serialize;

use crate::config::SecretBytes;
use crate::domain::DeliveryEvent;
use crate::support::HttpClient;

/// Where events go and the secret they are signed with.
#[derive(Debug, Clone)]
pub struct EventsTarget {
    pub url: String,
    /// The decoded key (`whsec_<base64>` in `NOTIFY_EVENTS_SECRET`).
    pub key: SecretBytes,
}

/// Retries after the first attempt, and the back-off between them (250 ms, then 1 s): the
/// last attempt ends within a few seconds, inside the function's `maxDuration`.
const RETRIES: usize = 2;
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(4);

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
pub fn sign_standard_webhook(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    )
}

/// The payload: `{"type": "message.<event type>", "timestamp", "data": <event>}`.
#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    kind: String,
    timestamp: &'a str,
    data: &'a DeliveryEvent,
}

impl EventsTarget {
    /// Posts `event`; a 2xx ends it, anything else (a redirect included) is retried a bounded
    /// number of times and then given up on, and logged. Returns whether it was delivered.
    pub async fn forward(&self, http: &HttpClient, event: &DeliveryEvent) -> bool {
        let Ok(client) = http.get() else {
            return false;
        };
        let Ok(body) = serde_json::to_string(&Payload {
            kind: format!("message.{}", event.kind),
            timestamp: &event.time,
            data: event,
        }) else {
            return false;
        };
        let attempt = || async {
            let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
            let response = client
                .post(&self.url)
                .header("content-type", "application/json")
                .header("webhook-id", &event.id)
                .header("webhook-timestamp", timestamp.to_string())
                .header(
                    "webhook-signature",
                    sign_standard_webhook(self.key.expose(), &event.id, timestamp, &body),
                )
                .body(body.clone())
                .timeout(ATTEMPT_TIMEOUT)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            match response.status() {
                status if status.is_success() => Ok(()),
                status => Err(format!("answered {status}")),
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(FIRST_PAUSE)
            .with_factor(4.0)
            .with_max_times(RETRIES);
        let delivered = attempt
            .retry(backoff)
            .notify(|reason: &String, _| {
                tracing::warn!(event_id = %event.id, reason = %reason, "event forwarding refused or failed; retrying");
            })
            .await;
        if let Err(reason) = &delivered {
            tracing::error!(event_id = %event.id, reason = %reason, "event forwarding given up after {} attempts", RETRIES + 1);
        }
        delivered.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_follows_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        let signature = sign_standard_webhook(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
