//! `/api/unsubscribe?token=`: one-click unsubscribe (RFC 8058). A `POST` (what a mailbox
//! provider sends, `List-Unsubscribe=One-Click`, with no cookie or credentials; or the page's
//! button) takes effect before it answers; a `GET` (a person, or a link scanner) changes
//! nothing and shows a page with one button. The token is the only credential.

use askama::Template;
use http::Method;

use super::super::query::Query;
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{pages, response};
use crate::app::{App, RequestContext, claims_patient};
use crate::error::{Error, ErrorCode, FieldError};
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
    let (done, claims, category) = match incoming.parts.method {
        Method::POST => {
            let (claims, category, _) = app.unsubscribe(token, context).await?;
            (true, claims, category)
        }
        _ => {
            let (claims, category) = app.unsubscribe_claims(token)?;
            (false, claims, category)
        }
    };
    let page = Page {
        done,
        practice: &app.config().branding.practice_name,
        recipient: &claims.masked,
        what: describe(category, claims.channel),
        // Every other choice is one more link away.
        preferences: app.preference_page_link(&claims_patient(&claims)),
    };
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "the unsubscribe page did not render");
        Error::new(ErrorCode::InternalError, "The page could not be shown.")
    })?;
    let mut answer = response::with_type(html, "text/html; charset=utf-8");
    let headers = answer.headers_mut();
    pages::protect(headers);
    response::private(headers);
    Ok(Reply::from(answer))
}

/// The page a `GET` shows (one button, no script) and a `POST` answers with, styled by the
/// pages' shared stylesheet under the pages' policy.
#[derive(Template)]
#[template(path = "pages/unsubscribe.html")]
struct Page<'a> {
    done: bool,
    practice: &'a str,
    recipient: &'a str,
    what: String,
    preferences: Option<String>,
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
