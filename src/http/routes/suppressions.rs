//! `GET /api/suppressions` (filtered, newest first, by cursor), `POST /api/suppressions` (a
//! recipient added by hand), `GET` and `DELETE /api/suppressions/{id}` (one entry; lifting it
//! keeps it on record). Credentials as for the message log.

use http::{Method, StatusCode};
use schemars::JsonSchema;
use serde::Serialize;

use super::super::query::{Query, time};
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{pipeline, request, response};
use super::messages::recipient;
use crate::app::{App, NewSuppression, RequestContext};
use crate::error::{Error, ErrorCode};
use crate::names::{Category, Channel, ProviderListing, SuppressionReason, SuppressionSource};
use crate::requests::{LiftRequest, SuppressRequest};
use crate::store::{Cursor, Suppression, SuppressionFilter};

pub const SUPPRESSIONS: Endpoint = Endpoint {
    route: Route::Suppressions,
    caller_check: Some(pipeline::check_reader_or_manager),
    handler: |app, incoming, context| Box::pin(suppressions(app, incoming, context)),
};

pub(in crate::http) const DEFAULT_LIMIT: u16 = 50;
pub(in crate::http) const MAX_LIMIT: u16 = 200;

/// The query parameters (the description lists the same but `id`, which a rewrite may pass
/// for `/api/suppressions/{id}`).
pub(in crate::http) const PARAMETERS: &[&str] = &[
    "id",
    "channel",
    "reason",
    "recipient",
    "since",
    "active",
    "inferred",
    "force",
    "limit",
    "cursor",
];

const PREFIX: &str = "/api/suppressions/";

async fn suppressions(
    app: &App,
    incoming: Incoming,
    context: &RequestContext,
) -> Result<Reply, Error> {
    let query = Query::parse(&incoming, PARAMETERS)?;
    let path_id = incoming
        .parts
        .uri
        .path()
        .strip_prefix(PREFIX)
        .map(|id| id.trim_end_matches('/'))
        .filter(|id| !id.is_empty());
    let id = path_id.or(query.get("id"));
    let mut provider_list = None;
    let (status, entry) = match (&incoming.parts.method, id) {
        (&Method::GET, None) => return list(app, &query, context).await,
        (&Method::POST, None) => add(app, &incoming, context).await?,
        (&Method::GET, Some(id)) => match app.suppression(id).await? {
            Some(entry) => (StatusCode::OK, entry),
            None => return Err(not_found()),
        },
        (&Method::DELETE, Some(id)) => {
            let mut problems = Vec::new();
            let force = query.parsed("force", boolean, "true or false", &mut problems);
            if !problems.is_empty() {
                return Err(Error::invalid_fields(problems));
            }
            let request: LiftRequest = if incoming.body.is_empty() {
                LiftRequest::default()
            } else {
                request::json(&incoming)?
            };
            let address = request.parse()?;
            let (lifted, listing) = app
                .lift_suppression(id, force.unwrap_or(false), address.as_ref(), context)
                .await?;
            provider_list = listing;
            (StatusCode::OK, lifted)
        }
        (method, _) => {
            return Err(Error::new(
                ErrorCode::MethodNotAllowed,
                format!(
                    "{method} is not answered here: GET or POST /api/suppressions, GET or DELETE /api/suppressions/{{id}}."
                ),
            ));
        }
    };
    let body = One {
        success: true,
        suppression: Entry::from(&entry),
        provider_list,
    };
    Ok(Reply::from(response::json(
        &context.request_id,
        status,
        &body,
    )))
}

async fn list(app: &App, query: &Query, context: &RequestContext) -> Result<Reply, Error> {
    let mut problems = Vec::new();
    let p = &mut problems;
    let filter = SuppressionFilter {
        channel: query.parsed("channel", Channel::parse, "email or sms", p),
        reason: query.parsed(
            "reason",
            SuppressionReason::parse,
            "a suppression reason",
            p,
        ),
        recipient_hash: query.parsed(
            "recipient",
            |r| recipient(r).map(|r| app.recipient_hash(&r)),
            "a full email address or an E.164 phone number",
            p,
        ),
        since: query.parsed("since", time, "an RFC 3339 time with an offset", p),
        active: query.parsed("active", boolean, "true or false", p),
        inferred: query.parsed("inferred", boolean, "true or false", p),
        limit: query
            .parsed(
                "limit",
                |l| l.parse().ok().filter(|l| (1..=MAX_LIMIT).contains(l)),
                "a whole number from 1 to 200",
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
    if query.get("force").is_some() {
        problems.push(crate::error::FieldError::new(
            "force",
            "is for DELETE /api/suppressions/{id} only",
        ));
    }
    if !problems.is_empty() {
        return Err(Error::invalid_fields(problems));
    }
    let page = app.suppressions(&filter).await?;
    let body = Page {
        success: true,
        suppressions: page.entries.iter().map(Entry::from).collect(),
        next_cursor: page.next_cursor.as_deref(),
    };
    Ok(Reply::from(response::json(
        &context.request_id,
        StatusCode::OK,
        &body,
    )))
}

/// `POST`: 201 with the new entry, or 200 with the one already in force.
async fn add(
    app: &App,
    incoming: &Incoming,
    context: &RequestContext,
) -> Result<(StatusCode, Suppression), Error> {
    let request: SuppressRequest = request::json(incoming)?;
    let manual = request.parse()?;
    let new = NewSuppression {
        channel: manual.channel,
        recipient: app.recipient(&manual.address, manual.masked),
        scope: manual.scope,
        reason: manual.reason,
        source: SuppressionSource::Api,
        inferred: false,
        message_id: None,
    };
    let suppressed = app.suppress(new, context).await?;
    let status = if suppressed.added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, suppressed.entry))
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn not_found() -> Error {
    Error::new(
        ErrorCode::SuppressionNotFound,
        "No entry of the suppression list has this id.",
    )
}

/// One entry of the suppression list: the recipient masked, never the address or number.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Suppression")]
pub(in crate::http) struct Entry<'a> {
    #[schemars(regex(pattern = "^sup_"))]
    id: &'a str,
    channel: Channel,
    /// The recipient, masked.
    recipient: &'a str,
    /// The category it applies to; `null`: every category, and sends without one.
    scope: Option<Category>,
    reason: SuppressionReason,
    source: SuppressionSource,
    /// Read from a patient's own words rather than a keyword: for staff to review.
    inferred: bool,
    /// The message whose outcome or reply caused it.
    message_id: Option<&'a str>,
    #[schemars(extend("format" = "date-time"))]
    created_at: String,
    /// When it was lifted; `null` while it is in force.
    #[schemars(extend("format" = "date-time"))]
    lifted_at: Option<String>,
}

impl<'a> From<&'a Suppression> for Entry<'a> {
    fn from(entry: &'a Suppression) -> Self {
        Self {
            id: &entry.id,
            channel: entry.channel,
            recipient: &entry.masked,
            scope: entry.scope,
            reason: entry.reason,
            source: entry.source,
            inferred: entry.inferred,
            message_id: entry.message_id.as_deref(),
            created_at: crate::support::timestamp(entry.created_at),
            lifted_at: entry.lifted_at.map(crate::support::timestamp),
        }
    }
}

/// A page of the suppression list, newest first.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "SuppressionPage")]
pub(in crate::http) struct Page<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    suppressions: Vec<Entry<'a>>,
    /// Ask again with it as `cursor` for the next page; `null` on the last.
    next_cursor: Option<&'a str>,
}

/// One entry: added, read or lifted.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "OneSuppression")]
pub(in crate::http) struct One<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    suppression: Entry<'a>,
    /// On lifting an email entry: what became of SES's own list (`removed` needs the address
    /// in the body).
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_list: Option<ProviderListing>,
}
