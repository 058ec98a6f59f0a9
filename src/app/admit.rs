//! Admission of a send request, in one store call: the caller's rate, then its
//! `Idempotency-Key`, then each live channel's recipient caps (against SMS-pumping fraud and
//! loops in a calling app), and the suppression list and patients' choices for every recipient. On Postgres the
//! counts hold across every instance and function.

use std::time::Duration;

use super::withheld::declines;
use super::{App, RequestContext};
use crate::audit::AuditRecipient;
use crate::error::{Error, ErrorCode};
use crate::names::{Category, Channel, DeclineRule};
use crate::store::{Admission, Claim, ClaimOutcome, Limit, Reach, StoredAnswer};

/// How long an idempotency key and its first answer are kept.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

const CALLER: u8 = 0;
const HOUR: Duration = Duration::from_secs(60 * 60);

fn group(channel: Channel) -> u8 {
    match channel {
        Channel::Email => 1,
        Channel::Sms => 2,
    }
}

/// One channel a request sends on: its recipients, whether its caps apply (live only), and
/// the category its message is of (the suppression list is checked in every mode).
pub(super) struct Planned<'a> {
    pub channel: Channel,
    pub recipients: &'a [AuditRecipient],
    pub live: bool,
    pub category: Option<Category>,
}

/// A request let through: the caps refused per channel, the key it holds, if any, and who
/// its messages are withheld from (`withheld.rs`).
pub(super) struct Admitted {
    pub(super) store: crate::store::Admitted,
    pub claim: Option<Claim>,
    /// Each recipient (channel, hash) a patient's or the practice's choice declines.
    pub(super) declines: Vec<(Channel, String, DeclineRule)>,
    /// The reputation guard's answer, when it holds sends of categories a patient may turn off.
    pub(super) held: Option<Error>,
}

impl Admitted {
    /// Why a message of `category` on `channel` may not go now: the reputation guard holds
    /// its category, or its recipients are over their caps.
    pub fn refusal(&self, channel: Channel, category: Option<Category>) -> Option<Error> {
        let held = self
            .held
            .clone()
            .filter(|_| category.is_some_and(|c| !c.required()));
        held.or_else(|| {
            self.store
                .refusal(group(channel))
                .map(|after| recipient_limited(channel, after))
        })
    }
}

/// What admission decided.
// Made once per send and taken apart at once: boxing the larger variant would only add an
// allocation to every send.
#[allow(clippy::large_enum_variant)]
pub(super) enum Verdict {
    Go(Admitted),
    /// The key's first answer, to answer again.
    Replay(StoredAnswer),
}

impl App {
    pub(super) async fn admit(
        &self,
        context: &RequestContext,
        planned: &[Planned<'_>],
    ) -> Result<Verdict, Error> {
        let limits = &self.config.limits;
        let caller = self.auditor.recipient_hash(&context.caller.to_string());
        // A scheduled send's run was counted against its caller when it was scheduled.
        let caller_limit = context.scheduled.is_none().then(|| {
            Limit::new(
                format!("caller:{caller}"),
                limits.requests_per_minute,
                Duration::from_secs(60),
                CALLER,
            )
        });
        let mut admission = Admission {
            limits: caller_limit.into_iter().collect(),
            claim: context.idempotency.as_ref().map(|i| Claim {
                scope: caller.clone(),
                key: i.key.clone(),
                request_hash: i.request_hash.clone(),
                // The whole send budget, and a margin for the store calls around it.
                lease: self.config.policy.send_timeout + Duration::from_secs(15),
                ttl: IDEMPOTENCY_TTL,
                // A batch plans many; any count past a channel's groups means the same.
                channels: u8::try_from(planned.len()).unwrap_or(u8::MAX),
            }),
            reach: planned
                .iter()
                .flat_map(|plan| {
                    plan.recipients.iter().map(|r| Reach {
                        channel: plan.channel,
                        recipient_hash: r.hash.clone(),
                        category: plan.category,
                    })
                })
                .collect(),
        };
        for plan in planned.iter().filter(|p| p.live) {
            let max = match plan.channel {
                Channel::Email => limits.emails_per_recipient_per_hour,
                Channel::Sms => limits.sms_per_recipient_per_hour,
            };
            admission.limits.extend(plan.recipients.iter().map(|r| {
                Limit::new(
                    format!("{}:{}", plan.channel, r.hash),
                    max,
                    HOUR,
                    group(plan.channel),
                )
            }));
        }
        let unwritten = admission.claim.is_some() && self.unwritten.any();
        let mut admitted = self.store().admit(&admission).await?;
        if unwritten && matches!(admitted.claim, ClaimOutcome::InProgress { .. }) {
            // Its first request may be one this instance has answered and is still recording:
            // the key is asked again once those records are written (its limits were counted).
            self.settled().await;
            let claim_only = Admission {
                limits: Vec::new(),
                claim: admission.claim.clone(),
                reach: Vec::new(),
            };
            admitted.claim = self.store().admit(&claim_only).await?.claim;
        }
        if let Some(after) = admitted.refusal(CALLER) {
            return Err(rate_limited(after));
        }
        let optional = planned
            .iter()
            .any(|p| p.category.is_some_and(|c| !c.required()));
        let held = if admitted.held && optional && self.config.reach.guard.enabled {
            Some(self.held().await)
        } else {
            None
        };
        match admitted.claim.clone() {
            ClaimOutcome::None => Ok(Verdict::Go(Admitted {
                declines: declines(&self.config.reach, planned, &admitted.chosen),
                store: admitted,
                claim: None,
                held,
            })),
            ClaimOutcome::Claimed => Ok(Verdict::Go(Admitted {
                declines: declines(&self.config.reach, planned, &admitted.chosen),
                store: admitted,
                claim: admission.claim,
                held,
            })),
            ClaimOutcome::Replay(answer) => {
                self.audit_replay(&answer, context).await;
                Ok(Verdict::Replay(answer))
            }
            // A send answers within a second or two (its record a moment later): the lease's
            // end is only the worst case, so a retry is asked for sooner.
            ClaimOutcome::InProgress { retry_after } => Err(Error::new(
                ErrorCode::IdempotencyInProgress,
                "A request with this Idempotency-Key is still running. Retry after the delay given to get its answer.",
            )
            .with_retry_after(retry_after.min(Duration::from_secs(1)))),
            ClaimOutcome::Reused => Err(Error::new(
                ErrorCode::IdempotencyKeyReused,
                "This Idempotency-Key was used with a different request. Use a new key for a new request.",
            )),
            ClaimOutcome::Abandoned => Err(Error::new(
                ErrorCode::ProviderTimeout,
                "The first request with this Idempotency-Key did not finish, so whether it was sent is unknown. It is not sent again.",
            )
            .with_hint("Look the message up with GET /api/messages before sending it again with a new key.")
            .with_acceptance_unknown()),
        }
    }
}

fn rate_limited(after: Duration) -> Error {
    Error::new(
        ErrorCode::RateLimited,
        "Too many send requests from this caller. Retry after the delay given.",
    )
    .with_hint("Raise NOTIFY_RATE_LIMIT_PER_MINUTE if this traffic is expected.")
    .with_retry_after(after)
}

fn recipient_limited(channel: Channel, after: Duration) -> Error {
    let (what, hint) = match channel {
        Channel::Sms => (
            "SMS",
            "This cap guards against SMS-pumping fraud and loops in the calling app; raise NOTIFY_SMS_PER_RECIPIENT_PER_HOUR if it is too low.",
        ),
        Channel::Email => (
            "emails",
            "This cap guards against loops in the calling app; raise NOTIFY_EMAILS_PER_RECIPIENT_PER_HOUR if it is too low.",
        ),
    };
    Error::new(
        ErrorCode::RecipientRateLimited,
        format!("Too many {what} to this recipient in the last hour. Retry after the delay given."),
    )
    .with_hint(hint)
    .with_retry_after(after)
}
