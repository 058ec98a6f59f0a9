//! `GET /api/messages?format=csv`: the filtered message log as a CSV file for a spreadsheet,
//! newest first, with every cell a spreadsheet would run as a formula neutralised.

use http::{HeaderValue, StatusCode, header};

use super::super::response;
use super::super::route::Reply;
use crate::app::App;
use crate::error::Error;
use crate::store::{Cursor, MessageFilter, MessageView};

/// The most rows one export holds; past it, `x-next-cursor` says where the next one starts.
pub(in crate::http) const MAX_ROWS: usize = 10_000;
/// Rows read from the store at a time.
const PAGE: u16 = 1_000;

const HEADER: [&str; 16] = [
    "id",
    "createdAt",
    "channel",
    "template",
    "category",
    "status",
    "errorCode",
    "reason",
    "recipients",
    "provider",
    "providerMessageId",
    "batchId",
    "idempotencyKey",
    "fallbackOf",
    "fallback",
    "caller",
];

pub(super) async fn export(app: &App, mut filter: MessageFilter) -> Result<Reply, Error> {
    filter.limit = PAGE;
    let mut body = String::new();
    row(&mut body, &HEADER);
    let mut rows = 0;
    let next = loop {
        let page = app.messages(&filter).await?;
        for message in &page.messages {
            message_row(&mut body, message);
        }
        rows += page.messages.len();
        match page.next_cursor {
            Some(cursor) if rows >= MAX_ROWS => break Some(cursor),
            Some(cursor) => filter.cursor = Cursor::decode(&cursor),
            None => break None,
        }
    };
    let mut response = response::with_type(body, "text/csv; charset=utf-8");
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    response::private(headers);
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"messages.csv\""),
    );
    if let Some(next) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
        headers.insert("x-next-cursor", next);
    }
    Ok(Reply::from(response))
}

fn message_row(out: &mut String, m: &MessageView) {
    let recipients = m
        .recipients
        .iter()
        .map(|r| r.masked.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let or_empty = |cell: Option<&'static str>| cell.unwrap_or("");
    row(
        out,
        &[
            &m.id,
            &m.created_at,
            m.channel.as_str(),
            or_empty(m.template.map(|t| t.as_str())),
            or_empty(m.category.map(|c| c.as_str())),
            m.status.as_str(),
            m.error_code.as_deref().unwrap_or(""),
            m.reason.as_deref().unwrap_or(""),
            &recipients,
            m.provider.as_str(),
            m.provider_message_id.as_deref().unwrap_or(""),
            m.batch_id.as_deref().unwrap_or(""),
            m.idempotency_key.as_deref().unwrap_or(""),
            m.fallback_of.as_deref().unwrap_or(""),
            m.fallback.as_deref().unwrap_or(""),
            &m.caller,
        ],
    );
}

/// One CSV line (RFC 4180: every cell quoted, quotes doubled, CRLF).
fn row(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        // A cell a spreadsheet would read as a formula (=, +, -, @, or a tab or carriage
        // return before one) gets a leading apostrophe, so it stays text (OWASP's advice).
        if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            out.push('\'');
        }
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::row;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised_and_quotes_doubled() {
        let mut out = String::new();
        row(
            &mut out,
            &[
                "=HYPERLINK(\"x\")",
                "+1******4567",
                "-2",
                "@SUM(A1)",
                "plain",
            ],
        );
        assert_eq!(
            out,
            "\"'=HYPERLINK(\"\"x\"\")\",\"'+1******4567\",\"'-2\",\"'@SUM(A1)\",\"plain\"\r\n"
        );
    }
}
