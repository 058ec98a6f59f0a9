//! Admission: limits, recipient caps and idempotency keys, on both stores.

use super::*;

#[tokio::test]
async fn a_key_over_its_limit_is_refused_with_the_time_until_it_recovers() {
    on_both(|name, store| async move {
        for _ in 0..2 {
            let admitted = admit(store.as_ref(), vec![hourly("caller:a", 2, 0)], None).await;
            assert!(admitted.refused.is_empty(), "{name}");
        }
        let refused = admit(store.as_ref(), vec![hourly("caller:a", 2, 0)], None).await;
        let after = refused
            .refusal(0)
            .unwrap_or_else(|| panic!("{name}: not refused"));
        assert!(
            after > Duration::from_secs(1790) && after <= Duration::from_secs(1800),
            "{name}: {after:?}"
        );
        let other = admit(store.as_ref(), vec![hourly("caller:b", 2, 0)], None).await;
        assert!(other.refused.is_empty(), "{name}: keys are counted apart");
    })
    .await;
}

#[tokio::test]
async fn a_channel_over_its_cap_is_refused_as_a_whole_and_counts_none_of_its_keys() {
    on_both(|name, store| async move {
        let caps = || vec![hourly("email:a", 1, 1), hourly("email:b", 3, 1)];
        assert!(admit(store.as_ref(), caps(), None).await.refused.is_empty());
        let refused = admit(store.as_ref(), caps(), None).await;
        assert!(refused.refusal(1).is_some(), "{name}");
        // b was counted once (by the first request): two more fit, then it is full.
        for _ in 0..2 {
            let admitted = admit(store.as_ref(), vec![hourly("email:b", 3, 1)], None).await;
            assert!(
                admitted.refused.is_empty(),
                "{name}: a refused request counted b"
            );
        }
        let full = admit(store.as_ref(), vec![hourly("email:b", 3, 1)], None).await;
        assert!(full.refusal(1).is_some(), "{name}");
    })
    .await;
}

#[tokio::test]
async fn an_idempotency_key_is_claimed_once_then_replayed_and_refused_for_another_request() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let first = admit(store, Vec::new(), Some(claim("k1", "h1"))).await;
        assert_eq!(first.claim, ClaimOutcome::Claimed, "{name}");
        let running = admit(store, Vec::new(), Some(claim("k1", "h1"))).await;
        assert!(
            matches!(running.claim, ClaimOutcome::InProgress { retry_after } if retry_after <= Duration::from_secs(60)),
            "{name}: {running:?}"
        );
        let second = admit(store, Vec::new(), Some(claim("k2", "h1"))).await;
        assert_eq!(second.claim, ClaimOutcome::Claimed, "{name}");
        // Two sends' records written together (as sends that end together are): each key
        // keeps its own answer.
        store
            .record(
                &[],
                &[],
                &[
                    (&claim("k1", "h1"), &answer("the first answer")),
                    (&claim("k2", "h1"), &answer("the second answer")),
                ],
            )
            .await
            .unwrap();
        let replay = admit(store, Vec::new(), Some(claim("k1", "h1"))).await;
        assert_eq!(
            replay.claim,
            ClaimOutcome::Replay(answer("the first answer")),
            "{name}"
        );
        let replay = admit(store, Vec::new(), Some(claim("k2", "h1"))).await;
        assert_eq!(
            replay.claim,
            ClaimOutcome::Replay(answer("the second answer")),
            "{name}"
        );
        let reused = admit(store, Vec::new(), Some(claim("k1", "h2"))).await;
        assert_eq!(reused.claim, ClaimOutcome::Reused, "{name}");
        let elsewhere = Claim {
            scope: "caller-b".into(),
            ..claim("k1", "h2")
        };
        let theirs = admit(store, Vec::new(), Some(elsewhere)).await;
        assert_eq!(theirs.claim, ClaimOutcome::Claimed, "{name}: keys are per caller");
    })
    .await;
}

/// Twenty requests with one key at once, spread over `stores`: what became of each.
pub async fn race_for_one_key(stores: &[Arc<dyn Store>]) -> Vec<ClaimOutcome> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let store = Arc::clone(&stores[i % stores.len()]);
        tasks.spawn(async move {
            admit(
                store.as_ref(),
                vec![hourly("caller:x", 1000, 0)],
                Some(claim("race", "h")),
            )
            .await
            .claim
        });
    }
    tasks.join_all().await
}

#[tokio::test]
async fn twenty_simultaneous_requests_with_one_key_give_exactly_one_claim() {
    on_both(|name, store| async move {
        let outcomes = race_for_one_key(&[store]).await;
        let claimed = outcomes
            .iter()
            .filter(|o| **o == ClaimOutcome::Claimed)
            .count();
        assert_eq!(claimed, 1, "{name}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, ClaimOutcome::Claimed | ClaimOutcome::InProgress { .. })),
            "{name}: {outcomes:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_request_refused_before_any_send_keeps_no_key() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let caller_over = vec![hourly("caller:slow", 1, 0)];
        admit(store, caller_over.clone(), None).await;
        let limited = admit(store, caller_over, Some(claim("k-rate", "h"))).await;
        assert!(limited.refusal(0).is_some(), "{name}");
        assert_eq!(limited.claim, ClaimOutcome::None, "{name}");
        let capped = || vec![hourly("sms:full", 1, 2)];
        admit(store, capped(), None).await;
        let refused = admit(store, capped(), Some(claim("k-cap", "h"))).await;
        assert_eq!(
            refused.claim,
            ClaimOutcome::None,
            "{name}: kept a refused key"
        );
        let fresh = admit(store, Vec::new(), Some(claim("k-cap", "h"))).await;
        assert_eq!(
            fresh.claim,
            ClaimOutcome::Claimed,
            "{name}: the refused request kept the key"
        );
    })
    .await;
}
