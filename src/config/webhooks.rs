//! Delivery webhooks: where this deployment is reachable, and where events are forwarded.

use super::SecretBytes;
use super::vars::{Vars, secure_url};
use crate::error::FieldError;

/// Delivery webhooks: where this deployment is reachable, and where events go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookConfig {
    /// `NOTIFY_PUBLIC_URL`: the deployment's public base URL, which Twilio signs and which SMS
    /// name as their `StatusCallback`.
    pub public_url: Option<String>,
    /// `NOTIFY_EVENTS_URL` and the decoded `NOTIFY_EVENTS_SECRET`.
    pub events: Option<(String, SecretBytes)>,
}

pub(super) fn read_webhooks(vars: &Vars, invalid: &mut Vec<FieldError>) -> WebhookConfig {
    let public_url = vars
        .get("NOTIFY_PUBLIC_URL")
        .and_then(|url| secure_url("NOTIFY_PUBLIC_URL", url, invalid));
    let events_url = vars
        .get("NOTIFY_EVENTS_URL")
        .and_then(|url| secure_url("NOTIFY_EVENTS_URL", url, invalid));
    let secret = vars.get("NOTIFY_EVENTS_SECRET").and_then(|raw| {
        let encoded = raw.strip_prefix("whsec_").unwrap_or(raw);
        match base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded) {
            Ok(key) if key.len() >= 16 => Some(SecretBytes::new(key)),
            _ => {
                invalid.push(FieldError::new(
                    "NOTIFY_EVENTS_SECRET",
                    "must be whsec_ followed by at least 16 bytes in base64",
                ));
                None
            }
        }
    });
    let events = match (events_url, secret) {
        (Some(url), Some(secret)) => Some((url, secret)),
        (Some(_), None) => {
            invalid.push(FieldError::new(
                "NOTIFY_EVENTS_SECRET",
                "is required with NOTIFY_EVENTS_URL: events are never sent unsigned",
            ));
            None
        }
        _ => None,
    };
    WebhookConfig { public_url, events }
}
