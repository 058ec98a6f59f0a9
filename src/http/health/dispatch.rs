//! Health's dispatcher section: whether it can be called, how long it keeps the log and the
//! trail, and the rates batch sends are paced to.

use serde::Serialize;

use crate::app::{App, Rates};
use crate::error::FieldError;
use crate::names::RateSource;

pub(super) fn dispatch_health(app: &App, forwarding: bool, rates: Rates) -> DispatchHealth<'_> {
    const NEEDS_CRON: &str = "Events the practice app does not accept at once are retried \
        only by the dispatcher, which needs CRON_SECRET.";
    let config = app.config();
    let dispatch = &config.dispatch;
    DispatchHealth {
        cron_secret: dispatch.cron_secret.is_some(),
        audit_retention_days: dispatch.audit_retention.as_secs() / 86_400,
        message_retention_days: dispatch.message_retention.as_secs() / 86_400,
        invalid: &config.dispatch_invalid,
        warning: (config.on_vercel && forwarding && dispatch.cron_secret.is_none())
            .then_some(NEEDS_CRON),
        pace: PaceHealth {
            email_per_second: rates.email,
            email_rate_source: rates.email_source,
            sms_per_second: rates.sms,
            batch_share_percent: dispatch.pace.batch_share_percent,
        },
    }
}

/// Whether the dispatcher can be called, and how long it keeps the log and the trail. The
/// outbox's figures and the last dispatch are the store's (`store.outbox`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DispatchHealth<'a> {
    pub cron_secret: bool,
    pub audit_retention_days: u64,
    pub message_retention_days: u64,
    pub invalid: &'a [FieldError],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<&'static str>,
    pub pace: PaceHealth,
}

/// The rates batch sends are paced to (single sends are not paced).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaceHealth {
    /// Recipients per second asked of the email provider: 80% of `NOTIFY_SES_MAX_SEND_RATE`;
    /// `null` when SES is asked instead (`ses`) or nothing is paced (`unpaced`).
    pub email_per_second: Option<f64>,
    /// Where that rate comes from. With `ses`, each function that paces a batch reads the
    /// account's rate (`GetAccount`) once, and takes 1 per second (SES's sandbox rate, logged
    /// as a warning) when SES does not answer: health itself never calls SES.
    pub email_rate_source: RateSource,
    /// Texts per second per sender (`NOTIFY_TWILIO_MPS`; `null` in demo mode).
    pub sms_per_second: Option<f64>,
    /// The share of each rate batches use.
    pub batch_share_percent: u32,
}
