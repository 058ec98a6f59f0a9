//! The other routes' operations: templates and previews, health, this description, the
//! webhooks and the dispatcher.

use serde_json::json;

use super::super::super::routes::contract::{
    AllParts, DispatchAnswer, HealthAnswer, SmsPreview, SnsAnswer, Templates,
};
use super::*;
use crate::templates::TemplateName;

pub(super) fn templates(schemas: &mut Schemas) -> Vec<Operation> {
    vec![Operation {
        answers: vec![(
            200,
            json_answer("The templates.", schemas.answer::<Templates>(), false),
        )],
        errors: vec![403, 405],
        ..op(
            Route::Templates,
            "get",
            "listTemplates",
            "The eight templates: channels, fields and sample data",
            Access::Anyone,
        )
    }]
}

pub(super) fn preview(schemas: &mut Schemas) -> Vec<Operation> {
    {
        let rendered = json!({
            "description": "The rendered template: text/html (format=html), text/plain with \
                the subject first (format=text), or JSON (format=sms or json).",
            "headers": request_id(),
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
                "application/json": {"schema": {"oneOf": [
                    schemas.answer::<SmsPreview>(),
                    schemas.answer::<AllParts>(),
                ]}},
            },
        });
        let format = query(
            "format",
            "what to render: the email's HTML, its text, its SMS (JSON, with segments), or \
             every part (JSON)",
            json!({"type": "string", "enum": ["html", "text", "sms", "json"], "default": "html"}),
        );
        let template = json!({
            "name": "template", "in": "query", "required": true,
            "schema": schemas.request::<TemplateName>(),
        });
        vec![
            Operation {
                parameters: vec![template.clone(), format.clone()],
                answers: vec![(200, rendered.clone())],
                errors: vec![400, 403, 404, 405],
                ..op(
                    Route::Preview,
                    "get",
                    "previewSample",
                    "Render a template with its sample data, without sending",
                    Access::Anyone,
                )
            },
            Operation {
                parameters: vec![template, format],
                body: Some(
                    json!({"required": true, "content": {"application/json": {"schema": {
                        "type": "object", "description": "the template's data (GET /api/templates lists its fields)",
                    }}}}),
                ),
                answers: vec![(200, rendered)],
                errors: vec![400, 403, 404, 405, 413, 415],
                ..op(
                    Route::Preview,
                    "post",
                    "previewData",
                    "Render a template with the posted data, without sending",
                    Access::Anyone,
                )
            },
        ]
    }
}

pub(super) fn health(schemas: &mut Schemas) -> Vec<Operation> {
    vec![Operation {
        answers: vec![(
            200,
            json_answer(
                "Always 200; status is degraded when something is misconfigured.",
                schemas.answer::<HealthAnswer>(),
                false,
            ),
        )],
        ..op(
            Route::Health,
            "get",
            "health",
            "Each channel's provider and mode, the version, and which safeguards are set (never a value)",
            Access::Anyone,
        )
    }]
}

pub(super) fn open_api(_: &mut Schemas) -> Vec<Operation> {
    vec![Operation {
        answers: vec![(
            200,
            json!({
                "description": "The OpenAPI 3.1 description of the API.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }),
        )],
        ..op(
            Route::OpenApi,
            "get",
            "openapi",
            "This description",
            Access::Anyone,
        )
    }]
}

pub(super) fn twilio_webhook(_: &mut Schemas) -> Vec<Operation> {
    vec![Operation {
        parameters: vec![json!({
            "name": "X-Twilio-Signature", "in": "header", "required": false,
            "schema": {"type": "string"},
        })],
        body: Some(
            json!({"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object",
                "properties": {
                    "MessageSid": {"type": "string"}, "MessageStatus": {"type": "string"},
                    "ErrorCode": {"type": "string"}, "To": {"type": "string"},
                    "From": {"type": "string"}, "OptOutType": {"type": "string"},
                },
                "additionalProperties": {"type": "string"},
            }}}}),
        ),
        answers: vec![(
            200,
            json!({
                "description": "Verified; empty TwiML.",
                "headers": request_id(),
                "content": {"text/xml": {"schema": {"type": "string"}}},
            }),
        )],
        errors: vec![400, 403, 405, 413],
        ..op(
            Route::TwilioWebhook,
            "post",
            "twilioWebhook",
            "Twilio's status callbacks (and inbound STOP), verified by X-Twilio-Signature against NOTIFY_PUBLIC_URL",
            Access::Anyone,
        )
    }]
}

pub(super) fn ses_webhook(schemas: &mut Schemas) -> Vec<Operation> {
    vec![Operation {
        body: Some(json!({"required": true, "content": {
            "text/plain": {"schema": {"type": "string", "description": "the SNS message, JSON"}},
            "application/json": {"schema": {"type": "object"}},
        }})),
        answers: vec![(
            200,
            json_answer("Verified.", schemas.answer::<SnsAnswer>(), false),
        )],
        errors: vec![400, 403, 405, 413, 502],
        ..op(
            Route::SesWebhook,
            "post",
            "sesWebhook",
            "SES events by way of SNS (signature versions 1 and 2), and SNS subscription confirmations",
            Access::Anyone,
        )
    }]
}

pub(super) fn dispatch(schemas: &mut Schemas) -> Vec<Operation> {
    vec![Operation {
        answers: vec![(
            200,
            json_answer(
                "What this call did; `more` when work was left for the next call.",
                schemas.answer::<DispatchAnswer>(),
                false,
            ),
        )],
        errors: vec![401, 405, 503],
        ..op(
            Route::Dispatch,
            "get",
            "dispatch",
            "The dispatcher: sends the scheduled sends that are due, forwards the delivery events that are due and removes what has outlived its retention (Vercel Cron calls it every minute)",
            Access::Cron,
        )
    }]
}
