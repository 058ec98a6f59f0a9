//! Delivery webhooks: what happened after a send. Twilio status callbacks and SES events (by
//! way of SNS) are verified before they are believed, normalised into one [`DeliveryEvent`],
//! written to the audit trail, and forwarded to the practice app signed as the Standard
//! Webhooks specification says.

mod forward;
mod receive;
mod sns;
mod twilio;

pub use forward::{EventsTarget, sign_standard_webhook};
pub use receive::SnsOutcome;
pub use sns::{
    CertificateSource, HttpsCertificateSource, SnsVerifier, is_aws_sns_host, ses_events,
};
pub use twilio::{twilio_event, twilio_signature_is_valid};

use serde::Serialize;

/// One thing that happened to one message for one recipient, whichever provider said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryEvent {
    /// Stable for the same provider report, so a receiver can drop duplicates.
    pub id: String,
    /// `sent`, `delivered`, `bounced`, `complained`, `failed`, `opted_out`, `delayed`, `read`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub channel: &'static str,
    pub provider: &'static str,
    pub provider_message_id: String,
    /// The audit trail's keyed hash of the recipient, so events join the send's audit event.
    pub recipient_hash: Option<String>,
    /// When the provider says it happened (RFC 3339), else when it was received.
    pub time: String,
    pub error_code: Option<String>,
    /// For failures: whether sending again could succeed. `null` for non-failures.
    pub retryable: Option<bool>,
}

/// `evt_` and 24 hex characters of SHA-256 over what identifies the report.
pub fn event_id(parts: &[&str]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, parts.join("\u{1f}").as_bytes());
    format!("evt_{}", hex::encode(&digest.as_ref()[..12]))
}
