//! The API's routes: each is one Vercel function under `api/`, with its path, methods and
//! handler.

use bytes::Bytes;
use http::{Method, Response, request::Parts};

use super::ResponseBody;
use crate::app::{AfterAnswer, App, RequestContext};
use crate::error::Error;
use crate::support::BoxFuture;

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
    /// `/api/messages`, and `/api/messages/{id}` below it.
    Messages,
    MessageStats,
    Audit,
    Events,
    /// The dispatcher, called by a scheduler.
    Dispatch,
}

impl Route {
    pub const ALL: [Route; 14] = [
        Route::SendEmail,
        Route::SendSms,
        Route::SendNotification,
        Route::Templates,
        Route::Preview,
        Route::Health,
        Route::OpenApi,
        Route::TwilioWebhook,
        Route::SesWebhook,
        Route::Messages,
        Route::MessageStats,
        Route::Audit,
        Route::Events,
        Route::Dispatch,
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
            Self::TwilioWebhook => crate::app::TWILIO_WEBHOOK_PATH,
            Self::SesWebhook => crate::app::SES_WEBHOOK_PATH,
            Self::Messages => "/api/messages",
            Self::MessageStats => "/api/messages/stats",
            Self::Audit => "/api/audit",
            Self::Events => "/api/events",
            Self::Dispatch => "/api/cron/dispatch",
        }
    }

    pub(super) fn methods(self) -> &'static [Method] {
        match self {
            Self::SendEmail
            | Self::SendSms
            | Self::SendNotification
            | Self::TwilioWebhook
            | Self::SesWebhook => &[Method::POST],
            Self::Templates
            | Self::Health
            | Self::OpenApi
            | Self::MessageStats
            | Self::Audit
            | Self::Events
            | Self::Dispatch => &[Method::GET],
            // Reads the log; cancels (DELETE) and moves (PATCH) a scheduled message.
            Self::Messages => &[Method::GET, Method::DELETE, Method::PATCH],
            Self::Preview => &[Method::GET, Method::POST],
        }
    }

    /// The `Allow` header value: the route's methods and `OPTIONS` (CORS preflights).
    pub(super) fn allow(self) -> String {
        let mut methods: Vec<&str> = self.methods().iter().map(Method::as_str).collect();
        methods.push("OPTIONS");
        methods.join(", ")
    }

    /// The route of a request path; a trailing slash is tolerated. `/api/messages/{id}` is
    /// the messages route's.
    pub fn from_path(path: &str) -> Option<Route> {
        let path = path.strip_suffix('/').unwrap_or(path);
        Self::ALL
            .into_iter()
            .find(|route| route.path() == path)
            .or_else(|| path.starts_with("/api/messages/").then_some(Self::Messages))
    }

    /// The route with its handler. Only the local server, which serves every route, asks for
    /// them all; each function binary names its own endpoint, so it links no other handler.
    pub fn endpoint(self) -> Endpoint {
        use super::routes;
        match self {
            Self::SendEmail => routes::SEND_EMAIL,
            Self::SendSms => routes::SEND_SMS,
            Self::SendNotification => routes::SEND_NOTIFICATION,
            Self::Templates => routes::TEMPLATES,
            Self::Preview => routes::PREVIEW,
            Self::Health => routes::HEALTH,
            Self::OpenApi => routes::OPENAPI,
            Self::TwilioWebhook => routes::TWILIO_WEBHOOK,
            Self::SesWebhook => routes::SES_WEBHOOK,
            Self::Messages => routes::MESSAGES,
            Self::MessageStats => routes::MESSAGE_STATS,
            Self::Audit => routes::AUDIT,
            Self::Events => routes::EVENTS,
            Self::Dispatch => routes::DISPATCH,
        }
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

pub type Handler =
    for<'a> fn(&'a App, Incoming, &'a RequestContext) -> BoxFuture<'a, Result<Reply, Error>>;

/// Checks who is calling before the body is read (credentials where a send could reach a
/// patient, or where the message log may hold real messages), and names the caller as limits
/// count it.
pub type CallerCheck = fn(&App, &http::HeaderMap) -> Result<String, Error>;

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
