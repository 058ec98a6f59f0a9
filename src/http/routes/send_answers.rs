//! The send routes' answers: the seed guide's shapes, kept exactly, and the scheduled answer.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;

use super::super::response;
use crate::app::{NotificationOutcome, Scheduled};
use crate::domain::Sent;
use crate::error::{Attempt, DeclinedRecipient, Error, ErrorCode, SuppressedRecipient};
use crate::names::{Channel, Provider, Strategy};
use crate::templates::TemplateName;
use time::OffsetDateTime;

pub(super) const EMAIL_SENT: &str = "Email sent successfully";
pub(super) const EMAIL_LOGGED: &str = "Email logged (demo mode - AWS SES not configured)";
pub(super) const SMS_SENT: &str = "SMS sent successfully";
pub(super) const SMS_LOGGED: &str = "SMS logged (demo mode - Twilio not configured)";

/// A send kept for later: `202` from a send route (`sendAt`, or deferred by quiet hours), `200`
/// from `PATCH /api/messages/{id}`. The dispatcher sends it through the same route when due.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ScheduledResult")]
pub(in crate::http) struct ScheduledBody<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    #[schemars(extend("const" = true))]
    scheduled: bool,
    /// The message's id in the log (`GET`, `DELETE`, `PATCH /api/messages/{id}`).
    id: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    send_at: OffsetDateTime,
    /// Present when quiet hours moved the send: the end of the window, when it goes.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String", extend("format" = "date-time"))]
    deferred_until: Option<OffsetDateTime>,
}

impl<'a> ScheduledBody<'a> {
    pub(super) fn new(scheduled: &'a Scheduled) -> Self {
        Self {
            success: true,
            scheduled: true,
            id: &scheduled.id,
            send_at: scheduled.send_at,
            deferred_until: scheduled.deferred_until,
        }
    }
}

pub(super) fn notification_body<'a>(
    template: &'static str,
    outcome: &'a NotificationOutcome,
) -> (StatusCode, NotificationBody<'a>) {
    let results = [
        (Channel::Email, outcome.email.as_ref()),
        (Channel::Sms, outcome.sms.as_ref()),
    ];
    let failures: Vec<&Error> = results
        .iter()
        .filter_map(|(_, r)| r.and_then(|r| r.as_ref().err()))
        .collect();
    let reached = results
        .iter()
        .find(|(_, r)| r.is_some_and(Result::is_ok))
        .map(|(channel, _)| *channel);
    let attempted = results.iter().filter(|(_, r)| r.is_some()).count();
    let fallback = outcome.strategy == Strategy::Fallback;
    // A fallback's passed-over channels are not failures once another reached the patient;
    // when none did, the answer is the failure of a channel that had an address.
    let first = failures
        .iter()
        .find(|e| e.code != ErrorCode::NoAddress)
        .or(failures.first());
    let (status, error, code) = match first {
        None => (StatusCode::OK, None, None),
        Some(_) if fallback && reached.is_some() => (StatusCode::OK, None, None),
        Some(_) if !fallback && failures.len() < attempted => (
            StatusCode::MULTI_STATUS,
            Some("The notification was sent on one channel and failed on the other."),
            Some(ErrorCode::PartiallySent),
        ),
        Some(first) => (
            StatusCode::from_u16(first.status()).unwrap_or(StatusCode::BAD_GATEWAY),
            Some(if fallback {
                "The notification could not reach the patient on any channel."
            } else {
                "The notification could not be sent on any channel."
            }),
            Some(ErrorCode::NotificationFailed),
        ),
    };
    let body = NotificationBody {
        success: status == StatusCode::OK,
        template,
        strategy: fallback.then_some(Strategy::Fallback),
        reached_by: reached.filter(|_| fallback),
        email: ChannelBody::new(outcome.email.as_ref(), EMAIL_SENT, EMAIL_LOGGED),
        sms: ChannelBody::new(outcome.sms.as_ref(), SMS_SENT, SMS_LOGGED),
        error,
        code,
    };
    (status, body)
}

/// A message sent (or logged in demo mode): the seed guide's success shape, kept exactly.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Sent")]
pub(in crate::http) struct SentBody<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    #[schemars(extend("examples" = [EMAIL_SENT, EMAIL_LOGGED, SMS_SENT, SMS_LOGGED]))]
    message: &'a str,
    /// The provider's message id (SES's, or Twilio's `SM...` sid); absent in demo mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
    /// This API's id for the message in the log (`GET /api/messages/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^msg_"))]
    id: Option<&'a str>,
    /// Present (true) only in demo mode: nothing was sent.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schemars(extend("const" = true))]
    demo: bool,
    /// The provider that took the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<Provider>,
    /// Email providers that failed before it (failover).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    failed_over: &'a [Attempt],
    /// Recipients on the suppression list: the email went to the others, not to them.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    suppressed: &'a [SuppressedRecipient],
    /// Recipients whose choice declined it: the email went to the others.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    declined: &'a [DeclinedRecipient],
}

impl<'a> SentBody<'a> {
    pub(super) fn new(sent: &'a Sent, live: &'a str, demo: &'a str) -> Self {
        Self {
            success: true,
            message: if sent.demo { demo } else { live },
            message_id: sent.message_id.as_deref(),
            id: sent.id.as_deref(),
            demo: sent.demo,
            provider: sent.provider,
            failed_over: &sent.failed_over,
            suppressed: &sent.suppressed,
            declined: &sent.declined,
        }
    }
}

/// A notification's answer: each requested channel's own answer; `207` when one channel went and
/// the other failed, the failure's status when every channel failed.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "NotificationResult")]
pub(in crate::http) struct NotificationBody<'a> {
    /// True when every requested channel succeeded; with strategy `fallback`, when one reached
    /// the patient.
    success: bool,
    #[schemars(with = "TemplateName")]
    template: &'static str,
    /// `fallback` when the channels were tried in order (absent: every channel, `all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    strategy: Option<Strategy>,
    /// With `fallback`: the channel that reached the patient. The channels before it say why
    /// they could not; the ones after it were not needed (absent).
    #[serde(rename = "reachedBy", skip_serializing_if = "Option::is_none")]
    reached_by: Option<Channel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<ChannelBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sms: Option<ChannelBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    /// `partially_sent` or `notification_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<ErrorCode>,
}

/// One channel's part of a notification answer: the send-email/send-sms answer shapes.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "ChannelResult")]
enum ChannelBody<'a> {
    Sent(SentBody<'a>),
    Failed(response::ErrorBody<'a>),
}

impl<'a> ChannelBody<'a> {
    fn new(result: Option<&'a Result<Sent, Error>>, live: &'a str, demo: &'a str) -> Option<Self> {
        result.map(|result| match result {
            Ok(sent) => Self::Sent(SentBody::new(sent, live, demo)),
            Err(error) => Self::Failed(response::ErrorBody::from(error)),
        })
    }
}
