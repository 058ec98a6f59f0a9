//! Configuration, read once per process from environment variables (tests pass a map): which
//! channels are live, demo or misconfigured, and the timeouts that bound every send. One file
//! per concern; a new variable goes in the file of what it configures, read with `vars.rs`.

mod access;
mod branding;
mod dispatch;
mod email;
mod policy;
mod quiet;
mod reach;
mod secret;
mod ses;
mod sms;
mod store;
mod vars;
mod webhooks;

use std::collections::HashMap;

pub use access::{AccessConfig, Limits};
pub use branding::{Branding, DEFAULT_PRACTICE_NAME};
pub use dispatch::{DispatchConfig, PaceConfig};
pub use email::{EmailChannelSettings, EmailProviderSettings, SmtpSecurity, SmtpSettings};
pub use policy::SendPolicy;
pub use quiet::{DEFAULT_TIMEZONE, QuietConfig};
pub use reach::{GuardConfig, ReachConfig, SmsConsent};
pub use secret::{Secret, SecretBytes};
pub use ses::{
    CREDENTIALS_ON_VERCEL, DEFAULT_ROLE_SESSION_NAME, DEFAULT_SES_REGION, RoleSettings,
    SesCredentials, SesSettings,
};
pub use sms::{DEFAULT_TWILIO_API_BASE_URL, TwilioSender, TwilioSettings};
pub use store::{DATABASE_URL_VARIABLES, PostgresSettings, StoreConfig};
pub use webhooks::WebhookConfig;

use crate::error::{Error, ErrorCode, FieldError};
use crate::names::{CredentialSource, Provider};
use access::{read_access, read_limits};
use branding::read_branding;
use dispatch::read_dispatch;
use email::{SMTP_REQUIRED, email_channel, read_smtp};
use policy::read_policy;
use quiet::read_quiet;
use reach::read_reach;
use sms::{TWILIO_REQUIRED, read_twilio};
use store::{read_store, read_store_key};
use vars::{Vars, read_secret};
use webhooks::read_webhooks;

/// The state of one channel, decided by which of its variables are set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelConfig<T> {
    /// Every required variable is set and valid: sends go to the provider.
    Live(T),
    /// None of the required variables is set (or `NOTIFY_DEMO=1`): sends are only logged.
    Demo,
    /// Some are set but not all, or one is invalid: sends answer 503 until it is fixed. Never a
    /// silent demo, so that a practice never believes a patient was told when nobody was.
    Misconfigured(Misconfiguration),
}

/// What a misconfigured channel lacks: variable names and problems, never values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Misconfiguration {
    pub missing: Vec<String>,
    pub invalid: Vec<FieldError>,
}

impl Misconfiguration {
    /// The answer to a call that needs what is misconfigured: `code`, a message that ends by
    /// naming every variable to fix, and the variables themselves (`missing`, `invalid`).
    pub fn error(&self, code: ErrorCode, message: &str, hint: &'static str) -> Error {
        let mut names: Vec<&str> = self.missing.iter().map(String::as_str).collect();
        names.extend(self.invalid.iter().map(|i| i.field.as_str()));
        let mut error =
            Error::new(code, format!("{message}: fix {}.", names.join(", "))).with_hint(hint);
        error.missing = self.missing.clone();
        error.invalid = self.invalid.clone();
        error
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The email providers in the order they are tried.
    pub email: ChannelConfig<EmailChannelSettings>,
    /// Each email provider's own state, for health (whether or not it is in the list).
    pub email_providers: Vec<(Provider, ChannelConfig<()>)>,
    /// Where SES's credentials come from, when its variables are complete.
    pub ses_credentials: Option<CredentialSource>,
    pub sms: ChannelConfig<TwilioSettings>,
    pub policy: SendPolicy,
    pub branding: Branding,
    /// Branding variables that were set but unusable; their fallbacks are used instead.
    pub branding_invalid: Vec<FieldError>,
    pub access: AccessConfig,
    pub limits: Limits,
    /// The key of the audit trail's recipient hashes (`NOTIFY_AUDIT_KEY`).
    pub audit_key: Option<Secret>,
    /// Access, limit, audit and webhook variables that were set but unusable (and so not used).
    pub security_invalid: Vec<FieldError>,
    pub webhooks: WebhookConfig,
    /// Where idempotency keys, the message log and the shared limits are kept.
    pub store: StoreConfig,
    /// The key scheduled messages are sealed with in the store (`NOTIFY_STORE_KEY`).
    pub store_key: Option<SecretBytes>,
    /// Quiet hours, and the practice's time zone.
    pub quiet: QuietConfig,
    /// Quiet-hours variables that were set but unusable.
    pub quiet_invalid: Vec<FieldError>,
    /// The practice's defaults per category and channel, and whether SMS consent is required.
    pub reach: ReachConfig,
    /// Reach variables that were set but unusable (their defaults are used instead).
    pub reach_invalid: Vec<FieldError>,
    /// The dispatcher's secret, retention and local timer.
    pub dispatch: DispatchConfig,
    /// Dispatcher variables that were set but unusable (their defaults are used instead).
    pub dispatch_invalid: Vec<FieldError>,
    /// Whether this runs on Vercel (`VERCEL` is set there), where instances come and go.
    pub on_vercel: bool,
    /// `SSL_CERT_FILE`: PEM certificates outgoing HTTPS trusts besides the built-in roots.
    pub tls_roots: Option<String>,
}

impl Config {
    /// Reads the process environment. Call once per process.
    pub fn from_env() -> Self {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Resolves the configuration from a map of variables.
    ///
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are never read here: on Vercel they are
    /// Vercel's own, not the practice's SES credentials; off Vercel, aws-config's default chain
    /// reads them (and the rest of the standard chain) when SES has no credentials of its own.
    pub fn from_vars(vars: &HashMap<String, String>) -> Self {
        let vars = Vars(vars);
        let force_demo = vars
            .get("NOTIFY_DEMO")
            .is_some_and(|v| v == "1" || v == "true");
        let (policy, policy_problems) = read_policy(&vars);
        let on_vercel = vars.get("VERCEL").is_some();
        let ses = ses::ses_channel(&vars, force_demo, on_vercel, &policy_problems);
        let ses_credentials = ses::credential_source(&ses);
        let smtp = resolve(
            &vars,
            SMTP_REQUIRED,
            force_demo,
            &policy_problems,
            read_smtp,
        );
        let email_providers = vec![
            (Provider::AwsSes, ses.state()),
            (Provider::Smtp, smtp.state()),
        ];
        let email = email_channel(&vars, force_demo, on_vercel, ses, smtp);
        let sms = resolve(
            &vars,
            TWILIO_REQUIRED,
            force_demo,
            &policy_problems,
            read_twilio,
        );
        let (branding, branding_invalid) = read_branding(&vars);
        let mut security_invalid = Vec::new();
        let access = read_access(&vars, &mut security_invalid);
        let limits = read_limits(&vars, &mut security_invalid);
        let audit_key = read_secret(&vars, "NOTIFY_AUDIT_KEY", 32, &mut security_invalid);
        let webhooks = read_webhooks(&vars, &mut security_invalid);
        let store = read_store(&vars, audit_key.is_some());
        let tls_roots = vars.get("SSL_CERT_FILE").map(str::to_owned);
        if tls_roots
            .as_ref()
            .is_some_and(|path| std::fs::metadata(path).is_err())
        {
            security_invalid.push(FieldError::new(
                "SSL_CERT_FILE",
                "names no readable file; outgoing HTTPS cannot start until it does",
            ));
        }
        let store_key = read_store_key(&vars, &mut security_invalid);
        let mut quiet_invalid = Vec::new();
        let quiet = read_quiet(&vars, &mut quiet_invalid);
        let mut reach_invalid = Vec::new();
        let reach = read_reach(&vars, webhooks.public_url.as_deref(), &mut reach_invalid);
        let mut dispatch_invalid = Vec::new();
        let dispatch = read_dispatch(&vars, &mut dispatch_invalid);
        Self {
            email,
            email_providers,
            sms,
            policy,
            branding,
            branding_invalid,
            access,
            limits,
            audit_key,
            security_invalid,
            webhooks,
            store,
            store_key,
            quiet,
            quiet_invalid,
            reach,
            reach_invalid,
            dispatch,
            dispatch_invalid,
            on_vercel,
            ses_credentials,
            tls_roots,
        }
    }
}

/// Demo when no required variable is set, misconfigured when some are missing or any is
/// invalid, live otherwise.
fn resolve<T>(
    vars: &Vars,
    required: &[&[&str]],
    force_demo: bool,
    policy_problems: &[FieldError],
    read: impl FnOnce(&Vars, &mut Vec<FieldError>) -> Option<T>,
) -> ChannelConfig<T> {
    let is_set = |group: &&[&str]| group.iter().any(|name| vars.get(name).is_some());
    if force_demo || !required.iter().any(is_set) {
        return ChannelConfig::Demo;
    }
    let missing: Vec<String> = required
        .iter()
        .filter(|group| !is_set(group))
        .map(|group| group.join(" or "))
        .collect();
    let mut invalid = policy_problems.to_vec();
    let settings = read(vars, &mut invalid);
    match settings {
        Some(settings) if missing.is_empty() && invalid.is_empty() => ChannelConfig::Live(settings),
        _ => ChannelConfig::Misconfigured(Misconfiguration { missing, invalid }),
    }
}

impl<T> ChannelConfig<T> {
    /// The state without the settings.
    pub fn state(&self) -> ChannelConfig<()> {
        match self {
            Self::Live(_) => ChannelConfig::Live(()),
            Self::Demo => ChannelConfig::Demo,
            Self::Misconfigured(m) => ChannelConfig::Misconfigured(m.clone()),
        }
    }
}

#[cfg(test)]
mod tests;
