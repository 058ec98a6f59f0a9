//! Forwarding delivery events to the practice app (`NOTIFY_EVENTS_URL`), signed as the
//! Standard Webhooks specification says, with bounded retries.

use std::time::Duration;

use base64::Engine;
use ring::hmac;
use serde::Serialize;

use super::DeliveryEvent;

/// Where events go and the secret they are signed with.
#[derive(Clone)]
pub struct EventsTarget {
    pub url: String,
    /// The decoded key (`whsec_<base64>` in `NOTIFY_EVENTS_SECRET`).
    pub key: Vec<u8>,
}

impl std::fmt::Debug for EventsTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsTarget")
            .field("url", &self.url)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Attempts in all, and the pauses between them: the last ends within a few seconds, inside
/// the function's `maxDuration`.
const ATTEMPTS: usize = 3;
const PAUSES: [Duration; 2] = [Duration::from_millis(250), Duration::from_millis(1000)];
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
    /// Posts `event`; a 2xx ends it, anything else is retried a bounded number of times and
    /// then given up on (and logged). Returns whether it was delivered.
    pub async fn forward(&self, client: &reqwest::Client, event: &DeliveryEvent) -> bool {
        let body = match serde_json::to_string(&Payload {
            kind: format!("message.{}", event.kind),
            timestamp: &event.time,
            data: event,
        }) {
            Ok(body) => body,
            Err(_) => return false,
        };
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(PAUSES[attempt - 1]).await;
            }
            let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
            let result = client
                .post(&self.url)
                .header("content-type", "application/json")
                .header("webhook-id", &event.id)
                .header("webhook-timestamp", timestamp.to_string())
                .header(
                    "webhook-signature",
                    sign_standard_webhook(&self.key, &event.id, timestamp, &body),
                )
                .body(body.clone())
                .timeout(ATTEMPT_TIMEOUT)
                .send()
                .await;
            match result {
                Ok(response) if response.status().is_success() => return true,
                Ok(response) => {
                    tracing::warn!(event_id = %event.id, status = response.status().as_u16(), attempt, "event forwarding refused")
                }
                Err(error) => {
                    tracing::warn!(event_id = %event.id, error = %error, attempt, "event forwarding failed")
                }
            }
        }
        tracing::error!(event_id = %event.id, "event forwarding given up after {ATTEMPTS} attempts");
        false
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
