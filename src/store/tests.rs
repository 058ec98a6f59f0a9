//! What only the memory store's clock can show quickly: leases and keys expiring, limits
//! recovering. The behaviours both stores share are tested against both in
//! tests/api/store.rs.

use std::time::Duration;

use super::{Admission, Admit, Claim, ClaimOutcome, Limit, MemoryStore};

fn claim() -> Claim {
    Claim {
        scope: "caller".into(),
        key: "k".into(),
        request_hash: "h".into(),
        lease: Duration::from_secs(40),
        ttl: Duration::from_secs(24 * 3600),
        channels: 1,
    }
}

async fn outcome(store: &MemoryStore) -> ClaimOutcome {
    let admission = Admission {
        limits: Vec::new(),
        claim: Some(claim()),
        reach: Vec::new(),
    };
    store.admit(&admission).await.unwrap().claim
}

#[tokio::test]
async fn a_first_request_that_never_answered_is_of_unknown_outcome_once_its_lease_ends() {
    let store = MemoryStore::default();
    assert_eq!(outcome(&store).await, ClaimOutcome::Claimed);
    store.advance(Duration::from_secs(39));
    assert!(matches!(
        outcome(&store).await,
        ClaimOutcome::InProgress { retry_after } if retry_after <= Duration::from_secs(1)
    ));
    store.advance(Duration::from_secs(2));
    assert_eq!(outcome(&store).await, ClaimOutcome::Abandoned);
}

#[tokio::test]
async fn a_key_is_forgotten_after_its_time_to_live() {
    let store = MemoryStore::default();
    assert_eq!(outcome(&store).await, ClaimOutcome::Claimed);
    store.advance(Duration::from_secs(24 * 3600));
    assert_eq!(outcome(&store).await, ClaimOutcome::Claimed);
}

#[tokio::test]
async fn a_limit_recovers_one_request_per_interval() {
    let store = MemoryStore::default();
    let admission = Admission {
        limits: vec![Limit::new("caller:a".into(), 2, Duration::from_secs(60), 0)],
        claim: None,
        reach: Vec::new(),
    };
    for _ in 0..2 {
        assert!(store.admit(&admission).await.unwrap().refused.is_empty());
    }
    let refused = store.admit(&admission).await.unwrap();
    assert_eq!(refused.refusal(0), Some(Duration::from_secs(30)));
    store.advance(Duration::from_secs(30));
    assert!(store.admit(&admission).await.unwrap().refused.is_empty());
    assert!(store.admit(&admission).await.unwrap().refusal(0).is_some());
}
