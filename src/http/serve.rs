//! Serving: one route as a Vercel function (`vercel_runtime`, with its `waitUntil` for the work
//! left after an answer), or every route on one local port for `cargo run`. A panic in a
//! handler ends that request only, answered with a JSON 500 carrying its request id.

use std::convert::Infallible;
use std::sync::Arc;

use http::{HeaderValue, Request, Response};

use super::pipeline::{answer, request_id};
use super::route::{Endpoint, Route};
use super::{ResponseBody, response};
use crate::app::{AfterAnswer, App};
use crate::error::{Error, ErrorCode};

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
/// as Vercel only sends this function its own requests. Only `endpoint`'s handler is reached,
/// so the binary links no other route's code and builds only the senders it uses.
///
/// It runs on tokio's current-thread runtime, built here so that every function shares the
/// choice: a send spends its time waiting on the provider, and handing each request between
/// worker threads cost more CPU than the request itself (about half of a warm send's CPU at 32
/// concurrent requests, BENCHMARKS.md). Requests still run concurrently, each in a task of its
/// own.
pub fn serve_function(endpoint: Endpoint) -> Result<(), vercel_runtime::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            init_logging();
            let app = Arc::new(App::from_env());
            if endpoint.route.uses_store() {
                // Overlapped with the runtime's start and its wait for the first request.
                let app = Arc::clone(&app);
                tokio::spawn(async move { app.connect_store_ahead().await });
            }
            vercel_runtime::run(vercel_runtime::service_fn(
                move |request: vercel_runtime::Request, state: vercel_runtime::AppState| {
                    let app = Arc::clone(&app);
                    async move {
                        let (response, after_answer) = isolated(app, endpoint, request).await;
                        if let Some(work) = after_answer {
                            // Keeps the invocation alive until the work ends.
                            state.wait_until(work);
                        }
                        response
                    }
                },
            ))
            .await
        })
}

/// The answer in a task of its own, so that a panic (a bug) answers that one request with a
/// JSON 500 instead of taking down the connection or the process, which serves other requests
/// at the same time under Vercel's Fluid compute.
async fn isolated(
    app: Arc<App>,
    endpoint: Endpoint,
    request: Request<hyper::body::Incoming>,
) -> (Response<ResponseBody>, Option<AfterAnswer>) {
    let id = request_id(request.headers());
    let task_id = id.clone();
    match tokio::spawn(async move { answer(&app, endpoint, request, task_id).await }).await {
        Ok(answered) => answered,
        Err(_) => {
            let bug = Error::new(
                ErrorCode::InternalError,
                "The request failed because of a bug in the notification API; it has been logged.",
            );
            let mut response = response::error(&id, &bug);
            response::set_request_id(&mut response, &id);
            (response, None)
        }
    }
}

/// Serves every route on `127.0.0.1:port`, for local development (`cargo run`). The handlers
/// are the functions' own.
pub async fn serve_all(port: u16) -> std::io::Result<()> {
    init_logging();
    let app = Arc::new(App::from_env());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let (email, sms) = super::health::modes(&app);
    tracing::info!(
        email = %email,
        sms = %sms,
        "notification API listening on http://127.0.0.1:{port}"
    );
    if let Some(every) = app.config().dispatch.local_interval {
        tokio::spawn(dispatch_every(Arc::clone(&app), every));
    }
    loop {
        let (stream, peer) = listener.accept().await?;
        let app = Arc::clone(&app);
        let peer_ip = HeaderValue::from_str(&peer.ip().to_string()).ok();
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
                                let (response, after_answer) =
                                    isolated(app, route.endpoint(), request).await;
                                if let Some(work) = after_answer {
                                    tokio::spawn(work);
                                }
                                response
                            }
                            None => super::pages::page(&path).unwrap_or_else(|| not_found(&path)),
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

/// What Vercel Cron does for a deployment, done in-process for `cargo run`: the same dispatcher,
/// every `NOTIFY_DISPATCH_INTERVAL_SECONDS`, so retries and retention can be tried locally.
async fn dispatch_every(app: Arc<App>, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(failed) = app.dispatch().await {
            tracing::warn!(code = %failed.code.as_str(), "the local dispatcher will try again");
        }
    }
}

fn not_found(path: &str) -> Response<ResponseBody> {
    let routes: Vec<&str> = Route::ALL.iter().map(|r| r.path()).collect();
    let id = crate::support::new_id();
    let mut response = response::error(
        &id,
        &Error::new(
            ErrorCode::NotFound,
            format!(
                "There is no route {path:?}. The routes are {}.",
                routes.join(", ")
            ),
        ),
    );
    response::set_request_id(&mut response, &id);
    response
}
