//! What a message's audit lines tell, as `GET /api/messages/{id}` answers it: when it was kept
//! for later and why, each attempt to hand it to a provider with the provider's answer, and
//! each replay of its send.
//! Only the fields a person reading the message's story needs: never a recipient's hash.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::names::{AuditKind, Provider};

/// The message's audit lines, oldest first, by what they record.
#[derive(Serialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase")]
pub(in crate::http) struct Trail {
    /// When it was kept for later (its `sendAt`, or quiet hours).
    scheduled: Vec<Scheduling>,
    /// Each attempt to send it, or decision not to (suppressed, declined).
    attempts: Vec<AttemptStep>,
    /// Each time its send was asked for again with the same `Idempotency-Key`, and answered
    /// as the first time without sending again.
    replays: Vec<Replay>,
}

/// A send asked for again with the same key.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all(serialize = "camelCase"))]
struct Replay {
    #[schemars(extend("format" = "date-time"))]
    time: String,
    caller: String,
}

/// A message kept for later.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all(serialize = "camelCase"))]
struct Scheduling {
    #[schemars(extend("format" = "date-time"))]
    time: String,
    #[schemars(extend("format" = "date-time"))]
    send_at: String,
    /// Whether quiet hours moved it to `sendAt`.
    quiet_hours: bool,
}

/// One send attempt, as its audit line says.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all(serialize = "camelCase"))]
struct AttemptStep {
    #[schemars(extend("format" = "date-time"))]
    time: String,
    provider: Provider,
    /// `sent`, `logged` (demo), `failed`, `suppressed` or `declined`.
    outcome: String,
    /// The provider's id for it, when one took it.
    message_id: Option<String>,
    /// This API's error code.
    error_code: Option<String>,
    /// The provider's own code (an SES exception, a Twilio error number).
    provider_code: Option<String>,
    /// What to do about it, as the send's answer said.
    #[serde(default)]
    hint: Option<String>,
    latency_ms: u64,
    /// The suppression list's entries that kept recipients from it.
    #[serde(default)]
    suppressions: Vec<String>,
    /// The rules that declined recipients.
    #[serde(default)]
    declined: Vec<String>,
}

impl Trail {
    /// Reads the lines it knows; any other line naming the message is not part of its story.
    pub(super) fn of(lines: &[serde_json::Value]) -> Self {
        let mut trail = Self::default();
        for line in lines {
            let kind = line["event"].as_str().and_then(AuditKind::parse);
            match kind {
                Some(AuditKind::SendScheduled) => {
                    if let Ok(step) = serde_json::from_value(line.clone()) {
                        trail.scheduled.push(step);
                    }
                }
                Some(AuditKind::SendAttempt) => {
                    if let Ok(step) = serde_json::from_value(line.clone()) {
                        trail.attempts.push(step);
                    }
                }
                Some(AuditKind::IdempotentReplay) => {
                    if let Ok(step) = serde_json::from_value(line.clone()) {
                        trail.replays.push(step);
                    }
                }
                _ => {}
            }
        }
        trail
    }
}
