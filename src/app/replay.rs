//! A replayed send (its `Idempotency-Key` seen again) in the audit trail: one line per message
//! the first answer named, so a message's story shows that it was asked for again and answered
//! without sending twice.

use serde::Serialize;

use super::{App, RequestContext};
use crate::names::AuditKind;
use crate::store::StoredAnswer;
use crate::support::now_rfc3339;

/// A replay, as its audit line says.
#[derive(Serialize)]
struct Replayed<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    /// `idempotent_replay`.
    event: AuditKind,
    time: String,
    request_id: &'a str,
    /// The message's id in the log.
    id: &'a str,
    caller: String,
    idempotency_key: Option<&'a str>,
}

impl App {
    /// Writes the replay of `answer` into the audit trail. The answer is given whatever
    /// happens here: a store that fails is logged, not answered.
    pub(super) async fn audit_replay(&self, answer: &StoredAnswer, context: &RequestContext) {
        let Ok(body) = serde_json::from_str::<serde_json::Value>(&answer.body) else {
            return;
        };
        let mut ids = Vec::new();
        message_ids(&body, &mut ids);
        let key = context.idempotency.as_ref().map(|i| i.key.as_str());
        let lines: Vec<String> = ids
            .into_iter()
            .map(|id| {
                self.auditor.record_change(&Replayed {
                    kind: "audit",
                    event: AuditKind::IdempotentReplay,
                    time: now_rfc3339(),
                    request_id: &context.request_id,
                    id,
                    caller: context.caller.logged(),
                    idempotency_key: key,
                })
            })
            .collect();
        // Every line in one store call (a batch's replay names up to a thousand messages): the
        // log's record, with no message to write.
        if let Err(error) = self.store().record(&[], &lines, &[]).await {
            tracing::warn!(
                code = error.code.as_str(),
                "a replay's audit lines were not kept"
            );
        }
    }
}

/// Every message id (`msg_...`) an answer names, each once, in order.
fn message_ids<'a>(value: &'a serde_json::Value, ids: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(text)
            if text.starts_with("msg_") && !ids.contains(&text.as_str()) =>
        {
            ids.push(text);
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| message_ids(item, ids)),
        serde_json::Value::Object(fields) => fields.values().for_each(|v| message_ids(v, ids)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::message_ids;

    #[test]
    fn every_message_an_answer_names_is_found_once() {
        let answer = serde_json::json!({
            "success": true, "id": "msg_a", "messageId": "SM1",
            "email": {"id": "msg_b", "fallbackOf": "msg_a"},
            "items": [{"ids": {"sms": "msg_c"}}],
        });
        let mut ids = Vec::new();
        message_ids(&answer, &mut ids);
        ids.sort_unstable();
        assert_eq!(ids, ["msg_a", "msg_b", "msg_c"]);
    }
}
