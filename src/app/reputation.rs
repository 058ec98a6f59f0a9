//! The reputation guard: email bounce and complaint rates over the last 24 hours and 7 days,
//! measured by the dispatcher from the product's own log and events; `held` past the hold
//! lines, when sends of categories a patient may turn off wait (billing alerts and sends
//! without a category still go), so that SES never puts the account under review or pauses
//! it, which would stop every email of the practice.

use std::time::Duration;

use serde::Serialize;

use super::App;
use crate::config::GuardConfig;
use crate::error::{Error, ErrorCode};
use crate::names::{AuditKind, GuardState};
use crate::store::{EmailCounts, Guard};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

impl App {
    /// Measures both windows and keeps the guard (an audit line when its state changes).
    pub(super) async fn measure_reputation(&self) -> Result<Guard, Error> {
        let now = crate::support::now_micros();
        let counts = self
            .store()
            .email_counts(&[now - DAY, now - 7 * DAY])
            .await?;
        let (day, week) = (
            counts.first().copied().unwrap_or_default(),
            counts.get(1).copied().unwrap_or_default(),
        );
        let config = &self.config.reach.guard;
        let state = if config.enabled {
            judge(config, &day).max_by(judge(config, &week))
        } else {
            GuardState::Ok
        };
        let guard = Guard {
            state,
            day,
            week,
            measured_at: now,
        };
        let line = self.auditor.record_change(&Changed {
            kind: "audit",
            event: AuditKind::ReputationChanged,
            time: crate::support::now_rfc3339(),
            state,
            day: &day,
            week: &week,
        });
        let before = self.store().keep_guard(&guard, &line).await?;
        let previous = before.unwrap_or(GuardState::Ok);
        if previous != state {
            tracing::warn!(state = %state, before = %previous, "the reputation guard changed");
            #[derive(Serialize)]
            struct Fields<'a> {
                state: GuardState,
                previous: GuardState,
                day: &'a EmailCounts,
                week: &'a EmailCounts,
            }
            let id = format!("evt_{}", crate::support::new_id());
            let fields = Fields {
                state,
                previous,
                day: &day,
                week: &week,
            };
            self.tell_practice("reputation.changed", &id, &fields)
                .await?;
        }
        Ok(guard)
    }

    /// The answer to a send the guard holds: 503 with the rates it measured.
    pub(super) async fn held(&self) -> Error {
        let guard = self.reputation().await.ok().flatten();
        let (day, week) = guard
            .as_ref()
            .map(|g| (rates(&g.day), rates(&g.week)))
            .unwrap_or_default();
        Error::new(
            ErrorCode::SendingHeld,
            format!(
                "Sends of this category are held: email bounces and complaints are past the guard's hold line \
                 (24 hours: {:.2}% bounced, {:.3}% complained; 7 days: {:.2}% bounced, {:.3}% complained). \
                 Billing alerts still go.",
                day.0, day.1, week.0, week.1
            ),
        )
        .with_hint("Clean the address list (GET /api/suppressions, GET /api/messages?status=bounced); the guard lifts itself when the rates fall. NOTIFY_REPUTATION_GUARD=off turns it off.")
        .with_retry_after(Duration::from_secs(15 * 60))
    }

    /// The guard as last measured, for health and a held send's answer.
    pub async fn reputation(&self) -> Result<Option<Guard>, Error> {
        self.store().guard().await
    }
}

/// A bounce rate and a complaint rate, in percent.
pub fn rates(counts: &EmailCounts) -> (f64, f64) {
    if counts.emails == 0 {
        return (0.0, 0.0);
    }
    let of = |n: u64| n as f64 * 100.0 / counts.emails as f64;
    (of(counts.bounces), of(counts.complaints))
}

fn judge(config: &GuardConfig, counts: &EmailCounts) -> GuardState {
    if counts.emails < config.min_emails {
        return GuardState::Ok;
    }
    let (bounce, complaint) = rates(counts);
    if bounce >= config.bounce_hold || complaint >= config.complaint_hold {
        GuardState::Held
    } else if bounce >= config.bounce_warning || complaint >= config.complaint_warning {
        GuardState::Warning
    } else {
        GuardState::Ok
    }
}

trait Worst {
    fn max_by(self, other: Self) -> Self;
}

impl Worst for GuardState {
    fn max_by(self, other: Self) -> Self {
        let rank = |s: GuardState| match s {
            GuardState::Ok => 0,
            GuardState::Warning => 1,
            GuardState::Held => 2,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// A change of the guard's state, as its audit line says.
#[derive(Serialize)]
pub(crate) struct Changed<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    event: AuditKind,
    time: String,
    state: GuardState,
    day: &'a EmailCounts,
    week: &'a EmailCounts,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(emails: u64, bounces: u64, complaints: u64) -> EmailCounts {
        EmailCounts {
            emails,
            bounces,
            complaints,
        }
    }

    #[test]
    fn the_guard_counts_from_200_emails_and_holds_below_the_review_lines() {
        let config = GuardConfig::default();
        assert_eq!(judge(&config, &counts(199, 50, 5)), GuardState::Ok);
        assert_eq!(judge(&config, &counts(1000, 19, 0)), GuardState::Ok);
        assert_eq!(judge(&config, &counts(1000, 20, 0)), GuardState::Warning);
        assert_eq!(judge(&config, &counts(1000, 40, 0)), GuardState::Held);
        assert_eq!(judge(&config, &counts(10_000, 0, 5)), GuardState::Warning);
        assert_eq!(judge(&config, &counts(10_000, 0, 8)), GuardState::Held);
        assert_eq!(
            GuardState::Warning.max_by(GuardState::Held),
            GuardState::Held
        );
        assert_eq!(
            GuardState::Warning.max_by(GuardState::Ok),
            GuardState::Warning
        );
    }
}
