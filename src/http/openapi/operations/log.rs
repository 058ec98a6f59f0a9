//! The message log's operations: the log, its counts, the events and the audit trail.

use serde_json::json;

use super::super::super::routes::contract::{
    Cancelled, EventPage, One, Page, ScheduledBody, StatsBody, audit, events, messages,
};
use super::*;
use crate::error::ErrorCode;
use crate::names::Permission;
use crate::names::{Category, Channel, ExportFormat, MessageStatus};
use crate::requests::RescheduleRequest;
use crate::templates::TemplateName;

pub(super) fn messages(schemas: &mut Schemas) -> Vec<Operation> {
    {
        let item = "/api/messages/{id}";
        let id = json!({
            "name": "id", "in": "path", "required": true,
            "description": "this API's id (msg_...) or the provider's message id",
            "schema": {"type": "string", "minLength": 1},
        });
        let mut list = vec![
            query("channel", "", schemas.request::<Channel>()),
            query(
                "status",
                "the latest status",
                schemas.request::<MessageStatus>(),
            ),
            query("template", "", schemas.request::<TemplateName>()),
            query(
                "recipient",
                "a full email address or E.164 number; hashed on the server, never stored",
                json!({"type": "string"}),
            ),
            query(
                "batch",
                "the messages of one batch (POST /api/batch)",
                json!({"type": "string", "pattern": "^bat_"}),
            ),
            query("category", "", schemas.request::<Category>()),
            query(
                "everFailed",
                "only messages that failed or bounced at some point, whatever their latest status",
                json!({"type": "string", "enum": ["true", "false"]}),
            ),
            query(
                "errorCode",
                "the error code the message was recorded with",
                json!({"type": "string", "enum": ErrorCode::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>()}),
            ),
            query(
                "idempotencyKey",
                "the Idempotency-Key of the send",
                json!({"type": "string", "minLength": 1, "maxLength": 255}),
            ),
            query(
                "providerMessageId",
                "the provider's id for the message",
                json!({"type": "string", "minLength": 1, "maxLength": 255}),
            ),
        ];
        list.extend(since_until("created"));
        list.push(query(
            "limit",
            "",
            limit(messages::DEFAULT_LIMIT, messages::MAX_LIMIT),
        ));
        list.push(query(
            "cursor",
            "nextCursor of the page before",
            json!({"type": "string"}),
        ));
        list.push(query(
            "format",
            "csv: every matching message (up to 10,000, newest first; x-next-cursor when more) as a CSV file, cells a spreadsheet would run as formulas neutralised",
            schemas.request::<ExportFormat>(),
        ));
        vec![
            Operation {
                parameters: list,
                answers: vec![(200, {
                    let mut page = json_answer(
                        "A page of the log, newest first; with format=csv, the matching messages as CSV.",
                        schemas.answer::<Page>(),
                        false,
                    );
                    page["content"]["text/csv"] = json!({"schema": {"type": "string"}});
                    page["headers"]["x-next-cursor"] = json!({
                        "description": "CSV only: present when more messages match; pass it as cursor",
                        "schema": {"type": "string"},
                    });
                    page
                })],
                errors: READ_ERRORS.to_vec(),
                ..op(
                    Route::Messages,
                    "get",
                    "listMessages",
                    "The message log, newest first, filtered, by cursor",
                    Access::Caller(Permission::Read),
                )
            },
            Operation {
                path: item,
                parameters: vec![id.clone()],
                answers: vec![(
                    200,
                    json_answer(
                        "The message and its delivery events.",
                        schemas.answer::<One>(),
                        false,
                    ),
                )],
                errors: with(READ_ERRORS, &[404]),
                ..op(
                    Route::Messages,
                    "get",
                    "getMessage",
                    "One message with its delivery events, by this API's id or the provider's",
                    Access::Caller(Permission::Read),
                )
            },
            Operation {
                path: item,
                parameters: vec![id.clone()],
                answers: vec![(
                    200,
                    json_answer("Cancelled.", schemas.answer::<Cancelled>(), false),
                )],
                errors: with(READ_ERRORS, &[404, 409]),
                ..op(
                    Route::Messages,
                    "delete",
                    "cancelMessage",
                    "Cancels a scheduled message: it is never sent, and its content is deleted",
                    Access::Caller(Permission::Send),
                )
            },
            Operation {
                path: item,
                parameters: vec![id],
                body: Some(json_body(
                    schemas.request::<RescheduleRequest>(),
                    json!({"sendAt": "2030-01-02T15:00:00Z"}),
                )),
                answers: vec![(
                    200,
                    json_answer("Moved.", schemas.answer::<ScheduledBody>(), false),
                )],
                errors: with(READ_ERRORS, &[404, 409, 415]),
                ..op(
                    Route::Messages,
                    "patch",
                    "rescheduleMessage",
                    "Moves a scheduled message to a new sendAt",
                    Access::Caller(Permission::Send),
                )
            },
        ]
    }
}

pub(super) fn message_stats(schemas: &mut Schemas) -> Vec<Operation> {
    vec![Operation {
        parameters: since_until("created"),
        answers: vec![(
            200,
            json_answer("The counts.", schemas.answer::<StatsBody>(), false),
        )],
        errors: READ_ERRORS.to_vec(),
        ..op(
            Route::MessageStats,
            "get",
            "messageStats",
            "Counts by channel and status, and by template",
            Access::Caller(Permission::Read),
        )
    }]
}

pub(super) fn audit(_: &mut Schemas) -> Vec<Operation> {
    {
        let mut parameters = since_until("written");
        parameters.push(query(
            "cursor",
            "x-next-cursor of the page before",
            json!({"type": "string", "pattern": "^[0-9]+$"}),
        ));
        parameters.push(query(
            "limit",
            "",
            limit(audit::DEFAULT_LIMIT, audit::MAX_LIMIT),
        ));
        vec![Operation {
            parameters,
            answers: vec![(
                200,
                json!({
                    "description": "The audit trail as JSON lines (one audit event per line, oldest \
                        first): every send attempt, delivery event and refused webhook, with \
                        recipients only as a keyed hash and a masked form.",
                    "headers": {
                        "x-request-id": {"$ref": "#/components/headers/RequestId"},
                        "x-next-cursor": {
                            "description": "present when there is a next page: pass it as cursor",
                            "schema": {"type": "string"},
                        },
                    },
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                }),
            )],
            errors: READ_ERRORS.to_vec(),
            ..op(
                Route::Audit,
                "get",
                "exportAudit",
                "The audit trail as JSON lines, for a compliance review (API keys only)",
                Access::ApiKey,
            )
        }]
    }
}

pub(super) fn events(schemas: &mut Schemas) -> Vec<Operation> {
    vec![Operation {
        parameters: vec![
            query(
                "after",
                "the id (data.id) of the last event already had; without it, from the oldest kept",
                json!({"type": "string"}),
            ),
            query("limit", "", limit(events::DEFAULT_LIMIT, events::MAX_LIMIT)),
        ],
        answers: vec![(
            200,
            json_answer(
                "The events after `after`, oldest first.",
                schemas.answer::<EventPage>(),
                false,
            ),
        )],
        errors: READ_ERRORS.to_vec(),
        ..op(
            Route::Events,
            "get",
            "listEvents",
            "Delivery events in the order they were kept, each as forwarded: to catch up after an outage",
            Access::Caller(Permission::Read),
        )
    }]
}
