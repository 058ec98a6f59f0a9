//! The send routes' operations.

use serde_json::{Value, json};

use super::super::super::routes::contract::{
    BatchBody, BatchCancelled, BatchPage, NotificationBody, ScheduledBody, SentBody,
};
use super::super::super::routes::messages::{DEFAULT_LIMIT, MAX_LIMIT};
use super::*;
use crate::names::Permission;
use crate::requests::{BatchRequest, SendEmailRequest, SendNotificationRequest, SendSmsRequest};

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
        ..op(route, "post", id, summary, Access::Caller(Permission::Send))
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
                Access::Caller(Permission::Send),
            )
        }]
    }
}

pub(super) fn batch(schemas: &mut Schemas) -> Vec<Operation> {
    let validation = json!({
        "name": "Batch-Validation", "in": "header", "required": false,
        "description": "strict (the default): any invalid item is a 400 listing every one, and nothing is queued; permissive: the valid items are queued and the answer's errors list the others",
        "schema": {"type": "string", "enum": ["strict", "permissive"], "default": "strict"},
    });
    let example = json!({"items": [
        {"template": "appointmentReminder",
         "data": {"client_name": "Jane Doe", "appointment_date": "2030-03-14", "appointment_time": "09:30"},
         "to": {"email": "jane@example.com", "phone": "+15551234567"},
         "channels": ["sms", "email"], "strategy": "fallback"},
        {"type": "sms", "to": "+15557654321", "message": "Your statement is ready in the portal.", "category": "documents"}
    ]});
    vec![Operation {
        parameters: vec![idempotency_key(), validation],
        body: Some(json_body(schemas.request::<BatchRequest>(), example)),
        answers: vec![(
            202,
            json_answer(
                "Admitted: each item queued (sending starts at once, paced to the providers' rates), scheduled (sendAt or quiet hours), or withheld from the patient (suppressed, declined).",
                schemas.answer::<BatchBody>(),
                true,
            ),
        )],
        errors: SEND_ERRORS.to_vec(),
        ..op(
            Route::Batch,
            "post",
            "sendBatch",
            "Send up to 1,000 messages in one call, paced to the providers' rates",
            Access::Caller(Permission::Send),
        )
    }]
}

pub(super) fn batches(schemas: &mut Schemas) -> Vec<Operation> {
    let path = "/api/batches/{id}";
    let id = json!({
        "name": "id", "in": "path", "required": true,
        "description": "the batchId POST /api/batch answered",
        "schema": {"type": "string", "minLength": 1},
    });
    vec![
        Operation {
            path,
            parameters: vec![
                id.clone(),
                query("limit", "", limit(DEFAULT_LIMIT, MAX_LIMIT)),
                query(
                    "cursor",
                    "nextCursor of the page before",
                    json!({"type": "string"}),
                ),
            ],
            answers: vec![(
                200,
                json_answer(
                    "The batch, its messages counted by status, and a page of them.",
                    schemas.answer::<BatchPage>(),
                    false,
                ),
            )],
            errors: with(READ_ERRORS, &[404]),
            ..op(
                Route::Batches,
                "get",
                "getBatch",
                "A batch: its counts by status and its messages",
                Access::Caller(Permission::Read),
            )
        },
        Operation {
            path,
            parameters: vec![id],
            answers: vec![(
                200,
                json_answer(
                    "Cancelled what had not gone.",
                    schemas.answer::<BatchCancelled>(),
                    false,
                ),
            )],
            errors: with(READ_ERRORS, &[404]),
            ..op(
                Route::Batches,
                "delete",
                "cancelBatch",
                "Cancels every send of a batch that has not gone",
                Access::Caller(Permission::Send),
            )
        },
    ]
}
