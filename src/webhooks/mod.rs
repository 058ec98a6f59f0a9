//! Delivery webhooks: what happened after a send. Twilio status callbacks and SES events (by
//! way of SNS) are verified before they are believed, normalised into one
//! [`DeliveryEvent`](crate::domain::DeliveryEvent),
//! and forwarded to the practice app signed as the Standard Webhooks specification says, on a
//! retry schedule; a patient's reply is read for the ways people opt out of texts and back in.

mod forward;
mod inbound;
mod ses;
mod sns;
mod twilio;

pub use forward::{
    EventsTarget, Payload as EventPayload, PracticePayload, payload as event_payload,
    practice_payload, retry_after, sign_standard_webhook,
};
pub use inbound::{OptWords, opt_words};
pub use ses::ses_events;
pub use sns::{CertificateSource, HttpsCertificateSource, SnsVerifier, is_aws_sns_host};
pub use twilio::{twilio_event, twilio_signature_is_valid};

/// `evt_` and 24 hex characters of SHA-256 over what identifies the report.
pub fn event_id(parts: &[&str]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, parts.join("\u{1f}").as_bytes());
    format!("evt_{}", hex::encode(&digest.as_ref()[..12]))
}
