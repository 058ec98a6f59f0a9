//! `POST /api/webhooks/twilio` and `/api/webhooks/ses`: delivery events, verified by the service
//! before they are believed; forwarding them is left for after the answer.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;

use super::super::response;
use super::super::route::{Endpoint, Incoming, Reply, Route};
use crate::app::{App, RequestContext, SnsOutcome};
use crate::error::{Error, FieldError};

pub const TWILIO_WEBHOOK: Endpoint = Endpoint {
    route: Route::TwilioWebhook,
    caller_check: None,
    handler: |app, incoming, context| Box::pin(twilio(app, incoming, context)),
};

pub const SES_WEBHOOK: Endpoint = Endpoint {
    route: Route::SesWebhook,
    caller_check: None,
    handler: |app, incoming, context| Box::pin(ses(app, incoming, context)),
};

/// Twilio's status callbacks (form-encoded), answered with empty TwiML once verified, so that
/// an inbound STOP needs no reply either.
async fn twilio(app: &App, incoming: Incoming, context: &RequestContext) -> Result<Reply, Error> {
    let signature = incoming
        .parts
        .headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    let params: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&incoming.body).map_err(|_| {
            Error::invalid_fields(vec![FieldError::new(
                "body",
                "is not form-encoded parameters",
            )])
        })?;
    let received = app
        .receive_twilio(&params, signature, incoming.parts.uri.query(), context)
        .await?;
    Ok(Reply {
        response: response::with_type(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#,
            "text/xml; charset=utf-8",
        ),
        after_answer: received.after_answer,
    })
}

/// SNS messages (sent as `text/plain`) carrying SES events.
async fn ses(app: &App, incoming: Incoming, context: &RequestContext) -> Result<Reply, Error> {
    let received = app.receive_sns(&incoming.body, context).await?;
    let (confirmed, events) = match received.outcome {
        SnsOutcome::Confirmed => (Some(true), None),
        SnsOutcome::Unsubscribed => (None, None),
        SnsOutcome::Events(n) => (None, Some(n)),
    };
    let answer = SnsAnswer {
        success: true,
        confirmed,
        events,
    };
    Ok(Reply {
        response: response::json(&context.request_id, StatusCode::OK, &answer),
        after_answer: received.after_answer,
    })
}

/// What an SNS message did: a subscription confirmed, or how many SES events it carried.
#[derive(Serialize, JsonSchema)]
pub(in crate::http) struct SnsAnswer {
    #[schemars(extend("const" = true))]
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("const" = true))]
    confirmed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<usize>,
}
