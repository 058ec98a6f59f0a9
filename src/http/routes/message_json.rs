//! The message log as the messages API answers it: the contract's JSON, decided here from the
//! store's views, so the store may change how it keeps a message without changing an answer.

use schemars::JsonSchema;
use serde::Serialize;

use super::message_trail::Trail;
use crate::config::GuardConfig;
use crate::names::{Category, Channel, MessageStatus, Provider};
use crate::store::{EventView, Forwarding, MessageView, RecipientView, Stats};
use crate::templates::TemplateName;

/// SES's lines, in percent of emails sent: it reviews an account at a 5% bounce rate or a 0.1%
/// complaint rate, and may pause its sending at 10% and 0.5%.
const SES_BOUNCE_REVIEW: f64 = 5.0;
const SES_BOUNCE_PAUSE: f64 = 10.0;
const SES_COMPLAINT_REVIEW: f64 = 0.1;
const SES_COMPLAINT_PAUSE: f64 = 0.5;

/// One message of the log: never a body, a subject, template data or a full address or
/// number. `GET /api/messages/{id}` gives it with its events, a page's row without.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(in crate::http) struct Message<'a> {
    id: &'a str,
    channel: Channel,
    template: Option<TemplateName>,
    provider: Provider,
    provider_message_id: Option<&'a str>,
    status: MessageStatus,
    error_code: Option<&'a str>,
    /// What it is about (`null` for a send that named none).
    category: Option<Category>,
    /// Why it was not sent: the suppression list's reason (status `suppressed`), or the rule
    /// that declined it (status `declined`).
    reason: Option<&'a str>,
    /// For a billing SMS: whether the patient's consent to texts was on file.
    consent_on_file: Option<bool>,
    /// The message of the notification's earlier channel, which could not reach the patient,
    /// that this one was sent instead of (strategy `fallback`).
    #[schemars(regex(pattern = "^msg_"))]
    fallback_of: Option<&'a str>,
    /// The message sent instead of this one, when this one could not reach the patient.
    #[schemars(regex(pattern = "^msg_"))]
    fallback: Option<&'a str>,
    /// The batch it was sent in (`POST /api/batch`).
    #[schemars(regex(pattern = "^bat_"))]
    batch_id: Option<&'a str>,
    /// Who asked for it: `key:<name>`, `jwt:<subject>`, `anonymous`, `patient` (a preference
    /// page link), `cron` or `local`.
    caller: &'a str,
    request_id: &'a str,
    idempotency_key: Option<&'a str>,
    #[schemars(extend("format" = "date-time"))]
    created_at: &'a str,
    #[schemars(extend("format" = "date-time"))]
    updated_at: &'a str,
    recipients: Vec<Recipient<'a>>,
    /// Only on a single message.
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<Vec<Event<'a>>>,
    /// Only on a single message: its scheduling and send attempts, from the audit trail.
    #[serde(skip_serializing_if = "Option::is_none")]
    trail: Option<Trail>,
}

/// A recipient, masked for a person and hashed for look-ups; never the address itself.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "MessageRecipient")]
pub(in crate::http) struct Recipient<'a> {
    /// The address or number, masked.
    masked: &'a str,
    /// HMAC-SHA256 of the address or number under `NOTIFY_AUDIT_KEY`, as in the audit trail.
    hash: &'a str,
    status: MessageStatus,
}

/// A delivery event of the message.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "MessageEvent")]
pub(in crate::http) struct Event<'a> {
    #[serde(rename = "type")]
    kind: MessageStatus,
    #[schemars(extend("format" = "date-time"))]
    time: &'a str,
    error_code: Option<&'a str>,
    retryable: Option<bool>,
    /// Its forwarding to the practice's webhook (`NOTIFY_EVENTS_URL`): `null` when events are
    /// not forwarded.
    #[schemars(with = "Option<String>", extend("enum" = ["pending", "delivered", "failed", null]))]
    forward: Option<Forwarding>,
    /// The forwarding attempts made so far.
    forward_attempts: u16,
}

/// Counts by channel then status, and by template.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(in crate::http) struct Counts<'a> {
    total: u64,
    by_channel: &'a std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    by_template: &'a std::collections::BTreeMap<String, u64>,
    /// Each day's messages per channel (days in `zone`), oldest first.
    days: Vec<Day<'a>>,
    /// The practice's time zone (`NOTIFY_TIMEZONE`), which the days are counted in.
    zone: &'a str,
    /// Email bounce and complaint rates, in percent, that SES reviews and pauses an account
    /// at, and that this deployment's reputation guard holds sends at.
    lines: RateLines,
}

/// One day's messages on one channel.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Day<'a> {
    /// `YYYY-MM-DD`.
    #[schemars(regex(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    day: &'a str,
    channel: Channel,
    /// Accepted by the provider (or logged in demo mode).
    sent: u64,
    /// Delivered, read or complained of.
    delivered: u64,
    /// Failed or bounced, at the send or after it.
    failed: u64,
    bounced: u64,
    complained: u64,
}

/// Where bounce and complaint rates (percent of emails sent) draw attention.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct RateLines {
    bounce_review: f64,
    bounce_pause: f64,
    complaint_review: f64,
    complaint_pause: f64,
    /// The guard's hold lines, `null` when the guard is off.
    bounce_hold: Option<f64>,
    complaint_hold: Option<f64>,
}

impl<'a> Message<'a> {
    /// A page's row: the message without its events.
    pub(super) fn row(view: &'a MessageView) -> Self {
        Self {
            events: None,
            ..Self::from(view)
        }
    }
}

impl<'a> From<&'a MessageView> for Message<'a> {
    fn from(view: &'a MessageView) -> Self {
        Self {
            id: &view.id,
            channel: view.channel,
            template: view.template,
            provider: view.provider,
            provider_message_id: view.provider_message_id.as_deref(),
            status: view.status,
            error_code: view.error_code.as_deref(),
            category: view.category,
            reason: view.reason.as_deref(),
            consent_on_file: view.consent_on_file,
            fallback_of: view.fallback_of.as_deref(),
            fallback: view.fallback.as_deref(),
            batch_id: view.batch_id.as_deref(),
            caller: &view.caller,
            request_id: &view.request_id,
            idempotency_key: view.idempotency_key.as_deref(),
            created_at: &view.created_at,
            updated_at: &view.updated_at,
            recipients: view.recipients.iter().map(Recipient::from).collect(),
            events: view
                .events
                .as_ref()
                .map(|events| events.iter().map(Event::from).collect()),
            trail: view.audit.as_deref().map(Trail::of),
        }
    }
}

impl<'a> From<&'a RecipientView> for Recipient<'a> {
    fn from(view: &'a RecipientView) -> Self {
        Self {
            masked: &view.masked,
            hash: &view.hash,
            status: view.status,
        }
    }
}

impl<'a> From<&'a EventView> for Event<'a> {
    fn from(view: &'a EventView) -> Self {
        Self {
            kind: view.kind,
            time: &view.time,
            error_code: view.error_code.as_deref(),
            retryable: view.retryable,
            forward: view.forward,
            forward_attempts: view.attempts,
        }
    }
}

impl<'a> Counts<'a> {
    pub(super) fn new(stats: &'a Stats, zone: &'a str, guard: &GuardConfig) -> Self {
        let hold = |line: f64| guard.enabled.then_some(line);
        Self {
            total: stats.total,
            by_channel: &stats.by_channel,
            by_template: &stats.by_template,
            days: stats
                .days
                .iter()
                .map(|d| Day {
                    day: &d.day,
                    channel: d.channel,
                    sent: d.sent,
                    delivered: d.delivered,
                    failed: d.failed,
                    bounced: d.bounced,
                    complained: d.complained,
                })
                .collect(),
            zone,
            lines: RateLines {
                bounce_review: SES_BOUNCE_REVIEW,
                bounce_pause: SES_BOUNCE_PAUSE,
                complaint_review: SES_COMPLAINT_REVIEW,
                complaint_pause: SES_COMPLAINT_PAUSE,
                bounce_hold: hold(guard.bounce_hold),
                complaint_hold: hold(guard.complaint_hold),
            },
        }
    }
}
