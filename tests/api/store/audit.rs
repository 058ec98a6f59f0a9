//! The audit trail: lines kept in order and exported by page, on both stores.

use super::*;

#[tokio::test]
async fn audit_lines_are_kept_in_order_once_per_report_and_exported_by_page() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let line = |n: u32| format!(r#"{{"type":"audit","event":"send_attempt","n":{n}}}"#);
        store
            .record(
                &[record("msg_a", Channel::Sms, "SMa", None, "ha", 1)],
                &[line(1), line(2)],
                &[],
            )
            .await
            .unwrap();
        let delivered = r#"{"type":"audit","event":"delivery_event","n":3}"#;
        for _ in 0..2 {
            apply(
                store,
                &event("evt-a", EventKind::Delivered, "SMa", "ha"),
                delivered,
                false,
            )
            .await;
        }
        store
            .append_audit(r#"{"type":"audit","event":"webhook_refused","n":4}"#)
            .await
            .unwrap();
        let mut query = notify::store::AuditQuery {
            limit: 3,
            ..Default::default()
        };
        let first = store.audit(&query).await.unwrap();
        query.after = first.next;
        let rest = store.audit(&query).await.unwrap();
        assert_eq!(rest.next, None, "{name}");
        let numbers: Vec<u64> = first
            .lines
            .iter()
            .chain(&rest.lines)
            .map(|(_, line)| {
                serde_json::from_str::<serde_json::Value>(line).unwrap()["n"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            numbers,
            [1, 2, 3, 4],
            "{name}: a report's second copy is audited once"
        );
    })
    .await;
}
