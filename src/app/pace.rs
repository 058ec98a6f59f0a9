//! The pace of batch sends: each provider's rate (SES's maximum send rate, read once per
//! instance or set by `NOTIFY_SES_MAX_SEND_RATE`, used at 80%; Twilio's messages per second per
//! sender), the share of it batches may use, and a slot from the store's pacer, shared by every
//! instance, before each batch send. Single sends are never paced: they keep the rest.

use std::time::Duration;

use super::App;
use super::channel::Senders;
use crate::config::ChannelConfig;
use crate::error::Error;
use crate::names::{Channel, Provider, RateSource, ScheduledRoute};
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
    /// The rates as the configuration gives them, without asking SES (health's view): an
    /// SES account without `NOTIFY_SES_MAX_SEND_RATE` has its rate read when a batch is paced.
    pub fn configured_rates(&self) -> Rates {
        let pace = &self.config.dispatch.pace;
        let ses_first = match &self.config.email {
            ChannelConfig::Live(email) => email.providers.first.provider() == Provider::AwsSes,
            ChannelConfig::Misconfigured(_) => true,
            ChannelConfig::Demo => false,
        };
        let (email, email_source) = match (ses_first, pace.ses_max_send_rate) {
            (false, _) => (None, RateSource::Unpaced),
            (true, Some(rate)) => (Some(f64::from(rate) * SES_HEADROOM), RateSource::Variable),
            (true, None) => (None, RateSource::Ses),
        };
        let sms = match self.config.sms {
            ChannelConfig::Demo => None,
            _ => Some(f64::from(pace.twilio_mps)),
        };
        Rates {
            email,
            email_source,
            sms,
            batch_share: f64::from(pace.batch_share_percent) / 100.0,
        }
    }

    /// The rates batch sends are paced to; SES is asked once per instance.
    pub async fn rates(&self) -> Rates {
        let mut rates = self.configured_rates();
        if rates.email_source == RateSource::Ses {
            let told = match self.email() {
                Senders::Live(providers) => {
                    let first = &providers.first;
                    *self.ses_rate.get_or_init(|| first.max_send_rate()).await
                }
                _ => None,
            };
            (rates.email, rates.email_source) = match told {
                Some(rate) if rate > 0.0 => (Some(rate * SES_HEADROOM), RateSource::Ses),
                _ => (
                    Some(SANDBOX_RATE * SES_HEADROOM),
                    RateSource::SandboxDefault,
                ),
            };
        }
        rates
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::Config;

    fn app(vars: &[(&str, &str)]) -> App {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        App::new(Config::from_vars(&vars))
    }

    const SES: [(&str, &str); 3] = [
        ("AWS_SES_ACCESS_KEY_ID", "AKIATESTKEY"),
        ("AWS_SES_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SES_FROM_EMAIL", "noreply@clinic.example.com"),
    ];

    #[test]
    fn batches_use_their_share_of_80_percent_of_the_ses_rate_and_of_the_twilio_rate() {
        let app = app(&[
            SES[0],
            SES[1],
            SES[2],
            ("NOTIFY_SES_MAX_SEND_RATE", "14"),
            ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
            ("TWILIO_AUTH_TOKEN", "token"),
            ("TWILIO_PHONE_NUMBER", "+15550001111"),
            ("NOTIFY_TWILIO_MPS", "10"),
            ("NOTIFY_BATCH_SHARE_PERCENT", "50"),
        ]);
        let rates = app.configured_rates();
        assert_eq!(rates.email_source, RateSource::Variable);
        // 14 a second at 80%, half of it for batches: 5.6 a second.
        let email = rates.interval(Channel::Email).unwrap().as_secs_f64();
        assert!((email - 1.0 / 5.6).abs() < 1e-9, "{email}");
        let sms = rates.interval(Channel::Sms).unwrap();
        assert_eq!(sms, Duration::from_millis(200));
    }

    #[test]
    fn without_the_variable_ses_is_asked_and_demo_channels_are_not_paced() {
        let asked = app(&SES).configured_rates();
        assert_eq!((asked.email, asked.email_source), (None, RateSource::Ses));
        assert_eq!(asked.sms, None, "demo SMS");
        let demo = app(&[]).configured_rates();
        assert_eq!(demo.email_source, RateSource::Unpaced);
        assert_eq!(demo.interval(Channel::Email), None);
    }

    #[test]
    fn an_email_costs_one_slot_per_recipient_and_a_notification_one_per_channel() {
        let send = |route, email: Option<&str>, sms: Option<&str>| ScheduledSend {
            id: "msg_1".into(),
            route,
            send_at: time::OffsetDateTime::now_utc(),
            content: Vec::new(),
            caller: crate::domain::Caller::Local,
            request_id: "req".into(),
            email_id: email.map(str::to_owned),
            sms_id: sms.map(str::to_owned),
            batch_id: Some("bat_1".into()),
        };
        let email = br#"{"to": ["a@example.com", "b@example.com", "c@example.com"], "subject": "s", "body": "b"}"#;
        assert_eq!(
            costs(&send(ScheduledRoute::Email, Some("msg_1"), None), email),
            [(Channel::Email, 3)]
        );
        let one = br#"{"to": "a@example.com", "subject": "s", "body": "b"}"#;
        assert_eq!(
            costs(&send(ScheduledRoute::Email, Some("msg_1"), None), one),
            [(Channel::Email, 1)]
        );
        let both = send(ScheduledRoute::Notification, Some("msg_1"), Some("msg_2"));
        assert_eq!(
            costs(&both, b"{}"),
            [(Channel::Email, 1), (Channel::Sms, 1)]
        );
    }
}
