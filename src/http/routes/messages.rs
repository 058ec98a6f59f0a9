//! `GET /api/messages` (filtered, newest first, by cursor), `/api/messages/{id}` (by our id
//! or the provider's) and `/api/messages/stats`: the message log, credentials as for sends.

use http::{Method, StatusCode};
use schemars::JsonSchema;
use serde::Serialize;

use super::super::query::{Query, time};
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{pipeline, request, response};
use super::message_csv;
use super::message_json::{Counts, Message};
use super::send_answers::ScheduledBody;
use crate::app::{App, RequestContext};
use crate::domain::{EmailAddress, PhoneNumber};
use crate::error::{Error, ErrorCode};
use crate::names::{Category, Channel, ExportFormat as Format, MessageStatus};
use crate::requests::RescheduleRequest;
use crate::store::{Change, Cursor, MessageFilter};
use crate::templates::TemplateName;

pub const MESSAGES: Endpoint = Endpoint {
    route: Route::Messages,
    caller_check: Some(pipeline::check_reader_or_sender),
    handler: |app, incoming, context| Box::pin(messages(app, incoming, context)),
};

pub const MESSAGE_STATS: Endpoint = Endpoint {
    route: Route::MessageStats,
    caller_check: Some(pipeline::check_reader_or_sender),
    handler: |app, incoming, context| Box::pin(stats(app, incoming, context)),
};

pub(in crate::http) const DEFAULT_LIMIT: u16 = 20;
pub(in crate::http) const MAX_LIMIT: u16 = 100;

/// The list's query parameters (the description lists the same but `id`, which a rewrite may
/// pass for `/api/messages/{id}`).
pub(in crate::http) const LIST_PARAMETERS: &[&str] = &[
    "id",
    "channel",
    "status",
    "template",
    "recipient",
    "batch",
    "category",
    "everFailed",
    "errorCode",
    "idempotencyKey",
    "providerMessageId",
    "since",
    "until",
    "limit",
    "cursor",
    "format",
];

/// The counts' query parameters.
pub(in crate::http) const STATS_PARAMETERS: &[&str] = &["since", "until"];

async fn messages(app: &App, incoming: Incoming, context: &RequestContext) -> Result<Reply, Error> {
    let query = Query::parse(&incoming, LIST_PARAMETERS)?;
    // `/api/messages/{id}` locally; on Vercel a rewrite may pass it as `?id=`.
    let path_id = incoming
        .parts
        .uri
        .path()
        .strip_prefix("/api/messages/")
        .map(|id| id.trim_end_matches('/'))
        .filter(|id| !id.is_empty());
    let id = path_id.or(query.get("id"));
    match (&incoming.parts.method, id) {
        (&Method::DELETE, Some(id)) => return cancel(app, id, context).await,
        (&Method::PATCH, Some(id)) => return reschedule(app, id, &incoming, context).await,
        (&Method::GET, Some(id)) => return one(app, id, context).await,
        (&Method::GET, None) => {}
        (method, None) => {
            return Err(Error::new(
                ErrorCode::MethodNotAllowed,
                format!("{method} needs a message: /api/messages/{{id}}."),
            ));
        }
        _ => {}
    }
    let mut problems = Vec::new();
    let format = query.parsed("format", Format::parse, "json or csv", &mut problems);
    if !problems.is_empty() {
        return Err(Error::invalid_fields(problems));
    }
    let filter = filter(app, &query)?;
    if format == Some(Format::Csv) {
        return message_csv::export(app, filter).await;
    }
    let page = app.messages(&filter).await?;
    let body = Page {
        success: true,
        messages: page.messages.iter().map(Message::row).collect(),
        next_cursor: page.next_cursor.as_deref(),
    };
    Ok(Reply::from(response::json(
        &context.request_id,
        StatusCode::OK,
        &body,
    )))
}

async fn one(app: &App, id: &str, context: &RequestContext) -> Result<Reply, Error> {
    let Some(message) = app.message(id).await? else {
        return Err(Error::new(
            ErrorCode::MessageNotFound,
            "No message in the log has this id (ours or the provider's).",
        ));
    };
    let body = One {
        success: true,
        message: Message::from(&message),
    };
    Ok(Reply::from(response::json(
        &context.request_id,
        StatusCode::OK,
        &body,
    )))
}

/// `DELETE /api/messages/{id}`: a scheduled message cancelled, never to be sent.
async fn cancel(app: &App, id: &str, context: &RequestContext) -> Result<Reply, Error> {
    let cancelled = app.change_scheduled(id, Change::Cancel).await?;
    let body = Cancelled {
        success: true,
        id: &cancelled.id,
        status: MessageStatus::Cancelled,
    };
    Ok(Reply::from(response::json(
        &context.request_id,
        StatusCode::OK,
        &body,
    )))
}

/// `PATCH /api/messages/{id}` with `{"sendAt": ...}`: a scheduled message moved.
async fn reschedule(
    app: &App,
    id: &str,
    incoming: &Incoming,
    context: &RequestContext,
) -> Result<Reply, Error> {
    let request: RescheduleRequest = request::json(incoming)?;
    let send_at = request.parse()?;
    let moved = app.change_scheduled(id, Change::MoveTo(send_at)).await?;
    Ok(Reply::from(response::json(
        &context.request_id,
        StatusCode::OK,
        &ScheduledBody::new(&moved),
    )))
}

fn filter(app: &App, query: &Query) -> Result<MessageFilter, Error> {
    let mut problems = Vec::new();
    let p = &mut problems;
    let filter = MessageFilter {
        channel: query.parsed("channel", Channel::parse, "email or sms", p),
        status: query.parsed("status", MessageStatus::parse, "a message status", p),
        template: query.parsed(
            "template",
            |t| TemplateName::parse(t).ok(),
            "a template name (GET /api/templates)",
            p,
        ),
        recipient_hash: query.parsed(
            "recipient",
            |r| recipient(r).map(|r| app.recipient_hash(&r)),
            "a full email address or an E.164 phone number",
            p,
        ),
        batch: query.parsed("batch", batch_id, "a batchId (bat_...)", p),
        category: query.parsed("category", Category::parse, "a category", p),
        ever_failed: query
            .parsed(
                "everFailed",
                |t| match t {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                },
                "true or false",
                p,
            )
            .unwrap_or(false),
        error_code: query.parsed(
            "errorCode",
            |c| ErrorCode::ALL.iter().copied().find(|e| e.as_str() == c),
            "an error code of this API (README, Errors)",
            p,
        ),
        idempotency_key: query.parsed("idempotencyKey", text, "1 to 255 characters", p),
        provider_message_id: query.parsed("providerMessageId", text, "1 to 255 characters", p),
        since: query.parsed("since", time, "an RFC 3339 time with an offset", p),
        until: query.parsed("until", time, "an RFC 3339 time with an offset", p),
        limit: query
            .parsed(
                "limit",
                |l| l.parse().ok().filter(|l| (1..=MAX_LIMIT).contains(l)),
                "a whole number from 1 to 100",
                p,
            )
            .unwrap_or(DEFAULT_LIMIT),
        cursor: query.parsed(
            "cursor",
            Cursor::decode,
            "a nextCursor from an earlier page",
            p,
        ),
    };
    if problems.is_empty() {
        Ok(filter)
    } else {
        Err(Error::invalid_fields(problems))
    }
}

/// A value compared as it is: an idempotency key or a provider's id.
fn text(text: &str) -> Option<String> {
    (1..=255).contains(&text.len()).then(|| text.to_owned())
}

/// A batch's id as `POST /api/batch` gave it.
pub(super) fn batch_id(text: &str) -> Option<String> {
    text.starts_with("bat_").then(|| text.to_owned())
}

/// A recipient as the log hashes it: the address or number normalised as a send does.
pub(super) fn recipient(text: &str) -> Option<String> {
    if text.contains('@') {
        EmailAddress::parse(text)
            .ok()
            .map(|a| a.address().to_owned())
    } else {
        PhoneNumber::parse(text).ok().map(|n| n.as_str().to_owned())
    }
}

async fn stats(app: &App, incoming: Incoming, context: &RequestContext) -> Result<Reply, Error> {
    let query = Query::parse(&incoming, STATS_PARAMETERS)?;
    let mut problems = Vec::new();
    let since = query.parsed(
        "since",
        time,
        "an RFC 3339 time with an offset",
        &mut problems,
    );
    let until = query.parsed(
        "until",
        time,
        "an RFC 3339 time with an offset",
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(Error::invalid_fields(problems));
    }
    let stats = app.stats(since, until).await?;
    let body = StatsBody {
        success: true,
        stats: Counts::new(&stats, app.practice_zone_name(), &app.config().reach.guard),
    };
    Ok(Reply::from(response::json(
        &context.request_id,
        StatusCode::OK,
        &body,
    )))
}

/// A page of the message log, newest first.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "MessagePage")]
pub(in crate::http) struct Page<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    messages: Vec<Message<'a>>,
    /// Ask again with it as `cursor` for the next page; `null` on the last.
    next_cursor: Option<&'a str>,
}

/// One message with its delivery events.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "OneMessage")]
pub(in crate::http) struct One<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    message: Message<'a>,
}

/// A scheduled message cancelled: it is never sent, and its content is deleted.
#[derive(Serialize, JsonSchema)]
pub(in crate::http) struct Cancelled<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    id: &'a str,
    #[schemars(extend("const" = "cancelled"))]
    status: MessageStatus,
}

/// Counts by channel and status, and by template.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "MessageStats")]
pub(in crate::http) struct StatsBody<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    #[serde(flatten)]
    stats: Counts<'a>,
}
