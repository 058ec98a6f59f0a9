//! The pace of batch sends: each provider's rate (SES's maximum send rate, read once per
//! instance or set by `NOTIFY_SES_MAX_SEND_RATE`, used at 80%; Twilio's messages per second per
//! sender), the share of it batches may use, and a slot from the store's pacer, shared by every
//! instance, before each batch send. Single sends are never paced: they keep the rest.

use std::time::Duration;

use super::App;
use super::channel::Senders;
use crate::error::Error;
use crate::names::{Channel, RateSource, ScheduledRoute};
use crate::requests::{OneOrMany, SendEmailRequest};
use crate::store::{Paced, ScheduledSend};

/// SES's own advice: stay below the maximum send rate, which counts recipients.
const SES_HEADROOM: f64 = 0.8;
/// SES's rate in its sandbox, taken when neither the variable nor SES tells the account's.
const SANDBOX_RATE: f64 = 1.0;

/// The rates batch sends are paced to, per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Emails (recipients) per second the provider is asked to take: 80% of SES's maximum.
    pub email: Option<f64>,
    pub email_source: RateSource,
    /// Texts per second per sender; `None` in demo mode.
    pub sms: Option<f64>,
    /// The share of each rate batches use.
    pub batch_share: f64,
}

impl Rates {
    /// The time one unit of a batch send takes on `channel`, if it is paced.
    fn interval(&self, channel: Channel) -> Option<Duration> {
        let rate = match channel {
            Channel::Email => self.email?,
            Channel::Sms => self.sms?,
        };
        Some(Duration::from_secs_f64(1.0 / (rate * self.batch_share)))
    }
}

impl App {
    /// The rates batch sends are paced to; SES is asked once per instance.
    pub async fn rates(&self) -> Rates {
        let pace = &self.config.dispatch.pace;
        let (email, email_source) = match (pace.ses_max_send_rate, self.email()) {
            (_, Senders::Demo(_)) => (None, RateSource::Demo),
            (Some(rate), _) => (Some(f64::from(rate) * SES_HEADROOM), RateSource::Variable),
            (None, Senders::Live(providers)) => {
                let told = self
                    .ses_rate
                    .get_or_init(|| providers.first.max_send_rate())
                    .await;
                match told {
                    Some(rate) if *rate > 0.0 => (Some(rate * SES_HEADROOM), RateSource::Ses),
                    _ => (
                        Some(SANDBOX_RATE * SES_HEADROOM),
                        RateSource::SandboxDefault,
                    ),
                }
            }
            (None, Senders::Misconfigured(_)) => (
                Some(SANDBOX_RATE * SES_HEADROOM),
                RateSource::SandboxDefault,
            ),
        };
        let sms = match self.sms() {
            Senders::Demo(_) => None,
            _ => Some(f64::from(pace.twilio_mps)),
        };
        Rates {
            email,
            email_source,
            sms,
            batch_share: f64::from(pace.batch_share_percent) / 100.0,
        }
    }

    /// A slot for the batch send `send` (its request `body`) on each of its channels, waited
    /// for when it starts within `max_wait`: `Ok(())` once it may go, `Err(wait)` when no slot
    /// is free so soon (it then waits in the store).
    pub(super) async fn paced(
        &self,
        send: &ScheduledSend,
        body: &[u8],
        max_wait: Duration,
    ) -> Result<Result<(), Duration>, Error> {
        let rates = self.rates().await;
        let mut longest = Duration::ZERO;
        for (channel, cost) in costs(send, body) {
            let Some(interval) = rates.interval(channel) else {
                continue;
            };
            match self
                .store()
                .pace(channel.as_str(), interval, cost, max_wait)
                .await?
            {
                Paced::Reserved(wait) => longest = longest.max(wait),
                Paced::Full(wait) => return Ok(Err(wait)),
            }
        }
        tokio::time::sleep(longest).await;
        Ok(Ok(()))
    }
}

/// What a send costs on each channel: an email one unit per recipient (SES counts them), a
/// text one.
fn costs(send: &ScheduledSend, body: &[u8]) -> Vec<(Channel, u32)> {
    match send.route {
        ScheduledRoute::Email => {
            let to = serde_json::from_slice::<SendEmailRequest>(body).map(|r| r.to);
            let recipients = match to {
                Ok(Some(OneOrMany::Many(to))) => to.len().max(1) as u32,
                _ => 1,
            };
            vec![(Channel::Email, recipients)]
        }
        _ => [
            send.email_id.as_ref().map(|_| (Channel::Email, 1)),
            send.sms_id.as_ref().map(|_| (Channel::Sms, 1)),
        ]
        .into_iter()
        .flatten()
        .collect(),
    }
}
