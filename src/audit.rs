//! The audit trail: one JSON line per send attempt (demo included), delivery event and refused
//! webhook, written on stdout (Vercel keeps it with the function's logs) and handed back so the
//! service appends it to the store, which keeps it for the retention period. Recipients appear
//! only as a keyed hash (to correlate events) and a masked form (for a person); never a message
//! body, a subject, a secret, or a full address or number.

use std::io::Write;

use ring::hmac;
use serde::Serialize;

use crate::config::Secret;
use crate::domain::DeliveryEvent;
use crate::error::{Attempt, ErrorCode};
use crate::names::{
    AuditKind, AuditOutcome, Category, Channel, ChoiceSource, DeclineRule, Mode, Provider,
    SuppressionReason, SuppressionSource,
};
use crate::support::now_rfc3339;
use crate::templates::TemplateName;

/// Keys the recipient hashes and writes the events.
pub struct Auditor {
    key: hmac::Key,
    /// False when no `NOTIFY_AUDIT_KEY` is set: the key is then random per process, so hashes
    /// still hide recipients but only correlate within one function instance.
    pub keyed: bool,
    /// Where the lines go: stdout, or (in this crate's unit tests) a list to read back.
    #[cfg(test)]
    pub recorded: Option<std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor")
            .field("keyed", &self.keyed)
            .finish_non_exhaustive()
    }
}

impl Auditor {
    pub fn new(key: Option<&Secret>) -> Self {
        match key {
            Some(key) => Self {
                key: hmac::Key::new(hmac::HMAC_SHA256, key.expose().as_bytes()),
                keyed: true,
                #[cfg(test)]
                recorded: None,
            },
            None => {
                let random = ring::rand::SystemRandom::new();
                let key = hmac::Key::generate(hmac::HMAC_SHA256, &random)
                    .unwrap_or_else(|_| hmac::Key::new(hmac::HMAC_SHA256, &nanos_as_bytes()));
                Self {
                    key,
                    keyed: false,
                    #[cfg(test)]
                    recorded: None,
                }
            }
        }
    }

    /// HMAC-SHA256 of the normalised recipient (a lower-case address or an E.164 number), hex.
    pub fn recipient_hash(&self, recipient: &str) -> String {
        let tag = hmac::sign(&self.key, recipient.to_ascii_lowercase().as_bytes());
        hex::encode(tag)
    }

    /// Writes `event` as one JSON line on stdout, and returns the line for the store.
    pub fn record(&self, event: &AuditEvent) -> String {
        self.write(event)
    }

    fn write(&self, value: &impl Serialize) -> String {
        let line = serde_json::to_string(value).unwrap_or_default();
        #[cfg(test)]
        if let Some(recorded) = &self.recorded {
            if let (Ok(mut lines), Ok(value)) = (recorded.lock(), serde_json::from_str(&line)) {
                lines.push(value);
            }
            return line;
        }
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        line
    }

    /// Writes a refused webhook (its route and why, never its content), and returns the line.
    pub fn record_refusal(&self, route: &'static str, code: ErrorCode, request_id: &str) -> String {
        #[derive(Serialize)]
        struct Refusal<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            event: AuditKind,
            time: String,
            request_id: &'a str,
            route: &'static str,
            error_code: ErrorCode,
        }
        self.write(&Refusal {
            kind: "audit",
            event: AuditKind::WebhookRefused,
            time: now_rfc3339(),
            request_id,
            route,
            error_code: code,
        })
    }

    /// Writes a verified delivery event as one JSON line on stdout, and returns the line.
    pub fn record_delivery(&self, event: &DeliveryEvent, request_id: &str) -> String {
        #[derive(Serialize)]
        struct Delivery<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            event: AuditKind,
            request_id: &'a str,
            received: String,
            delivery: &'a DeliveryEvent,
        }
        self.write(&Delivery {
            kind: "audit",
            event: AuditKind::DeliveryEvent,
            request_id,
            received: now_rfc3339(),
            delivery: event,
        })
    }
}

impl Auditor {
    /// Writes a change of who is reached (a suppression added or lifted, a patient's choices,
    /// the reputation guard's state: who by, never the address), and returns the line.
    pub fn record_change(&self, change: &impl Serialize) -> String {
        self.write(change)
    }
}

/// A change of a patient's choices, as its audit line says.
#[derive(Debug, Serialize)]
pub struct PreferenceChange<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `preference_updated`.
    pub event: AuditKind,
    pub time: String,
    pub request_id: &'a str,
    pub caller: &'a str,
    pub source: ChoiceSource,
    pub recipients: Vec<AuditRecipient>,
    /// Each (category, channel, on).
    pub changes: &'a [(Category, Channel, bool)],
    /// Whether SMS consent evidence was recorded with it.
    pub consent_recorded: bool,
}

/// An addition to or a lift from the suppression list, as its audit line says.
#[derive(Debug, Serialize)]
pub struct SuppressionChange<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `suppression_added` or `suppression_lifted`.
    pub event: AuditKind,
    pub time: String,
    pub request_id: &'a str,
    /// Who asked: the API caller, or the provider or patient for automatic changes.
    pub caller: &'a str,
    pub id: &'a str,
    pub channel: Channel,
    pub recipient: AuditRecipient,
    pub scope: Option<Category>,
    pub reason: SuppressionReason,
    pub source: SuppressionSource,
    pub inferred: bool,
    pub message_id: Option<&'a str>,
    /// A complaint lifted with `force`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forced: bool,
}

/// Only reached when the system random source fails, which ring treats as near impossible.
fn nanos_as_bytes() -> [u8; 16] {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    nanos.to_le_bytes()
}

/// One send attempt. The schema is documented in the README; add fields, never rename them.
#[derive(Debug, Serialize)]
pub struct AuditEvent<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub event: AuditKind,
    /// RFC 3339, UTC.
    pub time: String,
    pub request_id: &'a str,
    /// The message's id in the message log (`GET /api/messages/{id}`).
    pub id: &'a str,
    pub channel: Channel,
    pub template: Option<TemplateName>,
    pub provider: Provider,
    pub mode: Mode,
    /// `sent` (live), `logged` (demo) or `failed`.
    pub outcome: AuditOutcome,
    pub message_id: Option<&'a str>,
    pub error_code: Option<ErrorCode>,
    pub provider_code: Option<&'a str>,
    /// What to do about the error, as the send's answer said it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<&'a str>,
    pub status: u16,
    pub latency_ms: u64,
    pub recipients: Vec<AuditRecipient>,
    /// Providers tried before `provider`, and why each failed.
    pub failed_over: &'a [Attempt],
    /// True when the provider may have accepted the message although the send failed.
    pub acceptance_unknown: bool,
    /// The suppression list's entries that kept recipients from it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressions: Vec<&'a str>,
    /// The rules that declined recipients (a patient's choice, the practice's default, no
    /// consent to billing texts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub declined: Vec<DeclineRule>,
    /// For a billing SMS: whether the patient's consent to texts was on file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_on_file: Option<bool>,
}

/// A message kept for later (its `sendAt`, or quiet hours), as its audit line says: when it
/// is to go and why.
#[derive(Debug, Serialize)]
pub struct ScheduledLine<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `send_scheduled`.
    pub event: AuditKind,
    pub time: String,
    pub request_id: &'a str,
    /// The message's id in the message log.
    pub id: &'a str,
    pub channel: Channel,
    pub template: Option<TemplateName>,
    pub caller: &'a str,
    /// RFC 3339, UTC.
    pub send_at: String,
    /// Whether quiet hours moved it to `send_at`.
    pub quiet_hours: bool,
    pub recipients: Vec<AuditRecipient>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditRecipient {
    pub hash: String,
    pub masked: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_gives_the_same_hash_and_another_key_another() {
        let a = Auditor::new(Some(&Secret::new("k".repeat(32))));
        let b = Auditor::new(Some(&Secret::new("j".repeat(32))));
        assert!(a.keyed);
        assert_eq!(
            a.recipient_hash("+15551234567"),
            a.recipient_hash("+15551234567")
        );
        assert_ne!(
            a.recipient_hash("+15551234567"),
            b.recipient_hash("+15551234567")
        );
        assert_eq!(
            a.recipient_hash("Ann@Example.com"),
            a.recipient_hash("ann@example.com")
        );
        assert_eq!(a.recipient_hash("x").len(), 64);
    }

    #[test]
    fn without_a_key_hashes_are_random_per_process_but_still_hide_the_recipient() {
        let auditor = Auditor::new(None);
        assert!(!auditor.keyed);
        assert!(
            !auditor
                .recipient_hash("+15551234567")
                .contains("5551234567")
        );
    }
}
