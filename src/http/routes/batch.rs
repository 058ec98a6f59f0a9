//! `POST /api/batch` (up to 1,000 sends: each item read and planned as its own route reads
//! it, the valid ones admitted and kept at once, sending started after the answer) and
//! `GET`/`DELETE /api/batches/{id}` (its counts and messages; cancelling what has not gone).

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::super::idempotency::with_key;
use super::super::query::Query;
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{pipeline, request, response};
use super::message_json::Message;
use super::messages::{DEFAULT_LIMIT, MAX_LIMIT};
use super::sends::{Recipients, addressed, recorded, when};
use crate::app::{App, BatchItem, BatchOutcome, ItemOutcome, RequestContext};
use crate::domain::{EmailMessage, SmsMessage};
use crate::error::{Error, ErrorCode, FieldError};
use crate::names::{BatchItemStatus, Channel, ScheduledRoute, Strategy};
use crate::requests::{
    BatchRequest, MAX_BATCH_ITEMS, SendEmailRequest, SendNotificationRequest, SendSmsRequest,
    Timed,
};
use crate::store::{Cursor, MessageFilter};

pub const BATCH: Endpoint = Endpoint {
    route: Route::Batch,
    caller_check: Some(pipeline::check_sender),
    handler: |app, incoming, context| Box::pin(batch(app, incoming, context)),
};

pub const BATCHES: Endpoint = Endpoint {
    route: Route::Batches,
    caller_check: Some(pipeline::check_reader),
    handler: |app, incoming, context| Box::pin(batches(app, incoming, context)),
};

/// How long the function that answered a batch goes on sending it (inside its `maxDuration`
/// of 60 s in `vercel.json`); the dispatcher carries on with what is left.
const WORK_AFTER_ANSWER: Duration = Duration::from_secs(45);

/// The query parameters of `GET /api/batches/{id}` (`id` when a rewrite passes it).
pub(in crate::http) const PARAMETERS: &[&str] = &["id", "limit", "cursor"];

/// `Batch-Validation`: what an invalid item does to the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validation {
    /// Nothing is queued; the 400 lists every invalid item.
    Strict,
    /// The valid items are queued; the answer lists the others.
    Permissive,
}

/// A batch admitted: `202`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "BatchResult")]
pub(in crate::http) struct BatchBody<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    /// What became of the items, in words.
    message: String,
    /// `GET`/`DELETE /api/batches/{id}`, and `GET /api/messages?batch=`.
    #[schemars(regex(pattern = "^bat_"))]
    batch_id: &'a str,
    /// Each valid item, in the request's order.
    items: Vec<ItemBody<'a>>,
    /// Each invalid item (`Batch-Validation: permissive`), in the request's order.
    errors: Vec<ItemError>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "BatchItemResult")]
struct ItemBody<'a> {
    /// Its place in `items`, from 0.
    index: usize,
    /// Its message in the log on each channel it is kept under.
    ids: Ids<'a>,
    status: BatchItemStatus,
    /// When it goes, for a `scheduled` item (its `sendAt`, or the end of quiet hours).
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    send_at: Option<time::OffsetDateTime>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(rename = "BatchItemIds")]
struct Ids<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^msg_"))]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^msg_"))]
    sms: Option<&'a str>,
}

/// An item left out of a permissive batch.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "BatchItemError")]
struct ItemError {
    index: usize,
    code: ErrorCode,
    error: String,
    /// Each field at fault, its path from the item (`items[3].to`).
    details: Vec<FieldError>,
}

/// `GET /api/batches/{id}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "OneBatch")]
pub(in crate::http) struct BatchPage<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    batch: BatchSummary<'a>,
    /// A page of its messages, newest first.
    messages: Vec<Message<'a>>,
    /// Ask again with it as `cursor` for the next page; `null` on the last.
    next_cursor: Option<&'a str>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "BatchSummary")]
struct BatchSummary<'a> {
    #[schemars(regex(pattern = "^bat_"))]
    id: &'a str,
    caller: &'a str,
    /// How many items it was admitted with (the valid ones).
    items: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    created_at: time::OffsetDateTime,
    /// Its messages by their latest status (`scheduled`: not gone yet).
    counts: &'a std::collections::BTreeMap<String, u64>,
}

/// `DELETE /api/batches/{id}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "BatchCancelled")]
pub(in crate::http) struct CancelledBody<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    #[schemars(regex(pattern = "^bat_"))]
    batch_id: &'a str,
    /// Its sends that had not gone, now `cancelled`.
    cancelled: u64,
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
        Ok(outcome) => outcome,
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
    match headers.get("batch-validation").map(|v| v.to_str().map(str::trim)) {
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
            let (strategy, order) = app.delivery_plan(
                template.category(),
                &notification.delivery,
                &notification.recipients,
            )?;
            let channels = addressed(&notification.recipients, &order);
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

fn body<'a>(outcome: &'a BatchOutcome, invalid: &[ItemError]) -> BatchBody<'a> {
    let count = |status| {
        (outcome.items.iter())
            .filter(|i| i.status == status)
            .count()
    };
    let mut said: Vec<String> = [
        BatchItemStatus::Queued,
        BatchItemStatus::Scheduled,
        BatchItemStatus::Suppressed,
        BatchItemStatus::Declined,
    ]
    .into_iter()
    .map(|status| (count(status), status))
    .filter(|(n, _)| *n > 0)
    .map(|(n, status)| format!("{n} {status}"))
    .collect();
    if !invalid.is_empty() {
        said.push(format!("{} invalid and left out", invalid.len()));
    }
    BatchBody {
        success: true,
        message: format!("Batch accepted: {}.", said.join(", ")),
        batch_id: &outcome.id,
        items: outcome.items.iter().map(item_body).collect(),
        errors: invalid
            .iter()
            .map(|e| ItemError {
                index: e.index,
                code: e.code,
                error: e.error.clone(),
                details: e.details.clone(),
            })
            .collect(),
    }
}

fn item_body(item: &ItemOutcome) -> ItemBody<'_> {
    ItemBody {
        index: item.index,
        ids: Ids {
            email: item.email.as_deref(),
            sms: item.sms.as_deref(),
        },
        status: item.status,
        send_at: item.send_at,
    }
}

async fn batches(
    app: &Arc<App>,
    incoming: Incoming,
    context: &RequestContext,
) -> Result<Reply, Error> {
    let query = Query::parse(&incoming, PARAMETERS)?;
    let path_id = (incoming.parts.uri.path())
        .strip_prefix("/api/batches/")
        .map(|id| id.trim_end_matches('/'))
        .filter(|id| !id.is_empty());
    let Some(id) = path_id.or(query.get("id")) else {
        return Err(Error::new(
            ErrorCode::NotFound,
            "Name a batch: /api/batches/{id}, with the batchId POST /api/batch answered.",
        ));
    };
    if incoming.parts.method == Method::DELETE {
        let cancelled = app.cancel_batch(id).await?;
        let body = CancelledBody {
            success: true,
            batch_id: id,
            cancelled,
        };
        return Ok(Reply::from(response::json(
            &context.request_id,
            StatusCode::OK,
            &body,
        )));
    }
    let mut problems = Vec::new();
    let filter = MessageFilter {
        batch: Some(id.to_owned()),
        limit: query
            .parsed(
                "limit",
                |l| l.parse().ok().filter(|l| (1..=MAX_LIMIT).contains(l)),
                "a whole number from 1 to 100",
                &mut problems,
            )
            .unwrap_or(DEFAULT_LIMIT),
        cursor: query.parsed(
            "cursor",
            Cursor::decode,
            "a nextCursor from an earlier page",
            &mut problems,
        ),
        ..MessageFilter::default()
    };
    if !problems.is_empty() {
        return Err(Error::invalid_fields(problems));
    }
    let batch = app.batch(id).await?;
    let page = app.messages(&filter).await?;
    let body = BatchPage {
        success: true,
        batch: BatchSummary {
            id: &batch.id,
            caller: &batch.caller,
            items: batch.items,
            created_at: batch.created_at,
            counts: &batch.counts,
        },
        messages: page.messages.iter().map(Message::row).collect(),
        next_cursor: page.next_cursor.as_deref(),
    };
    Ok(Reply::from(response::json(
        &context.request_id,
        StatusCode::OK,
        &body,
    )))
}
