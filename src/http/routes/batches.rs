//! `GET /api/batches/{id}` (the batch, its messages counted by status, a page of them) and
//! `DELETE /api/batches/{id}` (what has not gone, cancelled). Credentials as for the log.

use std::sync::Arc;

use http::{Method, StatusCode};

use super::super::query::Query;
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{pipeline, response};
use super::batch_answers::{BatchPage, BatchSummary, CancelledBody};
use super::message_json::Message;
use super::messages::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::app::{App, RequestContext};
use crate::error::{Error, ErrorCode};
use crate::store::{Cursor, MessageFilter};

pub const BATCHES: Endpoint = Endpoint {
    route: Route::Batches,
    caller_check: Some(pipeline::check_reader_or_sender),
    handler: |app, incoming, context| Box::pin(batches(app, incoming, context)),
};

/// The query parameters of `GET /api/batches/{id}` (`id` when a rewrite passes it).
pub(in crate::http) const PARAMETERS: &[&str] = &["id", "limit", "cursor"];

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
