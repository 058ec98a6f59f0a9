//! `GET /api/templates`, `GET|POST /api/preview` and `GET /api/openapi`: what a developer reads
//! before sending.

use http::{Method, Response, StatusCode, header};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{ResponseBody, request, response};
use crate::app::{App, RequestContext};
use crate::error::{Error, FieldError};
use crate::templates::{TemplateInfo, TemplateName, sms_segments};

pub const TEMPLATES: Endpoint = Endpoint {
    route: Route::Templates,
    caller_check: None,
    handler: |_, _, context| Box::pin(async move { Ok(Reply::from(templates(context))) }),
};

pub const PREVIEW: Endpoint = Endpoint {
    route: Route::Preview,
    caller_check: None,
    handler: |app, incoming, context| Box::pin(preview(app, incoming, context)),
};

/// The OpenAPI 3.1 description of every route, compiled in.
pub const OPENAPI: Endpoint = Endpoint {
    route: Route::OpenApi,
    caller_check: None,
    handler: |_, _, _| {
        Box::pin(async {
            Ok(Reply::from(response::with_type(
                include_str!("../../../docs/openapi.json"),
                "application/json; charset=utf-8",
            )))
        })
    },
};

/// `GET /api/templates`: the eight, their channels, fields and sample data.
#[derive(Serialize, JsonSchema)]
pub(in crate::http) struct Templates {
    #[schemars(extend("const" = true))]
    success: bool,
    templates: Vec<TemplateInfo>,
}

/// A preview's SMS: its text, and the segments it takes.
#[derive(Serialize, JsonSchema)]
pub(in crate::http) struct SmsPreview<'a> {
    text: &'a str,
    #[serde(flatten)]
    segments: sms_segments::SmsSegments,
}

/// `format=json`: every part of the rendered template.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "PreviewAllParts")]
pub(in crate::http) struct AllParts<'a> {
    #[schemars(extend("const" = true))]
    success: bool,
    #[schemars(with = "TemplateName")]
    template: &'static str,
    subject: &'a str,
    html: &'a str,
    text: &'a str,
    sms: SmsPreview<'a>,
}

fn templates(context: &RequestContext) -> Response<ResponseBody> {
    let templates = TemplateName::ALL
        .iter()
        .map(|t| TemplateInfo::from(*t))
        .collect();
    response::json(
        &context.request_id,
        StatusCode::OK,
        &Templates {
            success: true,
            templates,
        },
    )
}

/// `?template=paymentReceived&format=html`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewQuery {
    template: Option<String>,
    format: Option<String>,
}

/// Renders a template without sending it: with its sample data (`GET`) or with the posted
/// JSON data (`POST`), as the email's HTML (`text/html`, for a browser), its plain text, its
/// SMS with segment count and encoding, or all of them as JSON.
async fn preview(app: &App, incoming: Incoming, context: &RequestContext) -> Result<Reply, Error> {
    let query: PreviewQuery = serde_urlencoded::from_str(incoming.parts.uri.query().unwrap_or(""))
        .map_err(|e| Error::invalid_fields(vec![FieldError::new("query", e.to_string())]))?;
    let template = match query.template.as_deref() {
        Some(name) => TemplateName::parse(name)?,
        None => {
            return Err(Error::invalid_fields(vec![FieldError::new(
                "template",
                "is required, e.g. ?template=paymentReceived",
            )]));
        }
    };
    let format = query.format.as_deref().unwrap_or("html");
    if !["html", "text", "sms", "json"].contains(&format) {
        return Err(Error::invalid_fields(vec![FieldError::new(
            "format",
            "must be html, text, sms or json",
        )]));
    }
    let data = if incoming.parts.method == Method::POST {
        request::json(&incoming)?
    } else {
        template.sample()
    };
    let rendered = template.render(data, &app.config().branding, None)?;
    let segments = sms_segments::count(&rendered.sms);
    let sms = SmsPreview {
        text: &rendered.sms,
        segments,
    };
    let id = &context.request_id;
    Ok(Reply::from(match format {
        "html" => preview_response("text/html; charset=utf-8", rendered.html),
        "text" => preview_response(
            "text/plain; charset=utf-8",
            format!("Subject: {}\n\n{}\n", rendered.subject, rendered.text),
        ),
        "sms" => response::json(id, StatusCode::OK, &sms),
        _ => response::json(
            id,
            StatusCode::OK,
            &AllParts {
                success: true,
                template: template.as_str(),
                subject: &rendered.subject,
                html: &rendered.html,
                text: &rendered.text,
                sms,
            },
        ),
    }))
}

/// A rendered preview. The policy keeps a previewed email inert in the browser: no scripts,
/// no requests but images.
fn preview_response(content_type: &'static str, body: String) -> Response<ResponseBody> {
    let mut response = response::with_type(body, content_type);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'",
        ),
    );
    response::private(headers);
    response
}
