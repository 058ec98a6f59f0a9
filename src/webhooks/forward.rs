//! Forwarding delivery events (and practice events: suppressions, preferences, the reputation
//! guard) to the practice app (`NOTIFY_EVENTS_URL`), signed as the
//! Standard Webhooks specification says: one attempt at a time, and the schedule of the
//! attempts that follow a refusal (the outbox keeps each event until one is accepted).

use std::time::Duration;

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

/// How long one attempt may take: a receiver slower than this is retried later.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(4);

/// The waits after each refused attempt: Standard Webhooks' example schedule (5 s, 5 min,
/// 30 min, 2 h, 5 h, 10 h, 10 h), continued with three 14-hour waits so that an event is
/// tried for about three days (69 h 35 min) before it is marked failed: a practice app down
/// over a long weekend still gets its events. Eleven attempts in all.
pub const RETRY_SCHEDULE: [Duration; 10] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(14 * 3600),
];

/// The wait before the next attempt after `attempts` refused ones, `None` once the schedule
/// is spent (the event is then marked failed, and kept).
pub fn retry_after(attempts: u16) -> Option<Duration> {
    RETRY_SCHEDULE
        .get(usize::from(attempts).checked_sub(1)?)
        .copied()
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
pub fn sign_standard_webhook(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    )
}

/// A delivery event as forwarded to `NOTIFY_EVENTS_URL` (Standard Webhooks: `webhook-id` is
/// `data.id`) and served by `GET /api/events`.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "DeliveryEvent")]
pub struct Payload<'a> {
    /// `message.<data.type>`.
    #[serde(rename = "type")]
    kind: String,
    #[schemars(extend("format" = "date-time"))]
    timestamp: &'a str,
    data: &'a DeliveryEvent,
}

/// The JSON an event is forwarded as (and served as by `GET /api/events`).
pub fn payload(event: &DeliveryEvent) -> String {
    serde_json::to_string(&Payload {
        kind: format!("message.{}", event.kind),
        timestamp: &event.time,
        data: event,
    })
    .unwrap_or_default()
}

/// A practice event (`suppression.added`, `suppression.lifted`, `preference.updated`,
/// `reputation.changed`, `message.fallback`) as forwarded and served: its `data` holds the event's `id` (the
/// `webhook-id`) and the event's own fields (README, "Practice events").
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "PracticeEvent")]
pub struct PracticePayload<'a, T> {
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["suppression.added", "suppression.lifted", "preference.updated", "reputation.changed", "message.fallback"]))]
    kind: &'a str,
    #[schemars(extend("format" = "date-time"))]
    timestamp: String,
    data: PracticeData<'a, T>,
}

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "PracticeEventData")]
struct PracticeData<'a, T> {
    id: &'a str,
    #[serde(flatten)]
    fields: &'a T,
}

/// The JSON a practice event is forwarded as (and served as by `GET /api/events`).
pub fn practice_payload<T: Serialize>(kind: &str, id: &str, fields: &T) -> String {
    serde_json::to_string(&PracticePayload {
        kind,
        timestamp: crate::support::now_rfc3339(),
        data: PracticeData { id, fields },
    })
    .unwrap_or_default()
}

impl EventsTarget {
    /// One attempt to post the event `id` with its `payload`: accepted on a 2xx only (a
    /// redirect is not followed: events go only where the practice said). The error says why
    /// not (a status or a connection failure), never what was sent.
    pub async fn attempt(&self, http: &HttpClient, id: &str, payload: &str) -> Result<(), String> {
        let client = http.get().map_err(|e| e.message)?;
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let response = client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                sign_standard_webhook(self.key.expose(), id, timestamp, payload),
            )
            .body(payload.to_owned())
            .timeout(ATTEMPT_TIMEOUT)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())
                } else {
                    "the receiver could not be reached".to_owned()
                }
            })?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(format!("answered {status}")),
        }
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

    #[test]
    fn refused_events_are_retried_for_about_three_days_then_given_up() {
        assert_eq!(retry_after(0), None, "no wait before the first attempt");
        assert_eq!(retry_after(1), Some(Duration::from_secs(5)));
        assert_eq!(retry_after(2), Some(Duration::from_secs(300)));
        let total: Duration = (1..=10).filter_map(retry_after).sum();
        assert_eq!(total, Duration::from_secs(69 * 3600 + 35 * 60 + 5));
        assert_eq!(retry_after(11), None, "eleven attempts, then failed");
    }
}
