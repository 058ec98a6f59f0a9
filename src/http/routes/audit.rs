//! `GET /api/audit?since=&until=&cursor=&limit=`: the audit trail as JSON lines, oldest first,
//! for a compliance review. API keys only: a browser's JWT never exports it.

use http::{HeaderValue, StatusCode};

use super::super::query::{Query, time};
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{pipeline, response};
use crate::app::{App, RequestContext};
use crate::error::Error;
use crate::store::AuditQuery;

pub const AUDIT: Endpoint = Endpoint {
    route: Route::Audit,
    caller_check: Some(pipeline::check_auditor),
    handler: |app, incoming, context| Box::pin(export(app, incoming, context)),
};

pub(in crate::http) const DEFAULT_LIMIT: u16 = 100;
pub(in crate::http) const MAX_LIMIT: u16 = 1000;
/// The query parameters it takes (the description lists the same).
pub(in crate::http) const PARAMETERS: &[&str] = &["since", "until", "cursor", "limit"];

async fn export(app: &App, incoming: Incoming, _: &RequestContext) -> Result<Reply, Error> {
    let query = Query::parse(&incoming, PARAMETERS)?;
    let mut problems = Vec::new();
    let p = &mut problems;
    let wanted = AuditQuery {
        since: query.parsed("since", time, "an RFC 3339 time with an offset", p),
        until: query.parsed("until", time, "an RFC 3339 time with an offset", p),
        after: query.parsed(
            "cursor",
            |c| c.parse().ok(),
            "the x-next-cursor of an earlier page",
            p,
        ),
        limit: query
            .parsed(
                "limit",
                |l| l.parse().ok().filter(|l| (1..=MAX_LIMIT).contains(l)),
                "a whole number from 1 to 1000",
                p,
            )
            .unwrap_or(DEFAULT_LIMIT),
    };
    if !problems.is_empty() {
        return Err(Error::invalid_fields(problems));
    }
    let page = app.audit(&wanted).await?;
    let mut body = String::new();
    for (_, line) in &page.lines {
        body.push_str(line);
        body.push('\n');
    }
    let mut response = response::with_type(body, "application/x-ndjson");
    *response.status_mut() = StatusCode::OK;
    response::private(response.headers_mut());
    if let Some(next) = page.next {
        response
            .headers_mut()
            .insert("x-next-cursor", HeaderValue::from(next));
    }
    Ok(Reply::from(response))
}
