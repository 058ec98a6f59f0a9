//! `POST /api/send-email`, `/api/send-sms` and `/api/send-notification`: each request opened,
//! sent or scheduled, recorded and answered (the answers' shapes are in `send_answers.rs`).

use std::sync::Arc;

use http::StatusCode;

use super::super::idempotency::with_key;
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{pipeline, request, response};
use super::send_answers::{
    EMAIL_LOGGED, EMAIL_SENT, SMS_LOGGED, SMS_SENT, ScheduledBody, SentBody, notification_body,
};
use crate::app::{
    AfterAnswer, App, NotificationOutcome, RequestContext, SchedulePlan, Scheduled, Sending,
};
use crate::domain::{EmailMessage, MAX_ATTACHMENT_BYTES, Sent, SmsMessage, total_too_large};
use crate::error::{Error, ErrorCode};
use crate::names::{Channel, ScheduledRoute, Strategy};
use crate::requests::{
    self, SendEmailRequest, SendNotificationRequest, SendSmsRequest, Timed, Timing,
};
use crate::store::StoredAnswer;
use crate::templates::TemplateName;
use time::OffsetDateTime;

pub const SEND_EMAIL: Endpoint = Endpoint {
    route: Route::SendEmail,
    caller_check: Some(pipeline::check_sender),
    handler: |app, incoming, context| Box::pin(send_email(app, incoming, context)),
};

pub const SEND_SMS: Endpoint = Endpoint {
    route: Route::SendSms,
    caller_check: Some(pipeline::check_sender),
    handler: |app, incoming, context| Box::pin(send_sms(app, incoming, context)),
};

pub const SEND_NOTIFICATION: Endpoint = Endpoint {
    route: Route::SendNotification,
    caller_check: Some(pipeline::check_sender),
    handler: |app, incoming, context| Box::pin(send_notification(app, incoming, context)),
};

async fn send_email(
    app: &Arc<App>,
    incoming: Incoming,
    context: &RequestContext,
) -> Result<Reply, Error> {
    let (context, request, timing) =
        opened::<SendEmailRequest>(Route::SendEmail, &incoming, context)?;
    let context = &context;
    let message = EmailMessage::try_from(request).map_err(Error::invalid_fields)?;
    if let Some(total) = total_too_large(&message.attachments) {
        return Err(Error::new(
            ErrorCode::AttachmentsTooLarge,
            format!(
                "The attachments add up to {total} bytes; at most {MAX_ATTACHMENT_BYTES} (3 MiB) are allowed."
            ),
        )
        .with_hint("Send large documents as a link to the patient portal instead."));
    }
    if let Some(when) = when(app, &timing, &[Channel::Email], context) {
        let to = message.to.iter();
        let recipients = to
            .map(|to| (to.address().to_owned(), to.masked()))
            .collect();
        let channels = vec![(Channel::Email, recipients)];
        let plan = plan(ScheduledRoute::Email, &incoming, when, None, channels);
        return schedule(app, plan, context).await;
    }
    let sending = app.send_email(&message, context).await?;
    sent_reply(app, context, sending, EMAIL_SENT, EMAIL_LOGGED).await
}

async fn send_sms(
    app: &Arc<App>,
    incoming: Incoming,
    context: &RequestContext,
) -> Result<Reply, Error> {
    let (context, request, timing) = opened::<SendSmsRequest>(Route::SendSms, &incoming, context)?;
    let context = &context;
    let message = SmsMessage::try_from(request).map_err(Error::invalid_fields)?;
    if let Some(when) = when(app, &timing, &[Channel::Sms], context) {
        let to = vec![(message.to.as_str().to_owned(), message.to.masked())];
        let plan = plan(
            ScheduledRoute::Sms,
            &incoming,
            when,
            None,
            vec![(Channel::Sms, to)],
        );
        return schedule(app, plan, context).await;
    }
    let sending = app.send_sms(&message, context).await?;
    sent_reply(app, context, sending, SMS_SENT, SMS_LOGGED).await
}

/// What every send handler opens with: the `Idempotency-Key` read into the context, the body
/// parsed, and its timing fields checked.
fn opened<T: serde::de::DeserializeOwned + Timed>(
    route: Route,
    incoming: &Incoming,
    context: &RequestContext,
) -> Result<(RequestContext, T, Timing), Error> {
    let context = with_key(route, incoming, context)?;
    let request: T = request::json(incoming)?;
    let timing = request.timing()?;
    Ok((context, request, timing))
}

/// When this request goes, if not now: its `sendAt`, or the end of the quiet hours it falls
/// in (then also its `deferredUntil`).
pub(super) fn when(
    app: &App,
    timing: &Timing,
    channels: &[Channel],
    context: &RequestContext,
) -> Option<(OffsetDateTime, Option<OffsetDateTime>)> {
    let at = timing.send_at.unwrap_or_else(OffsetDateTime::now_utc);
    match app.quiet_until(channels, timing.zone.as_ref(), timing.urgent, at, context) {
        Some(end) => Some((end, Some(end))),
        None => timing.send_at.map(|at| (at, None)),
    }
}

/// The plan of a scheduled send of this request.
fn plan(
    route: ScheduledRoute,
    incoming: &Incoming,
    (send_at, deferred_until): (OffsetDateTime, Option<OffsetDateTime>),
    template: Option<TemplateName>,
    channels: Vec<(Channel, Recipients)>,
) -> SchedulePlan {
    SchedulePlan {
        route,
        body: requests::without_send_at(&incoming.body),
        send_at,
        deferred_until,
        template,
        channels,
    }
}

/// A channel's recipients as a plan lists them: (full address or number, masked).
pub(super) type Recipients = Vec<(String, String)>;

/// A notification's strategy, and each channel of its order it has an address for, in order,
/// with it.
pub(super) fn planned_channels(
    app: &App,
    notification: &crate::requests::ParsedNotification,
) -> Result<(Strategy, Vec<(Channel, Recipients)>), Error> {
    let recipients = &notification.recipients;
    let category = notification.template.category();
    let (strategy, order) = app.delivery_plan(category, &notification.delivery, recipients)?;
    let addressed = order
        .iter()
        .filter_map(|channel| match channel {
            Channel::Email => (recipients.email.as_ref())
                .map(|to| (Channel::Email, vec![(to.address().to_owned(), to.masked())])),
            Channel::Sms => (recipients.phone.as_ref())
                .map(|to| (Channel::Sms, vec![(to.as_str().to_owned(), to.masked())])),
        })
        .collect();
    Ok((strategy, addressed))
}

async fn schedule(
    app: &Arc<App>,
    plan: SchedulePlan,
    context: &RequestContext,
) -> Result<Reply, Error> {
    let sending = app.schedule(plan, context).await?;
    let answer = |scheduled: &Scheduled| {
        response::stored(
            &context.request_id,
            StatusCode::ACCEPTED,
            &ScheduledBody::new(scheduled),
        )
    };
    Ok(match recorded(app, sending, answer).await? {
        Ok((scheduled, _)) => Reply::from(response::json(
            &context.request_id,
            StatusCode::ACCEPTED,
            &ScheduledBody::new(&scheduled),
        )),
        Err(replay) => replay,
    })
}

/// This request's outcome with its record (and the answer `stored` renders, kept for its
/// key's replays) written or, for a send, as the work to run after the answer; or, as `Err`,
/// the first answer given to its key, answered again.
pub(super) async fn recorded<T>(
    app: &Arc<App>,
    sending: Sending<T>,
    stored: impl FnOnce(&T) -> StoredAnswer,
) -> Result<Result<(T, Option<AfterAnswer>), Reply>, Error> {
    match sending {
        Sending::Done(outcome, unrecorded) => {
            let answer = unrecorded.keeps_answer().then(|| stored(&outcome));
            let after_answer = app.record_after_answer(unrecorded, answer).await?;
            Ok(Ok((outcome, after_answer)))
        }
        Sending::Replay(answer) => Ok(Err(Reply::from(response::replay(answer)))),
    }
}

/// This request's answer, or the first answer given to its key.
async fn sent_reply(
    app: &Arc<App>,
    context: &RequestContext,
    sending: Sending<Result<Sent, Error>>,
    live: &str,
    demo: &str,
) -> Result<Reply, Error> {
    let answer = |result: &Result<Sent, Error>| sent_answer(context, result, live, demo);
    let (result, after_answer) = match recorded(app, sending, answer).await? {
        Ok(recorded) => recorded,
        Err(replay) => return Ok(replay),
    };
    let response = match result {
        Ok(sent) => response::json(
            &context.request_id,
            StatusCode::OK,
            &SentBody::new(&sent, live, demo),
        ),
        Err(error) => response::error(&context.request_id, &error),
    };
    Ok(Reply {
        response,
        after_answer,
    })
}

/// The answer to a send, success or failure, as kept for its key's replays.
fn sent_answer(
    context: &RequestContext,
    result: &Result<Sent, Error>,
    live: &str,
    demo: &str,
) -> StoredAnswer {
    match result {
        Ok(sent) => response::stored(
            &context.request_id,
            StatusCode::OK,
            &SentBody::new(sent, live, demo),
        ),
        Err(error) => response::stored_error(&context.request_id, error),
    }
}

/// Sends a templated notification on each requested channel. The answer reports each channel;
/// `success` is true only when every requested channel succeeded. The status is 200 then,
/// 207 when one channel succeeded and the other failed, and the failure's own status when
/// every requested channel failed (the email's when both did).
async fn send_notification(
    app: &Arc<App>,
    incoming: Incoming,
    context: &RequestContext,
) -> Result<Reply, Error> {
    let (context, request, timing) =
        opened::<SendNotificationRequest>(Route::SendNotification, &incoming, context)?;
    let context = &context;
    let notification = request.parse()?;
    let template = notification.template;
    let (strategy, mut channels) = planned_channels(app, &notification)?;
    // A fallback is kept for later under the channel it is expected to use (its first with an
    // address); a fallback to the next, when it runs, is a new message in the log.
    if strategy == Strategy::Fallback {
        channels.truncate(1);
    }
    let kinds: Vec<Channel> = channels.iter().map(|(channel, _)| *channel).collect();
    if let Some(when) = when(app, &timing, &kinds, context) {
        // The data is checked against the template now, as for an immediate send.
        template.render(notification.data, &app.config().branding, None)?;
        let template = Some(template);
        let plan = plan(
            ScheduledRoute::Notification,
            &incoming,
            when,
            template,
            channels,
        );
        return schedule(app, plan, context).await;
    }
    let sending = app
        .send_template_notification(notification, context)
        .await?;
    let answer = |outcome: &NotificationOutcome| {
        let (status, body) = notification_body(template.as_str(), outcome);
        response::stored(&context.request_id, status, &body)
    };
    Ok(match recorded(app, sending, answer).await? {
        Ok((outcome, after_answer)) => {
            let (status, body) = notification_body(template.as_str(), &outcome);
            Reply {
                response: response::json(&context.request_id, status, &body),
                after_answer,
            }
        }
        Err(replay) => replay,
    })
}
