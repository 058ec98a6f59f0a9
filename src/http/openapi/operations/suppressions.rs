//! The operations that decide who is reached: the suppression list, patients' choices.

use serde_json::json;

use super::super::super::routes::contract::{
    OneSuppression, PreferencesAnswer, SuppressionPage, suppressions,
};
use super::*;
use crate::names::Permission;
use crate::names::{Channel, SuppressionReason};
use crate::requests::{LiftRequest, PreferencesRequest, SuppressRequest};

pub(super) fn unsubscribe(_: &mut Schemas) -> Vec<Operation> {
    let token = query(
        "token",
        "the signed token of the email's link",
        json!({"type": "string", "minLength": 1}),
    );
    let page = |description: &str| {
        json!({
            "description": description,
            "headers": request_id(),
            "content": {"text/html": {"schema": {"type": "string"}}},
        })
    };
    vec![
        Operation {
            parameters: vec![token.clone()],
            answers: vec![(200, page("A page with one button; nothing changes."))],
            errors: vec![400, 403, 405],
            ..op(
                Route::Unsubscribe,
                "get",
                "unsubscribePage",
                "The unsubscribe link as a person (or a link scanner) opens it: a page, no change",
                Access::Anyone,
            )
        },
        Operation {
            parameters: vec![token],
            body: Some(json!({"required": false, "content": {
                "application/x-www-form-urlencoded": {"schema": {"type": "object",
                    "properties": {"List-Unsubscribe": {"const": "One-Click"}}}},
            }})),
            answers: vec![(200, page("Unsubscribed (again changes nothing)."))],
            errors: vec![400, 403, 405, 503],
            ..op(
                Route::Unsubscribe,
                "post",
                "unsubscribeOneClick",
                "One-click unsubscribe (RFC 8058): the category off on the channel, before it answers",
                Access::Anyone,
            )
        },
    ]
}

pub(super) fn preferences(schemas: &mut Schemas) -> Vec<Operation> {
    let answer = |schemas: &mut Schemas| {
        json_answer(
            "Every category on each channel given: the patient's choice, or the practice's default.",
            schemas.answer::<PreferencesAnswer>(),
            false,
        )
    };
    vec![
        Operation {
            parameters: vec![
                query(
                    "email",
                    "the patient's address; hashed on the server, never stored",
                    json!({"type": "string"}),
                ),
                query(
                    "phone",
                    "the patient's E.164 number; hashed on the server, never stored",
                    json!({"type": "string"}),
                ),
            ],
            answers: vec![(200, answer(schemas))],
            errors: READ_ERRORS.to_vec(),
            ..op(
                Route::Preferences,
                "get",
                "getPreferences",
                "A patient's choices per category and channel, and SMS consent (email, phone or both; or the patient a Patient-Link names)",
                Access::CallerOrPatient(Permission::Read),
            )
        },
        Operation {
            body: Some(json_body(
                schemas.request::<PreferencesRequest>(),
                json!({"phone": "+15551234567", "preferences": [{"category": "care_reminders", "channel": "sms", "enabled": false}]}),
            )),
            answers: vec![(200, answer(schemas))],
            errors: with(READ_ERRORS, &[415, 422]),
            ..op(
                Route::Preferences,
                "patch",
                "changePreferences",
                "Turns categories on or off per channel (a required one keeps a channel on), records SMS consent",
                Access::CallerOrPatient(Permission::Manage),
            )
        },
    ]
}

pub(super) fn suppressions(schemas: &mut Schemas) -> Vec<Operation> {
    let item = "/api/suppressions/{id}";
    let id = json!({
        "name": "id", "in": "path", "required": true,
        "description": "the entry's id (sup_...)",
        "schema": {"type": "string", "minLength": 1},
    });
    let one = |schemas: &mut Schemas, description: &str| {
        json_answer(description, schemas.answer::<OneSuppression>(), false)
    };
    let list = vec![
        query("channel", "", schemas.request::<Channel>()),
        query("reason", "", schemas.request::<SuppressionReason>()),
        query(
            "recipient",
            "a full email address or E.164 number; hashed on the server, never stored",
            json!({"type": "string"}),
        ),
        query(
            "since",
            "added at or after (RFC 3339 with an offset)",
            date_time(),
        ),
        query(
            "active",
            "true: only the entries in force; false: only the lifted ones",
            json!({"type": "boolean"}),
        ),
        query(
            "inferred",
            "true: only the opt-outs read from a patient's plain words, for staff to review",
            json!({"type": "boolean"}),
        ),
        query(
            "limit",
            "",
            limit(suppressions::DEFAULT_LIMIT, suppressions::MAX_LIMIT),
        ),
        query(
            "cursor",
            "nextCursor of the page before",
            json!({"type": "string"}),
        ),
    ];
    vec![
        Operation {
            parameters: list,
            answers: vec![(
                200,
                json_answer(
                    "A page of the list, newest first.",
                    schemas.answer::<SuppressionPage>(),
                    false,
                ),
            )],
            errors: READ_ERRORS.to_vec(),
            ..op(
                Route::Suppressions,
                "get",
                "listSuppressions",
                "The suppression list, newest first, filtered, by cursor",
                Access::Caller(Permission::Read),
            )
        },
        Operation {
            body: Some(json_body(
                schemas.request::<SuppressRequest>(),
                json!({"to": "patient@example.com", "reason": "unsubscribed"}),
            )),
            answers: vec![
                (
                    200,
                    one(
                        schemas,
                        "The recipient was on the list already: the entry in force.",
                    ),
                ),
                (201, one(schemas, "Added.")),
            ],
            errors: with(READ_ERRORS, &[415]),
            ..op(
                Route::Suppressions,
                "post",
                "addSuppression",
                "Puts a recipient on the suppression list by hand (for every category, or one)",
                Access::Caller(Permission::Manage),
            )
        },
        Operation {
            path: item,
            parameters: vec![id.clone()],
            answers: vec![(200, one(schemas, "The entry, in force or lifted."))],
            errors: with(READ_ERRORS, &[404]),
            ..op(
                Route::Suppressions,
                "get",
                "getSuppression",
                "One entry of the suppression list",
                Access::Caller(Permission::Read),
            )
        },
        Operation {
            path: item,
            body: Some(json!({"required": false, "content": {"application/json": {
                "schema": schemas.request::<LiftRequest>(),
                "example": {"email": "patient@example.com"},
            }}})),
            parameters: vec![
                id,
                query(
                    "force",
                    "true to lift a complaint (only with the patient's word)",
                    json!({"type": "boolean", "default": false}),
                ),
            ],
            answers: vec![(
                200,
                one(
                    schemas,
                    "Lifted (kept on record with liftedAt), or lifted already.",
                ),
            )],
            errors: with(READ_ERRORS, &[404, 409, 415]),
            ..op(
                Route::Suppressions,
                "delete",
                "liftSuppression",
                "Lifts an entry: never a patient's STOP (only their START), a complaint only with force",
                Access::Caller(Permission::Manage),
            )
        },
    ]
}
