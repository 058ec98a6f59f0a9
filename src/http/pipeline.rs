//! The request pipeline every route shares: the request id, the browser-origin check and CORS,
//! the method, credentials and the caller's rate on sending routes, the body read once, the
//! handler, and the answer's common headers.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use subtle::ConstantTimeEq;

use super::route::{Endpoint, Incoming, Reply, Route};
use super::{ResponseBody, request, response};
use crate::access::{Credentials, CrossOrigin};
use crate::app::{AfterAnswer, App, RequestContext};
use crate::domain::Caller;
use crate::error::{Error, ErrorCode};
use crate::names::{Permission, StoreKind};
use crate::support::new_id;

/// Answers one request for `route`, running any work left for after the answer on the tokio
/// runtime. Never fails: every error becomes a JSON answer.
pub async fn handle<B>(app: &Arc<App>, route: Route, request: Request<B>) -> Response<ResponseBody>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let request_id = request_id(request.headers());
    let (response, after_answer) = answer(app, route.endpoint(), request, request_id).await;
    if let Some(work) = after_answer {
        tokio::spawn(work);
    }
    response
}

/// Vercel's own request id (`x-vercel-id`) when there is one, so an answer can be found in
/// Vercel's logs; a fresh one otherwise.
pub(super) fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-vercel-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(new_id, str::to_owned)
}

/// The answer to one request, and the work it leaves for after the answer.
pub(super) async fn answer<B>(
    app: &Arc<App>,
    endpoint: Endpoint,
    request: Request<B>,
    request_id: String,
) -> (Response<ResponseBody>, Option<AfterAnswer>)
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let route = endpoint.route;
    // Vercel hands every invocation a fresh OIDC token; SES's role credentials are refreshed
    // with the newest one, whichever route brought it (the dispatcher's cron call included).
    if let Some(token) = request.headers().get("x-vercel-oidc-token") {
        app.offer_web_identity_token(token.to_str().unwrap_or_default());
    }
    let context = RequestContext {
        request_id,
        template: None,
        caller: Caller::Public,
        idempotency: None,
        scheduled: None,
    };
    // Health stays public: a foreign origin just gets no CORS headers (its browser then
    // cannot read the answer). So does unsubscribe: its token is its only credential, and its
    // page (under `no-referrer`) posts with `Origin: null`. Every other route refuses foreign
    // origins outright.
    let cross_origin = match app.access.check_origin(request.headers()) {
        Err(_) if matches!(route, Route::Health | Route::Unsubscribe) => Ok(CrossOrigin::No),
        other => other,
    };
    let reply = match &cross_origin {
        Err(error) => Ok(Reply::from(response::error(&context.request_id, error))),
        Ok(cors) if request.method() == Method::OPTIONS => Ok(Reply::from(preflight(route, cors))),
        Ok(_) => checked(app, endpoint, request, &context).await,
    };
    let Reply {
        mut response,
        after_answer,
    } = reply.unwrap_or_else(|error| Reply::from(response::error(&context.request_id, &error)));
    response::set_request_id(&mut response, &context.request_id);
    let headers = response.headers_mut();
    if let Ok(CrossOrigin::Allowed(origin)) = cross_origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-request-id, retry-after, idempotency-replayed"),
        );
    }
    // Answers differ by Origin, so no cache may give one origin's answer to another.
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    (response, after_answer)
}

/// The method, then credentials and the caller's rate (sending routes), then the body, then
/// the route's own handler.
async fn checked<B>(
    app: &Arc<App>,
    endpoint: Endpoint,
    request: Request<B>,
    context: &RequestContext,
) -> Result<Reply, Error>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let route = endpoint.route;
    if !route.methods().contains(request.method()) {
        return Ok(Reply::from(method_not_allowed(route, context)));
    }
    let context = match endpoint.caller_check {
        Some(check) => &RequestContext {
            caller: check(app, request.method(), request.headers())?,
            ..context.clone()
        },
        None => context,
    };
    let (parts, body) = request.into_parts();
    let body = request::read_body(&parts.headers, body).await?;
    (endpoint.handler)(app, Incoming { parts, body }, context).await
}

fn method_not_allowed(route: Route, context: &RequestContext) -> Response<ResponseBody> {
    let allow = route.allow();
    let mut response = response::error(
        &context.request_id,
        &Error::new(
            ErrorCode::MethodNotAllowed,
            format!("{} accepts only {allow} requests.", route.path()),
        ),
    );
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// The caller check of a request needing `needed`: credentials with that permission wherever
/// they are required. Sending needs them whenever a channel is live (unless
/// `NOTIFY_ALLOW_UNAUTHENTICATED=1`); reading and managing whenever a channel is live or a
/// database is set (even with both channels in demo mode, it may hold the live messages of an
/// earlier deployment). Only the local demo on the memory store is open, to do anything. The
/// caller's rate is counted with a send's admission.
pub(super) fn permit(app: &App, headers: &HeaderMap, needed: Permission) -> Result<Caller, Error> {
    let live = app.has_live_channel();
    let required = match needed {
        Permission::Send => live && !app.access.allow_unauthenticated,
        Permission::Read | Permission::Manage => {
            live || app.config().store.kind() == StoreKind::Postgres
        }
    };
    let credentials = app.access.permit(headers, needed, required)?;
    Ok(caller_key(credentials.map(|c| c.caller), headers))
}

/// The caller check of the sending routes.
pub(super) fn check_sender(app: &App, _: &Method, headers: &HeaderMap) -> Result<Caller, Error> {
    permit(app, headers, Permission::Send)
}

/// The caller check of routes that read with `GET` and send (cancel, move) otherwise.
pub(super) fn check_reader_or_sender(
    app: &App,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Caller, Error> {
    permit(app, headers, reading_or(method, Permission::Send))
}

/// The caller check of routes that read with `GET` and manage otherwise.
pub(super) fn check_reader_or_manager(
    app: &App,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Caller, Error> {
    permit(app, headers, reading_or(method, Permission::Manage))
}

/// `read` for a `GET`, `other` for any other method.
fn reading_or(method: &Method, other: Permission) -> Permission {
    if method == Method::GET {
        Permission::Read
    } else {
        other
    }
}

/// The caller check of the audit export: an API key with `manage`, never a browser's JWT (the
/// trail is for a compliance review by the practice's own systems). Only the local demo on the
/// memory store is open.
pub(super) fn check_auditor(app: &App, _: &Method, headers: &HeaderMap) -> Result<Caller, Error> {
    let open = !app.has_live_channel() && app.config().store.kind() == StoreKind::Memory;
    let credentials = app
        .access
        .authenticate(headers, Permission::Manage, !open)?;
    match credentials {
        Some(Credentials {
            caller: Caller::Jwt(_),
            ..
        }) => Err(Error::new(
            ErrorCode::InvalidAuthorization,
            "The audit export takes an API key (Authorization: Bearer <key>), not a browser token.",
        )),
        Some(credentials) => {
            credentials.allow(Permission::Manage)?;
            Ok(credentials.caller)
        }
        None => Ok(caller_key(None, headers)),
    }
}

/// The dispatcher's caller check: `Authorization: Bearer $CRON_SECRET`, what Vercel Cron sends,
/// compared in constant time. Without a usable `CRON_SECRET` it answers 503: never open.
pub(super) fn check_cron(app: &App, _: &Method, headers: &HeaderMap) -> Result<Caller, Error> {
    let Some(secret) = &app.config().dispatch.cron_secret else {
        return Err(Error::new(
            ErrorCode::DispatcherNotConfigured,
            "The dispatcher needs CRON_SECRET (at least 16 random characters), which its scheduler sends as a bearer token.",
        )
        .with_hint("Set CRON_SECRET in Vercel (Settings > Environment Variables) and redeploy; GET /api/health says whether it is usable."));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        None => Err(Error::new(
            ErrorCode::AuthenticationRequired,
            "The dispatcher takes Authorization: Bearer <CRON_SECRET>.",
        )),
        Some(given) if bool::from(given.as_bytes().ct_eq(secret.expose().as_bytes())) => {
            Ok(Caller::Cron)
        }
        Some(_) => Err(Error::new(
            ErrorCode::InvalidAuthorization,
            "The bearer token is not this deployment's CRON_SECRET.",
        )),
    }
}

/// Who to count a request against: its credentials, or else its client address. On Vercel,
/// `x-forwarded-for` is set by the platform (not the client); the local server sets it from
/// the connection.
fn caller_key(caller: Option<Caller>, headers: &HeaderMap) -> Caller {
    caller.unwrap_or_else(|| {
        let ip = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .unwrap_or("unknown");
        Caller::Ip(ip.to_owned())
    })
}

/// The answer to a CORS preflight (`OPTIONS`).
fn preflight(route: Route, cors: &CrossOrigin) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::from(""));
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&route.allow()) {
        headers.insert(header::ALLOW, value.clone());
        if matches!(cors, CrossOrigin::Allowed(_)) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, value);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type, idempotency-key"),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
    }
    response
}
