//! The send routes' operations.

use serde_json::{Value, json};

use super::super::super::routes::contract::{NotificationBody, ScheduledBody, SentBody};
use super::*;
use crate::requests::{SendEmailRequest, SendNotificationRequest, SendSmsRequest};

pub(super) fn send_email(schemas: &mut Schemas) -> Vec<Operation> {
    let request = schemas.request::<SendEmailRequest>();
    let example = json!({"to": "test@example.com", "subject": "Test Email",
                         "body": "This is a test email from ClinicalCanvas EHR"});
    let summary = "Send one email through AWS SES v2 (logged in demo mode)";
    one_message(
        Route::SendEmail,
        "sendEmail",
        summary,
        request,
        example,
        schemas,
    )
}

pub(super) fn send_sms(schemas: &mut Schemas) -> Vec<Operation> {
    let request = schemas.request::<SendSmsRequest>();
    let example = json!({"to": "+15551234567", "message": "Test SMS from ClinicalCanvas"});
    let summary = "Send one SMS through Twilio (logged in demo mode)";
    one_message(
        Route::SendSms,
        "sendSms",
        summary,
        request,
        example,
        schemas,
    )
}

/// A route that sends one message: sent (200) or scheduled (202).
fn one_message(
    route: Route,
    id: &'static str,
    summary: &'static str,
    request: Value,
    example: Value,
    schemas: &mut Schemas,
) -> Vec<Operation> {
    let sent = "Sent (or logged in demo mode).";
    vec![Operation {
        parameters: vec![idempotency_key()],
        body: Some(json_body(request, example)),
        answers: vec![
            (200, json_answer(sent, schemas.answer::<SentBody>(), true)),
            (
                202,
                json_answer(SCHEDULED, schemas.answer::<ScheduledBody>(), false),
            ),
        ],
        errors: SEND_ERRORS.to_vec(),
        ..op(route, "post", id, summary, Access::Caller)
    }]
}

pub(super) fn send_notification(schemas: &mut Schemas) -> Vec<Operation> {
    {
        let result = schemas.answer::<NotificationBody>();
        let errors = with(SEND_ERRORS, &[404]);
        vec![Operation {
            parameters: vec![idempotency_key()],
            body: Some(json_body(
                schemas.request::<SendNotificationRequest>(),
                json!({"template": "paymentReceived",
                       "data": {"client_name": "John Doe", "invoice_number": "INV-123", "total_amount": 100.0},
                       "to": {"email": "john@example.com", "phone": "+15551234567"}}),
            )),
            answers: vec![
                (
                    200,
                    json_answer("Every requested channel succeeded.", result.clone(), true),
                ),
                (
                    202,
                    json_answer(SCHEDULED, schemas.answer::<ScheduledBody>(), false),
                ),
                (
                    207,
                    json_answer(
                        "One channel succeeded and the other failed (code partially_sent).",
                        result,
                        true,
                    ),
                ),
            ],
            errors,
            ..op(
                Route::SendNotification,
                "post",
                "sendNotification",
                "Send one of the eight templates by email and/or SMS",
                Access::Caller,
            )
        }]
    }
}
