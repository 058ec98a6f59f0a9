//! Admission on Postgres: one call of `notify_admit` (migrations/001_initial.sql, with the
//! suppression list read by its three-argument form in 005_suppressions.sql), the request as it
//! takes it (JSON text) and its answer.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use tokio_postgres::types::Type;

use super::PostgresStore;
use crate::error::Error;
use crate::store::{
    Admission, Admit, Admitted, Chosen, ClaimOutcome, Refusal, StoredAnswer, Suppression,
    unavailable,
};
use crate::support::BoxFuture;

const ADMIT: &str = "SELECT notify_admit($1::jsonb, $2::jsonb, $3::jsonb)";

impl Admit for PostgresStore {
    fn admit<'a>(&'a self, admission: &'a Admission) -> BoxFuture<'a, Result<Admitted, Error>> {
        Box::pin(async move {
            let (limits, claim, reach) = admission_json(admission);
            let answer: Option<AdmitAnswer> = self
                .json(
                    ADMIT,
                    &[
                        (&limits, Type::TEXT),
                        (&claim, Type::TEXT),
                        (&reach, Type::TEXT),
                    ],
                )
                .await?;
            admitted(answer.ok_or_else(|| unavailable("notify_admit answered nothing"))?)
        })
    }
}

/// What `notify_admit` answers.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdmitAnswer {
    refused: Vec<RefusedJson>,
    claim: String,
    status: Option<u16>,
    body: Option<String>,
    retry_ms: Option<u64>,
    #[serde(default)]
    suppressed: Vec<Suppression>,
    #[serde(default)]
    chosen: Chosen,
    #[serde(default)]
    held: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefusedJson {
    group: u8,
    retry_ms: u64,
}

/// The admission as `notify_admit` takes it, as JSON text (cheaper to send than a `jsonb`
/// value built first).
fn admission_json(admission: &Admission) -> (String, Option<String>, String) {
    #[derive(Serialize)]
    struct LimitJson<'a> {
        key: &'a str,
        interval_us: u64,
        period_us: u64,
        grp: u8,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ClaimJson<'a> {
        scope: &'a str,
        key: &'a str,
        request_hash: &'a str,
        lease_ms: u64,
        ttl_ms: u64,
        channels: u8,
    }
    #[derive(Serialize)]
    struct ReachJson<'a> {
        channel: &'static str,
        hash: &'a str,
        category: Option<&'static str>,
    }
    let limits: Vec<LimitJson> = admission
        .limits
        .iter()
        .map(|l| LimitJson {
            key: &l.key,
            interval_us: l.interval.as_micros() as u64,
            period_us: l.period.as_micros() as u64,
            grp: l.group,
        })
        .collect();
    let claim = admission.claim.as_ref().map(|c| ClaimJson {
        scope: &c.scope,
        key: &c.key,
        request_hash: &c.request_hash,
        lease_ms: c.lease.as_millis() as u64,
        ttl_ms: c.ttl.as_millis() as u64,
        channels: c.channels,
    });
    let reach: Vec<ReachJson> = admission
        .reach
        .iter()
        .map(|r| ReachJson {
            channel: r.channel.as_str(),
            hash: &r.recipient_hash,
            category: r.category.map(|c| c.as_str()),
        })
        .collect();
    (
        serde_json::to_string(&limits).unwrap_or_else(|_| "[]".into()),
        claim.and_then(|c| serde_json::to_string(&c).ok()),
        serde_json::to_string(&reach).unwrap_or_else(|_| "[]".into()),
    )
}

fn admitted(answer: AdmitAnswer) -> Result<Admitted, Error> {
    let claim = match answer.claim.as_str() {
        "none" => ClaimOutcome::None,
        "claimed" => ClaimOutcome::Claimed,
        "replay" => ClaimOutcome::Replay(StoredAnswer {
            status: answer.status.unwrap_or(200),
            body: answer.body.unwrap_or_default(),
        }),
        "inProgress" => ClaimOutcome::InProgress {
            retry_after: Duration::from_millis(answer.retry_ms.unwrap_or(1000)),
        },
        "reused" => ClaimOutcome::Reused,
        "abandoned" => ClaimOutcome::Abandoned,
        other => return Err(unavailable(format!("notify_admit answered {other:?}"))),
    };
    let refused = answer
        .refused
        .into_iter()
        .map(|r| Refusal {
            group: r.group,
            retry_after: Duration::from_millis(r.retry_ms),
        })
        .collect();
    Ok(Admitted {
        refused,
        claim,
        suppressed: answer.suppressed,
        chosen: answer.chosen,
        held: answer.held,
    })
}
