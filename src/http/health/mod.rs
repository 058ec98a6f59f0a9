//! `GET /api/health`'s report, as JSON: each channel's provider and mode with the names of
//! missing or invalid variables (never a value), and which safeguards and delivery events are
//! set up. It is read off the configuration and the service's safeguards: no sender is built
//! to answer it.

use serde::Serialize;

use crate::app::App;
use crate::app::{Rates, rates};
use crate::config::{ChannelConfig, EmailProviderSettings, StoreConfig};
use crate::error::FieldError;
use crate::names::{Category, Channel, CredentialSource, GuardState, HealthStatus, Mode, Provider};
use crate::store::{EmailCounts, Guard, StoreHealth};

mod dispatch;
mod store;

pub use dispatch::DispatchHealth;
use dispatch::dispatch_health;
pub use store::StoreReport;
use store::store_report;

/// The report, with the store checked (one bounded round trip on Postgres).
pub async fn checked(app: &App) -> Health<'_> {
    let check = app.check_store().await;
    let guard = match check.reachable {
        true => app.reputation().await.ok().flatten(),
        false => None,
    };
    report(app, check, guard, app.configured_rates())
}

/// Each channel's mode, for the local server's start-up line (no store check).
pub fn modes(app: &App) -> (Mode, Mode) {
    let config = app.config();
    (problems(&config.email).0, problems(&config.sms).0)
}

fn report(app: &App, check: StoreHealth, guard: Option<Guard>, rates: Rates) -> Health<'_> {
    let config = app.config();
    let safeguards = app.safeguards();
    let email = email_health(app);
    let sms = ChannelHealth::new(Provider::Twilio, &config.sms);
    let quiet_hours = quiet_health(app);
    let degraded = email.mode == Mode::Misconfigured
        || sms.mode == Mode::Misconfigured
        || !config.branding_invalid.is_empty()
        || !config.security_invalid.is_empty()
        || !config.dispatch_invalid.is_empty()
        || !quiet_hours.invalid.is_empty()
        || !config.reach_invalid.is_empty()
        || matches!(config.store, StoreConfig::Misconfigured(_))
        || !check.reachable;
    Health {
        status: if degraded {
            HealthStatus::Degraded
        } else {
            HealthStatus::Ok
        },
        version: env!("CARGO_PKG_VERSION"),
        channels: Channels { email, sms },
        branding: BrandingHealth {
            practice_name: &config.branding.practice_name,
            invalid: &config.branding_invalid,
        },
        events: EventsHealth {
            status_callbacks: config.webhooks.public_url.is_some()
                && matches!(config.sms, ChannelConfig::Live(_)),
            ses_configuration_set: config.email.uses_ses_configuration_set(),
            forwarding: safeguards.forwarding,
        },
        security: SecurityHealth {
            api_keys: safeguards.api_keys,
            jwt: safeguards.jwt,
            unauthenticated_sends: safeguards.unauthenticated_sends,
            audit_key: safeguards.audit_key,
            invalid: &config.security_invalid,
        },
        quiet_hours,
        reach: reach_health(app, guard),
        dispatch: dispatch_health(app, safeguards.forwarding, rates),
        store: store_report(app, check),
    }
}

/// The email channel: its first provider and mode, and every provider with its place in
/// the send order.
fn email_health(app: &App) -> ChannelHealth<'_> {
    let config = app.config();
    let order: Vec<Provider> = match &config.email {
        ChannelConfig::Live(channel) => channel
            .providers
            .iter()
            .map(EmailProviderSettings::provider)
            .collect(),
        _ => Vec::new(),
    };
    let mut email = ChannelHealth::new(
        order.first().copied().unwrap_or(Provider::AwsSes),
        &config.email,
    );
    email.providers = config
        .email_providers
        .iter()
        .map(|(name, state)| {
            let place = order.iter().position(|p| p == name).map(|i| i + 1);
            let mut provider = ProviderHealth::new(*name, state, place);
            if *name == Provider::AwsSes {
                provider.credential_source = config.ses_credentials;
            }
            provider
        })
        .collect();
    email
}

fn quiet_health(app: &App) -> QuietHealth<'_> {
    let config = app.config();
    let mut invalid = config.quiet_invalid.clone();
    let zone_problem = app.practice_zone_problem();
    let timezone = match zone_problem {
        Some(_) => crate::config::DEFAULT_TIMEZONE,
        None => config.quiet.zone_name.as_str(),
    };
    invalid.extend(zone_problem);
    QuietHealth {
        window: config.quiet.window.map(|w| w.to_string()),
        timezone,
        email: config.quiet.email,
        invalid,
    }
}

fn reach_health(app: &App, guard: Option<Guard>) -> ReachHealth<'_> {
    let config = app.config();
    let window = |counts: &EmailCounts| {
        let (bounce_rate, complaint_rate) = rates(counts);
        Window {
            emails: counts.emails,
            bounces: counts.bounces,
            complaints: counts.complaints,
            bounce_rate,
            complaint_rate,
        }
    };
    let settings = config.reach.guard;
    ReachHealth {
        reputation: ReputationHealth {
            enabled: settings.enabled,
            state: guard.as_ref().map(|g| g.state),
            day: guard.as_ref().map(|g| window(&g.day)),
            week: guard.as_ref().map(|g| window(&g.week)),
            measured_at: guard
                .as_ref()
                .map(|g| crate::support::timestamp(g.measured_at)),
            bounce_warning: settings.bounce_warning,
            bounce_hold: settings.bounce_hold,
            complaint_warning: settings.complaint_warning,
            complaint_hold: settings.complaint_hold,
        },
        defaults: Category::ALL
            .iter()
            .map(|category| CategoryDefault {
                category: *category,
                required: category.required(),
                email: config.reach.on_by_default(*category, Channel::Email),
                sms: config.reach.on_by_default(*category, Channel::Sms),
            })
            .collect(),
        sms_consent: config.reach.sms_consent.as_str(),
        one_click_unsubscribe: config.reach.links.is_some(),
        fallback_categories: &config.reach.fallback_categories,
        invalid: &config.reach_invalid,
    }
}

fn problems<T>(state: &ChannelConfig<T>) -> (Mode, &[String], &[FieldError]) {
    match state {
        ChannelConfig::Live(_) => (Mode::Live, &[], &[]),
        ChannelConfig::Demo => (Mode::Demo, &[], &[]),
        ChannelConfig::Misconfigured(m) => (Mode::Misconfigured, &m.missing, &m.invalid),
    }
}

/// `GET /api/health`: modes and missing variable names, never a value.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Health<'a> {
    pub status: HealthStatus,
    pub version: &'static str,
    pub channels: Channels<'a>,
    pub branding: BrandingHealth<'a>,
    pub events: EventsHealth,
    pub security: SecurityHealth<'a>,
    #[serde(rename = "quietHours")]
    pub quiet_hours: QuietHealth<'a>,
    pub reach: ReachHealth<'a>,
    pub dispatch: DispatchHealth<'a>,
    pub store: StoreReport<'a>,
}

/// Quiet hours as configured: the window (`null` when none), the practice's zone, whether
/// email is held back too, and invalid variables.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct QuietHealth<'a> {
    pub window: Option<String>,
    pub timezone: &'a str,
    pub email: bool,
    pub invalid: Vec<FieldError>,
}

/// How patients are reached when they have not chosen: each category's default per channel
/// (`NOTIFY_PREFERENCE_DEFAULTS`), and whether billing texts need consent on file
/// (`NOTIFY_SMS_CONSENT`: `recorded` or `required`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReachHealth<'a> {
    pub defaults: Vec<CategoryDefault>,
    #[schemars(extend("enum" = ["recorded", "required"]))]
    pub sms_consent: &'static str,
    /// Whether emails carry signed unsubscribe links (`NOTIFY_LINK_KEY` and a public URL).
    pub one_click_unsubscribe: bool,
    /// The categories whose notifications fall back from one channel to the next unless the
    /// request says otherwise (`NOTIFY_FALLBACK_CATEGORIES`).
    pub fallback_categories: &'a [Category],
    pub reputation: ReputationHealth,
    pub invalid: &'a [FieldError],
}

/// The reputation guard as the dispatcher last measured it (`state` `null` until then), and
/// its lines in percent.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReputationHealth {
    pub enabled: bool,
    pub state: Option<GuardState>,
    /// The last 24 hours.
    pub day: Option<Window>,
    /// The last 7 days.
    pub week: Option<Window>,
    #[schemars(extend("format" = "date-time"))]
    pub measured_at: Option<String>,
    pub bounce_warning: f64,
    pub bounce_hold: f64,
    pub complaint_warning: f64,
    pub complaint_hold: f64,
}

/// Email recipients sent to, hard bounces and complaints, and the rates in percent.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub emails: u64,
    pub bounces: u64,
    pub complaints: u64,
    pub bounce_rate: f64,
    pub complaint_rate: f64,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CategoryDefault {
    pub category: Category,
    /// A patient cannot turn it off (one channel stays on).
    pub required: bool,
    pub email: bool,
    pub sms: bool,
}

/// Whether delivery events are wired: SMS ask Twilio for status callbacks (needs
/// `NOTIFY_PUBLIC_URL`), email carries an SES configuration set (whose event destination is the
/// SNS topic), and events are forwarded to the practice app.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventsHealth {
    pub status_callbacks: bool,
    pub ses_configuration_set: bool,
    pub forwarding: bool,
}

/// Whether each safeguard is configured (never how).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityHealth<'a> {
    pub api_keys: bool,
    pub jwt: bool,
    /// Whether a send without credentials would be accepted (demo channels, or
    /// `NOTIFY_ALLOW_UNAUTHENTICATED=1`).
    pub unauthenticated_sends: bool,
    pub audit_key: bool,
    pub invalid: &'a [FieldError],
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrandingHealth<'a> {
    pub practice_name: &'a str,
    pub invalid: &'a [FieldError],
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Channels<'a> {
    pub email: ChannelHealth<'a>,
    pub sms: ChannelHealth<'a>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ChannelHealth<'a> {
    pub provider: Provider,
    pub mode: Mode,
    pub missing: &'a [String],
    pub invalid: &'a [FieldError],
    /// Each provider of the channel, configured or not, and its place in the send order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderHealth<'a>>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ProviderHealth<'a> {
    pub name: Provider,
    pub mode: Mode,
    /// 1 for the provider tried first; `null` when it is not used.
    pub order: Option<usize>,
    pub missing: &'a [String],
    pub invalid: &'a [FieldError],
    /// SES only, when live: where its AWS credentials come from (never a value).
    #[serde(rename = "credentialSource", skip_serializing_if = "Option::is_none")]
    pub credential_source: Option<CredentialSource>,
}

impl<'a> ProviderHealth<'a> {
    fn new(name: Provider, state: &'a ChannelConfig<()>, order: Option<usize>) -> Self {
        let (mode, missing, invalid) = problems(state);
        Self {
            name,
            mode,
            order,
            missing,
            invalid,
            credential_source: None,
        }
    }
}

impl<'a> ChannelHealth<'a> {
    fn new<T>(provider: Provider, channel: &'a ChannelConfig<T>) -> Self {
        let (mode, missing, invalid) = problems(channel);
        Self {
            provider,
            mode,
            missing,
            invalid,
            providers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn app(vars: &[(&str, &str)]) -> App {
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        App::new(Config::from_vars(&vars.collect()))
    }

    #[tokio::test]
    async fn on_vercel_live_channels_on_memory_and_forwarding_without_a_dispatcher_are_warned_of() {
        let app = app(&[
            ("VERCEL", "1"),
            ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
            ("TWILIO_AUTH_TOKEN", "token"),
            ("TWILIO_PHONE_NUMBER", "+15550001111"),
            ("NOTIFY_EVENTS_URL", "https://practice.example.com/events"),
            ("NOTIFY_EVENTS_SECRET", "whsec_MDEyMzQ1Njc4OWFiY2RlZg=="),
        ]);
        let health = checked(&app).await;
        assert!(health.store.warning.unwrap().contains("DATABASE_URL"));
        assert!(health.dispatch.warning.unwrap().contains("CRON_SECRET"));
    }

    #[tokio::test]
    async fn off_vercel_the_same_set_up_is_not_warned_of() {
        let app = app(&[
            ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
            ("TWILIO_AUTH_TOKEN", "token"),
            ("TWILIO_PHONE_NUMBER", "+15550001111"),
            ("NOTIFY_EVENTS_URL", "https://practice.example.com/events"),
            ("NOTIFY_EVENTS_SECRET", "whsec_MDEyMzQ1Njc4OWFiY2RlZg=="),
        ]);
        let health = checked(&app).await;
        assert_eq!(health.store.warning, None);
        assert_eq!(health.dispatch.warning, None);
    }
}
