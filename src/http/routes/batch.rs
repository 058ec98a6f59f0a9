//! `POST /api/batch`: up to 1,000 sends, each item read and planned as its own route reads
//! it, the valid ones admitted and kept at once, sending started after the answer (the
//! answers' shapes are in `batch_answers.rs`).

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use super::super::idempotency::with_key;
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{pipeline, request, response};
use super::batch_answers::{ItemError, body};
use super::sends::{Recipients, planned_channels, recorded, when};
use crate::app::{App, BatchItem, BatchOutcome, RequestContext};
use crate::domain::{EmailMessage, SmsMessage};
use crate::error::{Error, FieldError};
use crate::names::{BatchItemStatus, Channel, ScheduledRoute, Strategy};
use crate::requests::{
    BatchRequest, MAX_BATCH_ITEMS, SendEmailRequest, SendNotificationRequest, SendSmsRequest, Timed,
};

pub const BATCH: Endpoint = Endpoint {
    route: Route::Batch,
    caller_check: Some(pipeline::check_sender),
    handler: |app, incoming, context| Box::pin(batch(app, incoming, context)),
};

/// How long the function that answered a batch goes on sending it (inside its `maxDuration`
/// of 60 s in `vercel.json`); the dispatcher carries on with what is left.
const WORK_AFTER_ANSWER: Duration = Duration::from_secs(45);

/// `Batch-Validation`: what an invalid item does to the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validation {
    /// Nothing is queued; the 400 lists every invalid item.
    Strict,
    /// The valid items are queued; the answer lists the others.
    Permissive,
}

async fn batch(
    app: &Arc<App>,
    incoming: Incoming,
    context: &RequestContext,
) -> Result<Reply, Error> {
    let validation = validation(&incoming.parts.headers)?;
    let context = &with_key(Route::Batch, &incoming, context)?;
    let request: BatchRequest = request::json(&incoming)?;
    let items = request.items.unwrap_or_default();
    if !(1..=MAX_BATCH_ITEMS).contains(&items.len()) {
        return Err(Error::invalid_fields(vec![FieldError::new(
            "items",
            format!("must hold 1 to {MAX_BATCH_ITEMS} items"),
        )]));
    }
    let (mut planned, mut invalid) = (Vec::new(), Vec::new());
    for (index, item) in items.into_iter().enumerate() {
        match plan(app, index, item, context) {
            Ok(item) => planned.push(item),
            Err(error) => invalid.push(item_error(index, error)),
        }
    }
    if !invalid.is_empty() && (validation == Validation::Strict || planned.is_empty()) {
        let details = invalid.into_iter().flat_map(|e| e.details).collect();
        return Err(Error::invalid_fields(details)
            .with_hint("Nothing was queued. Fix the items named, or send Batch-Validation: permissive to queue the valid ones."));
    }
    let sending = app.send_batch(planned, context).await?;
    let answer = |outcome: &BatchOutcome| {
        response::stored(
            &context.request_id,
            StatusCode::ACCEPTED,
            &body(outcome, &invalid),
        )
    };
    let outcome = match recorded(app, sending, answer).await? {
        Ok((outcome, _)) => outcome,
        Err(replay) => return Ok(replay),
    };
    let mut reply = Reply::from(response::json(
        &context.request_id,
        StatusCode::ACCEPTED,
        &body(&outcome, &invalid),
    ));
    let queued = outcome
        .items
        .iter()
        .any(|i| i.status == BatchItemStatus::Queued);
    if queued {
        let (app, id) = (Arc::clone(app), outcome.id.clone());
        reply.after_answer = Some(Box::pin(async move {
            app.work_batch(&id, WORK_AFTER_ANSWER).await;
        }));
    }
    Ok(reply)
}

fn validation(headers: &HeaderMap) -> Result<Validation, Error> {
    match headers
        .get("batch-validation")
        .map(|v| v.to_str().map(str::trim))
    {
        None => Ok(Validation::Strict),
        Some(Ok(v)) if v.eq_ignore_ascii_case("strict") => Ok(Validation::Strict),
        Some(Ok(v)) if v.eq_ignore_ascii_case("permissive") => Ok(Validation::Permissive),
        Some(_) => Err(Error::invalid_fields(vec![FieldError::new(
            "Batch-Validation",
            "must be strict or permissive",
        )])),
    }
}

/// One item read as its route reads a request, checked (a notification's data against its
/// template too), and planned: its channels and when it goes.
fn plan(
    app: &App,
    index: usize,
    mut fields: Map<String, Value>,
    context: &RequestContext,
) -> Result<BatchItem, Error> {
    let route = match fields.remove("type") {
        None => ScheduledRoute::Notification,
        Some(Value::String(kind)) if kind == "notification" => ScheduledRoute::Notification,
        Some(Value::String(kind)) if kind == "email" => ScheduledRoute::Email,
        Some(Value::String(kind)) if kind == "sms" => ScheduledRoute::Sms,
        Some(_) => {
            return Err(Error::invalid_fields(vec![FieldError::new(
                "type",
                "must be notification (the default), email or sms",
            )]));
        }
    };
    let body = {
        let mut kept = fields.clone();
        kept.remove("sendAt");
        serde_json::to_vec(&kept).unwrap_or_default()
    };
    let value = Value::Object(fields);
    let read = |e| Error::from_serde("", e);
    let (timing, template, category, strategy, channels) = match route {
        ScheduledRoute::Email => {
            let request: SendEmailRequest =
                serde_path_to_error::deserialize(value).map_err(read)?;
            if request.attachments.is_some() {
                return Err(Error::invalid_fields(vec![FieldError::new(
                    "attachments",
                    "are not sent in a batch: send the email on its own",
                )]));
            }
            let timing = request.timing()?;
            let message = EmailMessage::try_from(request).map_err(Error::invalid_fields)?;
            let to: Recipients = (message.to.iter())
                .map(|to| (to.address().to_owned(), to.masked()))
                .collect();
            let channels = vec![(Channel::Email, to)];
            (timing, None, message.category, Strategy::All, channels)
        }
        ScheduledRoute::Sms => {
            let request: SendSmsRequest = serde_path_to_error::deserialize(value).map_err(read)?;
            let timing = request.timing()?;
            let message = SmsMessage::try_from(request).map_err(Error::invalid_fields)?;
            let to = vec![(message.to.as_str().to_owned(), message.to.masked())];
            let channels = vec![(Channel::Sms, to)];
            (timing, None, message.category, Strategy::All, channels)
        }
        _ => {
            let request: SendNotificationRequest =
                serde_path_to_error::deserialize(value).map_err(read)?;
            let timing = request.timing()?;
            let notification = request.parse()?;
            let template = notification.template;
            let (strategy, channels) = planned_channels(app, &notification)?;
            if channels.is_empty() {
                return Err(Error::invalid_fields(vec![FieldError::new(
                    "to",
                    "has no address for any of the channels",
                )]));
            }
            template.render(notification.data, &app.config().branding, None)?;
            let category = Some(template.category());
            (timing, Some(template), category, strategy, channels)
        }
    };
    // Quiet hours are those of the channel it goes on first (every one, with `all`).
    let first = match strategy {
        Strategy::All => channels.len(),
        Strategy::Fallback => 1,
    };
    let kinds: Vec<Channel> = channels.iter().take(first).map(|(c, _)| *c).collect();
    let later = when(app, &timing, &kinds, context);
    Ok(BatchItem {
        index,
        route,
        body,
        send_at: later.map_or_else(time::OffsetDateTime::now_utc, |(at, _)| at),
        later: later.is_some(),
        template,
        category,
        strategy,
        channels,
    })
}

/// An invalid item as the answer lists it: each field's path from `items`.
fn item_error(index: usize, error: Error) -> ItemError {
    let at = |field: &str| match field {
        "" => format!("items[{index}]"),
        field if field.starts_with('[') => format!("items[{index}]{field}"),
        field => format!("items[{index}].{field}"),
    };
    let mut details: Vec<FieldError> = (error.details.iter())
        .map(|d| FieldError::new(at(&d.field), d.message.clone()))
        .collect();
    if details.is_empty() {
        details.push(FieldError::new(at(""), error.message.clone()));
    }
    ItemError {
        index,
        code: error.code,
        error: error.message,
        details,
    }
}
