//! `/api/unsubscribe?token=`: one-click unsubscribe (RFC 8058). A `POST` (what a mailbox
//! provider sends, `List-Unsubscribe=One-Click`, with no cookie or credentials; or the page's
//! button) takes effect before it answers; a `GET` (a person, or a link scanner) changes
//! nothing and shows a page with one button. The token is the only credential.

use http::{Method, header};

use super::super::query::Query;
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{ResponseBody, response};
use crate::app::{App, RequestContext};
use crate::error::{Error, FieldError};
use crate::names::{Category, Channel};

pub const UNSUBSCRIBE: Endpoint = Endpoint {
    route: Route::Unsubscribe,
    caller_check: None,
    handler: |app, incoming, context| Box::pin(unsubscribe(app, incoming, context)),
};

pub(in crate::http) const PARAMETERS: &[&str] = &["token"];

async fn unsubscribe(
    app: &App,
    incoming: Incoming,
    context: &RequestContext,
) -> Result<Reply, Error> {
    let query = Query::parse(&incoming, PARAMETERS)?;
    let Some(token) = query.get("token") else {
        return Err(Error::invalid_fields(vec![FieldError::new(
            "token",
            "is required: follow the link in the email",
        )]));
    };
    let page = match incoming.parts.method {
        Method::POST => {
            let (claims, category, _) = app.unsubscribe(token, context).await?;
            let what = describe(category, claims.channel);
            page(
                "Unsubscribed",
                &format!(
                    "<p>{} will no longer get {what}.</p>",
                    escape(&claims.masked)
                ),
            )
        }
        _ => {
            let (claims, category) = app.unsubscribe_claims(token)?;
            let what = describe(category, claims.channel);
            page(
                "Unsubscribe",
                &format!(
                    "<p>Stop sending {what} to {}?</p>\
                     <form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
                     <button type=\"submit\">Unsubscribe</button></form>",
                    escape(&claims.masked)
                ),
            )
        }
    };
    Ok(Reply::from(page))
}

fn describe(category: Category, channel: Channel) -> String {
    let what = match category {
        Category::BillingAlerts => "billing alerts",
        Category::BillingReceipts => "receipts and invoices",
        Category::CareReminders => "appointment reminders",
        Category::Documents => "document notices",
    };
    let by = match channel {
        Channel::Email => "by email",
        Channel::Sms => "by text",
    };
    format!("{what} {by}")
}

/// A small page: no script at all, its style inline (the policy allows inline style, never
/// script), nothing loaded from anywhere, readable on a phone.
fn page(title: &str, body: &str) -> http::Response<ResponseBody> {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font:1.1rem/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}}\
         button{{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#1f4e79;color:#fff;cursor:pointer}}\
         button:focus-visible{{outline:3px solid #f2b700;outline-offset:2px}}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    let mut answer = response::with_type(html, "text/html; charset=utf-8");
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response::private(headers);
    answer
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
