//! The API's routes: each is one Vercel function under `api/`, with its path, methods and
//! handler.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Response, request::Parts};

use super::ResponseBody;
use crate::app::{AfterAnswer, App, RequestContext};
use crate::domain::Caller;
use crate::error::Error;
use crate::support::BoxFuture;

/// The one table of routes: from it come the `Route` enum, each route's path, function file,
/// methods and handler, the local server's routing and the list the contract test checks
/// against `Cargo.toml`, `vercel.json`, `docs/openapi.json` and the README.
macro_rules! routes {
    ($($(#[$doc:meta])* $route:ident: $path:expr, $file:literal, [$($method:ident),+], $endpoint:ident;)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Route {
            $($(#[$doc])* $route,)+
        }

        impl Route {
            pub const ALL: &[Route] = &[$(Route::$route),+];

            pub fn path(self) -> &'static str {
                match self {
                    $(Self::$route => $path,)+
                }
            }

            /// The Vercel function that serves it, below the project's root.
            pub fn file(self) -> &'static str {
                match self {
                    $(Self::$route => $file,)+
                }
            }

            pub fn methods(self) -> &'static [Method] {
                match self {
                    $(Self::$route => &[$(Method::$method),+],)+
                }
            }

            /// The name of its endpoint in `http::routes`, which its function file serves.
            pub fn endpoint_name(self) -> &'static str {
                match self {
                    $(Self::$route => stringify!($endpoint),)+
                }
            }

            /// The route with its handler. Only the local server, which serves every route,
            /// asks for them all; each function binary names its own endpoint, so it links no
            /// other handler.
            pub fn endpoint(self) -> Endpoint {
                match self {
                    $(Self::$route => super::routes::$endpoint,)+
                }
            }
        }
    };
}

routes! {
    SendEmail: "/api/send-email", "api/send-email.rs", [POST], SEND_EMAIL;
    SendSms: "/api/send-sms", "api/send-sms.rs", [POST], SEND_SMS;
    SendNotification: "/api/send-notification", "api/send-notification.rs", [POST], SEND_NOTIFICATION;
    /// Up to 1,000 sends in one call, paced to the providers' rates.
    Batch: "/api/batch", "api/batch.rs", [POST], BATCH;
    /// `/api/batches/{id}` below it: a batch's counts and messages (GET), cancelled (DELETE).
    Batches: "/api/batches", "api/batches.rs", [GET, DELETE], BATCHES;
    Templates: "/api/templates", "api/templates.rs", [GET], TEMPLATES;
    Preview: "/api/preview", "api/preview.rs", [GET, POST], PREVIEW;
    Health: "/api/health", "api/health.rs", [GET], HEALTH;
    OpenApi: "/api/openapi", "api/openapi.rs", [GET], OPENAPI;
    TwilioWebhook: crate::app::TWILIO_WEBHOOK_PATH, "api/webhooks/twilio.rs", [POST], TWILIO_WEBHOOK;
    SesWebhook: crate::app::SES_WEBHOOK_PATH, "api/webhooks/ses.rs", [POST], SES_WEBHOOK;
    /// `/api/messages`, and `/api/messages/{id}` below it: reads the log, cancels (DELETE) and
    /// moves (PATCH) a scheduled message.
    Messages: "/api/messages", "api/messages.rs", [GET, DELETE, PATCH], MESSAGES;
    MessageStats: "/api/messages/stats", "api/messages/stats.rs", [GET], MESSAGE_STATS;
    Audit: "/api/audit", "api/audit.rs", [GET], AUDIT;
    Events: "/api/events", "api/events.rs", [GET], EVENTS;
    /// `/api/suppressions`, and `/api/suppressions/{id}` below it: the suppression list.
    Suppressions: "/api/suppressions", "api/suppressions.rs", [GET, POST, DELETE], SUPPRESSIONS;
    /// A patient's choices per category and channel, and SMS consent.
    Preferences: "/api/preferences", "api/preferences.rs", [GET, PATCH], PREFERENCES;
    /// One-click unsubscribe: the link in an email's `List-Unsubscribe` header.
    Unsubscribe: crate::app::UNSUBSCRIBE_PATH, "api/unsubscribe.rs", [GET, POST], UNSUBSCRIBE;
    /// The dispatcher, called by a scheduler.
    Dispatch: "/api/cron/dispatch", "api/cron/dispatch.rs", [GET], DISPATCH;
}

impl Route {
    /// The function's binary (its `[[bin]]` name): its file's path below `api/`, `-` for `/`.
    pub fn binary(self) -> String {
        let file = self.file();
        file["api/".len()..file.len() - ".rs".len()].replace('/', "-")
    }

    /// Whether its function uses the store (and so connects it as it starts).
    pub fn uses_store(self) -> bool {
        !matches!(self, Self::Templates | Self::Preview | Self::OpenApi)
    }

    /// The `Allow` header value: the route's methods and `OPTIONS` (CORS preflights).
    pub(super) fn allow(self) -> String {
        let mut methods: Vec<&str> = self.methods().iter().map(Method::as_str).collect();
        methods.push("OPTIONS");
        methods.join(", ")
    }

    /// The route of a request path; a trailing slash is tolerated. `/api/messages/{id}` is
    /// the messages route's, `/api/suppressions/{id}` the suppressions route's,
    /// `/api/batches/{id}` the batches route's.
    pub fn from_path(path: &str) -> Option<Route> {
        let path = path.strip_suffix('/').unwrap_or(path);
        Self::ALL
            .iter()
            .copied()
            .find(|route| route.path() == path)
            .or_else(|| path.starts_with("/api/messages/").then_some(Self::Messages))
            .or_else(|| {
                path.starts_with("/api/suppressions/")
                    .then_some(Self::Suppressions)
            })
            .or_else(|| path.starts_with("/api/batches/").then_some(Self::Batches))
    }
}

/// A request as a handler gets it: the head, and the body read whole (at most
/// [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES)).
#[derive(Debug)]
pub struct Incoming {
    pub parts: Parts,
    pub body: Bytes,
}

/// A handler's answer, and any work to run once it has been sent.
pub struct Reply {
    pub response: Response<ResponseBody>,
    pub after_answer: Option<AfterAnswer>,
}

impl From<Response<ResponseBody>> for Reply {
    fn from(response: Response<ResponseBody>) -> Self {
        Self {
            response,
            after_answer: None,
        }
    }
}

/// A route's handler. It gets the process's `App` shared, so that work left for after the
/// answer (a batch's sends) can hold it.
pub type Handler =
    for<'a> fn(&'a Arc<App>, Incoming, &'a RequestContext) -> BoxFuture<'a, Result<Reply, Error>>;

/// Checks who is calling before the body is read (credentials with the permission the method
/// needs, where a send could reach a patient or the message log may hold real messages), and
/// names the caller as limits count it.
pub type CallerCheck = fn(&App, &Method, &http::HeaderMap) -> Result<Caller, Error>;

/// A route and the function that answers it.
#[derive(Clone, Copy)]
pub struct Endpoint {
    pub route: Route,
    /// Set on the routes that send or read the message log: a function that does neither
    /// never links the credential checks (JWT verification brings in every algorithm's code).
    pub(super) caller_check: Option<CallerCheck>,
    pub(super) handler: Handler,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Endpoint").field(&self.route).finish()
    }
}
