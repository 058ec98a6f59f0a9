//! The HTTP layer: routes, request reading (size, media type, JSON), the JSON answers of the
//! contract, and the two ways to serve them (one Vercel function per route, or every route on
//! one local port for `cargo run`).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
pub use vercel_runtime::ResponseBody;

use crate::access::{Caller, CrossOrigin};
use crate::app::{App, Background, SendContext, new_request_id};
use crate::domain::{EmailMessage, SmsMessage};
use crate::domain::{
    MAX_ATTACHMENT_BYTES, SendEmailRequest, SendNotificationRequest, SendSmsRequest,
    total_too_large,
};
use crate::error::{Error, ErrorBody, ErrorKind, FieldError, retry_after_seconds};
use crate::sent::{Attempt, Sent};
use crate::templates::{TemplateInfo, TemplateName, sms_segments};
use crate::webhooks::SnsOutcome;

/// Vercel refuses request bodies over 4.5 MB; the same limit applies locally, so a request
/// that works with `cargo run` works when deployed.
pub const MAX_BODY_BYTES: usize = 4_718_592;

/// The API's routes. Each is one Vercel function under `api/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    SendEmail,
    SendSms,
    SendNotification,
    Templates,
    Preview,
    Health,
    OpenApi,
    TwilioWebhook,
    SesWebhook,
}

impl Route {
    pub const ALL: [Route; 9] = [
        Route::SendEmail,
        Route::SendSms,
        Route::SendNotification,
        Route::Templates,
        Route::Preview,
        Route::Health,
        Route::OpenApi,
        Route::TwilioWebhook,
        Route::SesWebhook,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Self::SendEmail => "/api/send-email",
            Self::SendSms => "/api/send-sms",
            Self::SendNotification => "/api/send-notification",
            Self::Templates => "/api/templates",
            Self::Preview => "/api/preview",
            Self::Health => "/api/health",
            Self::OpenApi => "/api/openapi",
            Self::TwilioWebhook => "/api/webhooks/twilio",
            Self::SesWebhook => "/api/webhooks/ses",
        }
    }

    fn methods(self) -> &'static [Method] {
        match self {
            Self::SendEmail
            | Self::SendSms
            | Self::SendNotification
            | Self::TwilioWebhook
            | Self::SesWebhook => &[Method::POST],
            Self::Templates | Self::Health | Self::OpenApi => &[Method::GET],
            Self::Preview => &[Method::GET, Method::POST],
        }
    }

    /// The `Allow` header value: the route's methods and `OPTIONS` (CORS preflights).
    fn allow(self) -> String {
        let mut methods: Vec<&str> = self.methods().iter().map(Method::as_str).collect();
        methods.push("OPTIONS");
        methods.join(", ")
    }

    /// Whether the route sends messages (and so needs credentials on live channels and
    /// counts against the caller's rate).
    fn sends(self) -> bool {
        matches!(
            self,
            Self::SendEmail | Self::SendSms | Self::SendNotification
        )
    }

    /// The route of a request path; a trailing slash is tolerated.
    pub fn from_path(path: &str) -> Option<Route> {
        let path = path.strip_suffix('/').unwrap_or(path);
        Self::ALL.into_iter().find(|route| route.path() == path)
    }
}

/// Answers one request for `route`. Never fails: every error becomes a JSON answer, so nothing
/// reaches `vercel_runtime`'s own (unescaped, 500) error page.
pub async fn handle<B>(app: &App, route: Route, request: Request<B>) -> Response<ResponseBody>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    handle_with(app, route, request, Background::default()).await
}

/// [`handle`], with background work (event forwarding) run by `background`.
pub async fn handle_with<B>(
    app: &App,
    route: Route,
    request: Request<B>,
    background: Background,
) -> Response<ResponseBody>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let context = SendContext {
        request_id: request_id(request.headers()),
        template: None,
        background,
    };
    // Health stays public: a foreign origin just gets no CORS headers (its browser then
    // cannot read the answer); every other route refuses foreign origins outright.
    let cross_origin = match app.access.check_origin(request.headers()) {
        Err(_) if route == Route::Health => Ok(CrossOrigin::No),
        other => other,
    };
    let mut response = match &cross_origin {
        Err(error) => error_response(&context, error),
        Ok(cors) if request.method() == Method::OPTIONS => preflight(route, cors),
        Ok(_) => answer(app, route, request, &context)
            .await
            .unwrap_or_else(|error| error_response(&context, &error)),
    };
    let headers = response.headers_mut();
    if let Ok(id) = header::HeaderValue::from_str(&context.request_id) {
        headers.insert("x-request-id", id);
    }
    if let Ok(CrossOrigin::Allowed(origin)) = cross_origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            header::HeaderValue::from_static("x-request-id, retry-after"),
        );
    }
    // Answers differ by Origin, so no cache may give one origin's answer to another.
    headers.insert(header::VARY, header::HeaderValue::from_static("Origin"));
    response
}

async fn answer<B>(
    app: &App,
    route: Route,
    request: Request<B>,
    context: &SendContext,
) -> Result<Response<ResponseBody>, Error>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if !route.methods().contains(request.method()) {
        let allow = route.allow();
        let mut response = error_response(
            context,
            &Error::new(
                ErrorKind::MethodNotAllowed,
                "method_not_allowed",
                format!("{} accepts only {allow} requests.", route.path()),
            ),
        );
        if let Ok(value) = header::HeaderValue::from_str(&allow) {
            response.headers_mut().insert(header::ALLOW, value);
        }
        return Ok(response);
    }
    if route.sends() {
        let required = app.has_live_channel() && !app.access.allow_unauthenticated;
        let caller = app.access.authenticate(request.headers(), required)?;
        app.limits
            .check_caller(&caller_key(&caller, request.headers()))?;
    }
    // Each route's work runs boxed, so the request's own future (moved into its task, and
    // through the runtime) stays small whatever the largest route needs.
    match route {
        Route::Health => Ok(json_response(context, StatusCode::OK, &app.health())),
        Route::SendEmail => Box::pin(send_email(app, request, context)).await,
        Route::SendSms => Box::pin(send_sms(app, request, context)).await,
        Route::SendNotification => Box::pin(send_notification(app, request, context)).await,
        Route::Templates => Ok(templates(context)),
        Route::Preview => Box::pin(preview(app, request, context)).await,
        Route::OpenApi => Ok(openapi()),
        Route::TwilioWebhook => Box::pin(twilio_webhook(app, request, context)).await,
        Route::SesWebhook => Box::pin(ses_webhook(app, request, context)).await,
    }
}

/// Vercel's own request id (`x-vercel-id`) when there is one, so an answer can be found in
/// Vercel's logs; a fresh one otherwise.
fn request_id(headers: &http::HeaderMap) -> String {
    headers
        .get("x-vercel-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(new_request_id, str::to_owned)
}

/// Who to count a request against: its credentials, or else its client address. On Vercel,
/// `x-forwarded-for` is set by the platform (not the client); the local server sets it from
/// the connection.
fn caller_key(caller: &Caller, headers: &http::HeaderMap) -> String {
    match caller {
        Caller::ApiKey(id) => id.clone(),
        Caller::Token(subject) => format!("jwt:{subject}"),
        Caller::Anonymous => {
            let ip = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .unwrap_or("unknown");
            format!("ip:{ip}")
        }
    }
}

/// The answer to a CORS preflight (`OPTIONS`).
fn preflight(route: Route, cors: &CrossOrigin) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::from(""));
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    let allow = route.allow();
    if let Ok(value) = header::HeaderValue::from_str(&allow) {
        headers.insert(header::ALLOW, value.clone());
        if matches!(cors, CrossOrigin::Allowed(_)) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, value);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                header::HeaderValue::from_static("authorization, content-type"),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                header::HeaderValue::from_static("600"),
            );
        }
    }
    response
}

async fn send_email<B>(
    app: &App,
    request: Request<B>,
    context: &SendContext,
) -> Result<Response<ResponseBody>, Error>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let request: SendEmailRequest = read_json(request).await?;
    let message = EmailMessage::try_from(request).map_err(Error::invalid_fields)?;
    if let Some(total) = total_too_large(&message.attachments) {
        return Err(Error::new(
            ErrorKind::PayloadTooLarge,
            "attachments_too_large",
            format!(
                "The attachments add up to {total} bytes; at most {MAX_ATTACHMENT_BYTES} (3 MiB) are allowed."
            ),
        )
        .with_hint("Send large documents as a link to the patient portal instead."));
    }
    let sent = app.send_email(&message, context).await?;
    Ok(sent_response(
        context,
        &sent,
        "Email sent successfully",
        "Email logged (demo mode - AWS SES not configured)",
    ))
}

async fn send_sms<B>(
    app: &App,
    request: Request<B>,
    context: &SendContext,
) -> Result<Response<ResponseBody>, Error>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let request: SendSmsRequest = read_json(request).await?;
    let message = SmsMessage::try_from(request).map_err(Error::invalid_fields)?;
    let sent = app.send_sms(&message, context).await?;
    Ok(sent_response(
        context,
        &sent,
        "SMS sent successfully",
        "SMS logged (demo mode - Twilio not configured)",
    ))
}

/// Sends a templated notification on each requested channel. The answer reports each channel;
/// `success` is true only when every requested channel succeeded. The status is 200 then,
/// 207 when one channel succeeded and the other failed, and the failure's own status when
/// every requested channel failed (the email's when both did).
async fn send_notification<B>(
    app: &App,
    request: Request<B>,
    context: &SendContext,
) -> Result<Response<ResponseBody>, Error>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let request: SendNotificationRequest = read_json(request).await?;
    let (template, data, recipients) = request.parse()?;
    let outcome = app
        .send_template_notification(template, data, &recipients, context)
        .await?;
    let results = [outcome.email.as_ref(), outcome.sms.as_ref()];
    let failures: Vec<&Error> = results
        .iter()
        .flatten()
        .filter_map(|r| r.as_ref().err())
        .collect();
    let attempted = results.iter().flatten().count();
    let (status, error, code) = match failures.first() {
        None => (StatusCode::OK, None, None),
        Some(_) if failures.len() < attempted => (
            StatusCode::MULTI_STATUS,
            Some("The notification was sent on one channel and failed on the other."),
            Some("partially_sent"),
        ),
        Some(first) => (
            StatusCode::from_u16(first.status()).unwrap_or(StatusCode::BAD_GATEWAY),
            Some("The notification could not be sent on any channel."),
            Some("notification_failed"),
        ),
    };
    let body = NotificationBody {
        success: failures.is_empty(),
        template: template.as_str(),
        email: ChannelBody::new(
            outcome.email.as_ref(),
            "Email sent successfully",
            "Email logged (demo mode - AWS SES not configured)",
        ),
        sms: ChannelBody::new(
            outcome.sms.as_ref(),
            "SMS sent successfully",
            "SMS logged (demo mode - Twilio not configured)",
        ),
        error,
        code,
    };
    Ok(json_response(context, status, &body))
}

#[derive(Serialize)]
struct NotificationBody<'a> {
    success: bool,
    template: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<ChannelBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sms: Option<ChannelBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
}

/// One channel's part of a notification answer: the send-email/send-sms answer shapes.
#[derive(Serialize)]
#[serde(untagged)]
enum ChannelBody<'a> {
    Sent(SentBody<'a>),
    Failed(ErrorBody<'a>),
}

impl<'a> ChannelBody<'a> {
    fn new(result: Option<&'a Result<Sent, Error>>, live: &'a str, demo: &'a str) -> Option<Self> {
        result.map(|result| match result {
            Ok(sent) => Self::Sent(SentBody::new(sent, live, demo)),
            Err(error) => Self::Failed(ErrorBody::from(error)),
        })
    }
}

/// `POST /api/webhooks/twilio`: Twilio's status callbacks (form-encoded), answered with empty
/// TwiML once verified, so that an inbound STOP needs no reply either.
async fn twilio_webhook<B>(
    app: &App,
    request: Request<B>,
    context: &SendContext,
) -> Result<Response<ResponseBody>, Error>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let signature = request
        .headers()
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let query = request.uri().query().map(str::to_owned);
    let body = read_body(request).await?;
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| {
        Error::invalid_fields(vec![FieldError::new(
            "body",
            "is not form-encoded parameters",
        )])
    })?;
    app.receive_twilio(&params, signature.as_deref(), query.as_deref(), context)
        .await?;
    let mut response = Response::new(ResponseBody::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#,
    ));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    Ok(response)
}

/// `POST /api/webhooks/ses`: SNS messages (sent as `text/plain`) carrying SES events.
async fn ses_webhook<B>(
    app: &App,
    request: Request<B>,
    context: &SendContext,
) -> Result<Response<ResponseBody>, Error>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body = read_body(request).await?;
    #[derive(Serialize)]
    struct Received {
        success: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        confirmed: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        events: Option<usize>,
    }
    let outcome = app.receive_sns(&body, context).await?;
    let received = match outcome {
        SnsOutcome::Confirmed => Received {
            success: true,
            confirmed: Some(true),
            events: None,
        },
        SnsOutcome::Unsubscribed => Received {
            success: true,
            confirmed: None,
            events: None,
        },
        SnsOutcome::Events(n) => Received {
            success: true,
            confirmed: None,
            events: Some(n),
        },
    };
    Ok(json_response(context, StatusCode::OK, &received))
}

/// `GET /api/openapi`: the OpenAPI 3.1 description of every route, compiled in.
fn openapi() -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::from(include_str!("../docs/openapi.json")));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// `GET /api/templates`: the eight, their channels, fields and sample data.
fn templates(context: &SendContext) -> Response<ResponseBody> {
    #[derive(Serialize)]
    struct Templates {
        success: bool,
        templates: Vec<TemplateInfo>,
    }
    let templates = TemplateName::ALL
        .iter()
        .map(|t| TemplateInfo::from(*t))
        .collect();
    json_response(
        context,
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
async fn preview<B>(
    app: &App,
    request: Request<B>,
    context: &SendContext,
) -> Result<Response<ResponseBody>, Error>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let query: PreviewQuery = serde_urlencoded::from_str(request.uri().query().unwrap_or(""))
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
    let data = if request.method() == Method::POST {
        read_json(request).await?
    } else {
        template.sample()
    };
    let rendered = template.render(data, &app.branding)?;
    let segments = sms_segments::count(&rendered.sms);
    #[derive(Serialize)]
    struct SmsPreview<'a> {
        text: &'a str,
        #[serde(flatten)]
        segments: sms_segments::SmsSegments,
    }
    let sms = SmsPreview {
        text: &rendered.sms,
        segments,
    };
    Ok(match format {
        "html" => preview_response("text/html; charset=utf-8", rendered.html),
        "text" => preview_response(
            "text/plain; charset=utf-8",
            format!("Subject: {}\n\n{}\n", rendered.subject, rendered.text),
        ),
        "sms" => json_response(context, StatusCode::OK, &sms),
        _ => {
            #[derive(Serialize)]
            struct AllParts<'a> {
                success: bool,
                template: &'static str,
                subject: &'a str,
                html: &'a str,
                text: &'a str,
                sms: SmsPreview<'a>,
            }
            json_response(
                context,
                StatusCode::OK,
                &AllParts {
                    success: true,
                    template: template.as_str(),
                    subject: &rendered.subject,
                    html: &rendered.html,
                    text: &rendered.text,
                    sms,
                },
            )
        }
    })
}

/// A rendered preview. The policy keeps a previewed email inert in the browser: no scripts,
/// no requests but images.
fn preview_response(content_type: &'static str, body: String) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'",
        ),
    );
    private_answer_headers(headers);
    response
}

/// Answers can name recipients: no shared cache may keep them, nor may a browser guess their type.
fn private_answer_headers(headers: &mut http::HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
}

/// The seed guide's success shapes, kept exactly.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SentBody<'a> {
    success: bool,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    demo: bool,
    /// The provider that took the message (`aws-ses`, `smtp`, `twilio`).
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    /// Providers that failed before it (email failover).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    failed_over: &'a [Attempt],
}

impl<'a> SentBody<'a> {
    fn new(sent: &'a Sent, live: &'a str, demo: &'a str) -> Self {
        Self {
            success: true,
            message: if sent.demo { demo } else { live },
            message_id: sent.message_id.as_deref(),
            demo: sent.demo,
            provider: sent.provider,
            failed_over: &sent.failed_over,
        }
    }
}

fn sent_response(
    context: &SendContext,
    sent: &Sent,
    live: &str,
    demo: &str,
) -> Response<ResponseBody> {
    json_response(context, StatusCode::OK, &SentBody::new(sent, live, demo))
}

/// Reads a JSON body of at most `MAX_BODY_BYTES` into `T`, with errors a caller can act on.
async fn read_json<T, B>(request: Request<B>) -> Result<T, Error>
where
    T: DeserializeOwned,
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_ascii_lowercase());
    if let Some(content_type) = content_type {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(Error::new(
                ErrorKind::UnsupportedMediaType,
                "unsupported_media_type",
                format!("The body must be JSON, but it was sent as {essence:?}."),
            )
            .with_hint("Send the header Content-Type: application/json."));
        }
    }
    parse_json(&read_body(request).await?)
}

/// The body, at most `MAX_BODY_BYTES` (refused from the declared length when there is one).
async fn read_body<B>(request: Request<B>) -> Result<Bytes, Error>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let bytes = Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large()
            } else {
                Error::new(
                    ErrorKind::InvalidRequest,
                    "unreadable_body",
                    "The request body could not be read completely.",
                )
            }
        })?
        .to_bytes();
    Ok(bytes)
}

fn too_large() -> Error {
    Error::new(
        ErrorKind::PayloadTooLarge,
        "payload_too_large",
        format!("The request body is larger than {MAX_BODY_BYTES} bytes (4.5 MB)."),
    )
}

/// Parses `bytes` as `T`: JSON syntax errors are `invalid_json`, wrong types and unknown fields
/// are `invalid_request` naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::new(
            ErrorKind::InvalidRequest,
            "invalid_json",
            "The request body is empty: send a JSON object.",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        if error.inner().classify() == serde_json::error::Category::Data {
            Error::from_serde("", error)
        } else {
            invalid_json(error.inner())
        }
    })?;
    deserializer.end().map_err(|e| invalid_json(&e))?;
    Ok(value)
}

fn invalid_json(error: &serde_json::Error) -> Error {
    Error::new(
        ErrorKind::InvalidRequest,
        "invalid_json",
        format!("The request body is not valid JSON: {error}."),
    )
}

/// A JSON answer; every one carries the request's id as `requestId` (also `x-request-id`).
pub fn json_response(
    context: &SendContext,
    status: StatusCode,
    body: &impl Serialize,
) -> Response<ResponseBody> {
    #[derive(Serialize)]
    struct WithRequestId<'a, T> {
        #[serde(flatten)]
        body: &'a T,
        #[serde(rename = "requestId")]
        request_id: &'a str,
    }
    let body = WithRequestId {
        body,
        request_id: &context.request_id,
    };
    let json = serde_json::to_vec(&body).unwrap_or_else(|_| {
        br#"{"success":false,"error":"The answer could not be encoded.","code":"internal_error"}"#
            .to_vec()
    });
    let mut response = Response::new(ResponseBody::from(json));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(id) = header::HeaderValue::from_str(&context.request_id) {
        headers.insert("x-request-id", id);
    }
    private_answer_headers(headers);
    response
}

pub fn error_response(context: &SendContext, error: &Error) -> Response<ResponseBody> {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(context, status, &ErrorBody::from(error));
    if let Some(after) = error.retry_after {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(retry_after_seconds(after)),
        );
    }
    response
}

fn not_found(path: &str) -> Response<ResponseBody> {
    let routes: Vec<&str> = Route::ALL.iter().map(|r| r.path()).collect();
    error_response(
        &SendContext::new(),
        &Error::new(
            ErrorKind::NotFound,
            "not_found",
            format!(
                "There is no route {path:?}. The routes are {}.",
                routes.join(", ")
            ),
        ),
    )
}

/// The page Vercel serves from `public/` at `/`, served the same way locally.
fn index_page() -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::from(include_str!("../public/index.html")));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// JSON log lines on stdout, which Vercel keeps as the function's logs.
fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_target(true)
        .try_init();
}

/// Serves one route as a Vercel function: `vercel_runtime` listens on
/// `127.0.0.1:$VERCEL_DEV_PORT` and answers `/_vercel/ping`; every other path is this route,
/// as Vercel only sends this function its own requests.
///
/// It runs on tokio's current-thread runtime, built here so that every function shares the
/// choice: a send spends its time waiting on the provider, and handing each request between
/// worker threads cost more CPU than the request itself (about half of a warm send's CPU at 32
/// concurrent requests, BENCHMARKS.md). Requests still run concurrently, each in a task of its
/// own.
pub fn serve_function(route: Route) -> Result<(), vercel_runtime::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            init_logging();
            let app = Arc::new(App::from_env());
            vercel_runtime::run(vercel_runtime::service_fn(
                move |request: vercel_runtime::Request, state: vercel_runtime::AppState| {
                    let app = Arc::clone(&app);
                    handle_isolated(app, route, request, Background::vercel(state))
                },
            ))
            .await
        })
}

/// `handle` in a task of its own, so that a panic (a bug) answers that one request with a JSON
/// 500 instead of taking down the connection or the process, which serves other requests at
/// the same time under Vercel's Fluid compute.
async fn handle_isolated(
    app: Arc<App>,
    route: Route,
    request: Request<hyper::body::Incoming>,
    background: Background,
) -> Response<ResponseBody> {
    match tokio::spawn(async move { handle_with(&app, route, request, background).await }).await {
        Ok(response) => response,
        Err(_) => error_response(
            &SendContext::new(),
            &Error::new(
                ErrorKind::Internal,
                "internal_error",
                "The request failed because of a bug in the notification API; it has been logged.",
            ),
        ),
    }
}

/// Serves every route on `127.0.0.1:port`, for local development (`cargo run`). The handlers
/// are the functions' own.
pub async fn serve_all(port: u16) -> std::io::Result<()> {
    init_logging();
    let app = Arc::new(App::from_env());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!(
        email = app.email.mode(),
        sms = app.sms.mode(),
        "notification API listening on http://127.0.0.1:{port}"
    );
    loop {
        let (stream, peer) = listener.accept().await?;
        let app = Arc::clone(&app);
        let peer_ip = header::HeaderValue::from_str(&peer.ip().to_string()).ok();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                    let app = Arc::clone(&app);
                    // As Vercel does: the client address comes from the connection, never
                    // from what the client claims.
                    match &peer_ip {
                        Some(ip) => request.headers_mut().insert("x-forwarded-for", ip.clone()),
                        None => request.headers_mut().remove("x-forwarded-for"),
                    };
                    async move {
                        let path = request.uri().path().to_owned();
                        let response = match Route::from_path(&path) {
                            Some(route) => {
                                handle_isolated(app, route, request, Background::default()).await
                            }
                            None if path == "/" => index_page(),
                            None => not_found(&path),
                        };
                        Ok::<_, Infallible>(response)
                    }
                });
            let io = hyper_util::rt::TokioIo::new(stream);
            // A connection that breaks mid-request concerns that client only.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use http_body_util::Full;

    fn demo_app() -> App {
        App::new(Config::from_vars(&Default::default()))
    }

    fn post(route: Route, body: &str) -> Request<Full<Bytes>> {
        Request::post(route.path())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap()
    }

    async fn answer(
        app: &App,
        route: Route,
        request: Request<Full<Bytes>>,
    ) -> (u16, serde_json::Value) {
        let response = handle(app, route, request).await;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn routes_are_found_by_path_with_or_without_a_trailing_slash() {
        assert_eq!(Route::from_path("/api/send-email"), Some(Route::SendEmail));
        assert_eq!(Route::from_path("/api/health/"), Some(Route::Health));
        assert_eq!(Route::from_path("/api/nothing"), None);
    }

    #[tokio::test]
    async fn a_demo_send_is_kept_in_the_demo_outbox_and_answered_as_demo() {
        let app = demo_app();
        let (status, body) = answer(
            &app,
            Route::SendSms,
            post(Route::SendSms, r#"{"to": "+15551234567", "message": "Hi"}"#),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["demo"], true);
        let crate::app::Channel::Demo(demo) = &app.sms else {
            panic!("sms not demo")
        };
        assert_eq!(demo.outbox()[0].body, "Hi");
    }

    #[tokio::test]
    async fn wrong_json_types_name_the_field_and_its_index() {
        let (status, body) = answer(
            &demo_app(),
            Route::SendEmail,
            post(
                Route::SendEmail,
                r#"{"to": ["a@example.com", 5], "subject": "s", "body": "b"}"#,
            ),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(body["code"], "invalid_request");
        assert_eq!(body["details"][0]["field"], "to");
    }

    #[tokio::test]
    async fn unknown_fields_are_refused_by_name() {
        let (status, body) = answer(
            &demo_app(),
            Route::SendSms,
            post(
                Route::SendSms,
                r#"{"to": "+15551234567", "message": "Hi", "from": "+15550000000"}"#,
            ),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(body["details"][0]["field"], "from");
    }

    #[tokio::test]
    async fn malformed_and_trailing_json_are_invalid_json() {
        for text in [
            r#"{"to": "#,
            r#"{"to": "+15551234567", "message": "Hi"} extra"#,
            "",
            "[1]",
        ] {
            let (status, body) =
                answer(&demo_app(), Route::SendSms, post(Route::SendSms, text)).await;
            assert_eq!(status, 400, "{text}");
            assert!(
                body["code"] == "invalid_json" || body["code"] == "invalid_request",
                "{text}: {body}"
            );
        }
    }

    #[tokio::test]
    async fn a_body_over_the_limit_without_a_declared_length_is_413() {
        let body = format!(
            r#"{{"to": "+15551234567", "message": "{}"}}"#,
            "x".repeat(MAX_BODY_BYTES)
        );
        let request = Request::post("/api/send-sms")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        assert!(request.headers().get(header::CONTENT_LENGTH).is_none());
        let (status, body) = answer(&demo_app(), Route::SendSms, request).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (413, Some("payload_too_large"))
        );
    }

    #[tokio::test]
    async fn a_non_json_content_type_is_415_with_a_hint() {
        let request = Request::post("/api/send-sms")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(
                b"to=%2B15551234567&message=Hi",
            )))
            .unwrap();
        let (status, body) = answer(&demo_app(), Route::SendSms, request).await;
        assert_eq!(status, 415);
        assert!(body["hint"].as_str().unwrap().contains("application/json"));
    }
}
