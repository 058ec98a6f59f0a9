//! Configuration, read once per process from environment variables (tests pass a map): which
//! channels are live, demo or misconfigured, and the timeouts that bound every send.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::domain::{EmailAddress, PhoneNumber};
use crate::error::FieldError;
use crate::names::Provider;
use crate::support::NonEmpty;

/// A credential, held by `secrecy` (wiped from memory when dropped; `Debug` shows
/// `[REDACTED]`, and there is no `Display`). Equality is only for tests of the configuration.
#[derive(Clone, Debug)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

/// A decoded key (`NOTIFY_EVENTS_SECRET`), held as [`Secret`] is.
#[derive(Clone, Debug)]
pub struct SecretBytes(SecretSlice<u8>);

impl SecretBytes {
    pub fn new(value: Vec<u8>) -> Self {
        Self(SecretSlice::from(value))
    }

    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for SecretBytes {}

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

/// AWS SES v2 settings, from the seed guide's variable names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesSettings {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub region: String,
    pub from: EmailAddress,
    pub configuration_set: Option<String>,
    pub endpoint_url: Option<String>,
}

/// One email provider's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailProviderSettings {
    Ses(SesSettings),
    Smtp(SmtpSettings),
}

impl EmailProviderSettings {
    pub fn provider(&self) -> Provider {
        match self {
            Self::Ses(_) => Provider::AwsSes,
            Self::Smtp(_) => Provider::Smtp,
        }
    }
}

/// The live email channel: its providers in the order they are tried, and the settings of
/// the whole channel, which hold whichever provider sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChannelSettings {
    pub providers: NonEmpty<EmailProviderSettings>,
    /// `AWS_SES_REPLY_TO`: where replies go when a message names no reply-to.
    pub reply_to: Vec<EmailAddress>,
}

impl ChannelConfig<EmailChannelSettings> {
    /// Whether SES sends with a configuration set (whose event destination feeds the webhook).
    pub fn uses_ses_configuration_set(&self) -> bool {
        matches!(self, Self::Live(channel) if channel.providers.iter().any(
            |p| matches!(p, EmailProviderSettings::Ses(ses) if ses.configuration_set.is_some())
        ))
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (the default; port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this host or its private network.
    None,
}

/// Any SMTP relay: SendGrid, Mailgun, Postmark, Office 365, Google Workspace, or the practice's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, Secret)>,
    pub from: EmailAddress,
    pub security: SmtpSecurity,
}

/// Who the SMS comes from: a number, a Messaging Service, or both (the service then picks
/// features such as opt-out handling while the number stays the sender).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioSender {
    pub phone_number: Option<PhoneNumber>,
    pub messaging_service_sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioSettings {
    pub account_sid: String,
    pub auth_token: Secret,
    pub sender: TwilioSender,
    pub api_base_url: String,
}

/// Time and attempt bounds for one send, chosen so that a send with all its retries ends well
/// inside the function's `maxDuration` (30 s in `vercel.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPolicy {
    /// One request to the provider, connection included.
    pub attempt_timeout: Duration,
    /// The whole send, retries and back-off included.
    pub send_timeout: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for SendPolicy {
    fn default() -> Self {
        Self {
            attempt_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(25),
            max_attempts: 3,
        }
    }
}

/// The practice as its patients know it, shown in every template. Everything is optional:
/// without a portal URL the messages say "your patient portal" without a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    pub practice_name: String,
    pub phone: Option<String>,
    pub support_email: Option<String>,
    pub portal_url: Option<String>,
    pub logo_url: Option<String>,
}

pub const DEFAULT_PRACTICE_NAME: &str = "Your care team";

impl Default for Branding {
    fn default() -> Self {
        Self {
            practice_name: DEFAULT_PRACTICE_NAME.to_owned(),
            phone: None,
            support_email: None,
            portal_url: None,
            logo_url: None,
        }
    }
}

/// Who may send: API keys for servers, short-lived JWTs for browsers, and the origins a
/// browser may call from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessConfig {
    pub api_keys: Vec<Secret>,
    pub jwt_secret: Option<Secret>,
    /// The longest a JWT may live (`exp` minus now), so a leaked token is soon worthless.
    pub jwt_max_ttl: Duration,
    pub allowed_origins: Vec<String>,
    /// `NOTIFY_ALLOW_UNAUTHENTICATED=1`: live channels accept sends without credentials.
    pub allow_unauthenticated: bool,
}

/// Abuse limits, per function instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Send requests per caller (API key, JWT subject or client IP) per minute.
    pub requests_per_minute: u32,
    pub sms_per_recipient_per_hour: u32,
    pub emails_per_recipient_per_hour: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            requests_per_minute: 60,
            sms_per_recipient_per_hour: 5,
            emails_per_recipient_per_hour: 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The email providers in the order they are tried.
    pub email: ChannelConfig<EmailChannelSettings>,
    /// Each email provider's own state, for health (whether or not it is in the list).
    pub email_providers: Vec<(Provider, ChannelConfig<()>)>,
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
}

/// Delivery webhooks: where this deployment is reachable, and where events go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookConfig {
    /// `NOTIFY_PUBLIC_URL`: the deployment's public base URL, which Twilio signs and which SMS
    /// name as their `StatusCallback`.
    pub public_url: Option<String>,
    /// `NOTIFY_EVENTS_URL` and the decoded `NOTIFY_EVENTS_SECRET`.
    pub events: Option<(String, SecretBytes)>,
}

pub const DEFAULT_SES_REGION: &str = "us-east-1";
pub const DEFAULT_TWILIO_API_BASE_URL: &str = "https://api.twilio.com";

const SES_REQUIRED: &[&[&str]] = &[
    &["AWS_SES_ACCESS_KEY_ID"],
    &["AWS_SES_SECRET_ACCESS_KEY"],
    &["AWS_SES_FROM_EMAIL"],
];
const SMTP_REQUIRED: &[&[&str]] = &[&["SMTP_HOST"], &["SMTP_FROM"]];
const EMAIL_PROVIDER_NAMES: [&str; 2] = ["ses", "smtp"];
const TWILIO_REQUIRED: &[&[&str]] = &[
    &["TWILIO_ACCOUNT_SID"],
    &["TWILIO_AUTH_TOKEN"],
    &["TWILIO_PHONE_NUMBER", "TWILIO_MESSAGING_SERVICE_SID"],
];

/// The environment as a map, with blank values treated as unset (dashboards leave those).
struct Vars<'a>(&'a HashMap<String, String>);

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

impl Config {
    /// Reads the process environment. Call once per process.
    pub fn from_env() -> Self {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Resolves the configuration from a map of variables.
    ///
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are deliberately not read: Vercel may set
    /// them in every function for its own use, and they are not the practice's SES credentials.
    pub fn from_vars(vars: &HashMap<String, String>) -> Self {
        let vars = Vars(vars);
        let force_demo = vars
            .get("NOTIFY_DEMO")
            .is_some_and(|v| v == "1" || v == "true");
        let (policy, policy_problems) = read_policy(&vars);
        let ses = resolve(&vars, SES_REQUIRED, force_demo, &policy_problems, read_ses);
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
        let email = email_channel(&vars, force_demo, ses, smtp);
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

fn read_webhooks(vars: &Vars, invalid: &mut Vec<FieldError>) -> WebhookConfig {
    let public_url = vars
        .get("NOTIFY_PUBLIC_URL")
        .and_then(|url| secure_url("NOTIFY_PUBLIC_URL", url, invalid));
    let events_url = vars
        .get("NOTIFY_EVENTS_URL")
        .and_then(|url| secure_url("NOTIFY_EVENTS_URL", url, invalid));
    let secret = vars.get("NOTIFY_EVENTS_SECRET").and_then(|raw| {
        let encoded = raw.strip_prefix("whsec_").unwrap_or(raw);
        match base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded) {
            Ok(key) if key.len() >= 16 => Some(SecretBytes::new(key)),
            _ => {
                invalid.push(FieldError::new(
                    "NOTIFY_EVENTS_SECRET",
                    "must be whsec_ followed by at least 16 bytes in base64",
                ));
                None
            }
        }
    });
    let events = match (events_url, secret) {
        (Some(url), Some(secret)) => Some((url, secret)),
        (Some(_), None) => {
            invalid.push(FieldError::new(
                "NOTIFY_EVENTS_SECRET",
                "is required with NOTIFY_EVENTS_URL: events are never sent unsigned",
            ));
            None
        }
        _ => None,
    };
    WebhookConfig { public_url, events }
}

/// An https URL (http only on this host, for local development), without a trailing slash.
fn secure_url(name: &'static str, value: &str, invalid: &mut Vec<FieldError>) -> Option<String> {
    match reqwest::Url::parse(value) {
        Ok(url)
            if url.has_host()
                && (url.scheme() == "https"
                    || (url.scheme() == "http" && url.host_str().is_some_and(is_local_host))) =>
        {
            Some(value.trim_end_matches('/').to_owned())
        }
        _ => {
            invalid.push(FieldError::new(name, "must be an https URL"));
            None
        }
    }
}

fn read_access(vars: &Vars, invalid: &mut Vec<FieldError>) -> AccessConfig {
    let mut api_keys = Vec::new();
    for key in vars
        .get("NOTIFY_API_KEYS")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
    {
        if key.is_empty() {
            continue;
        }
        if key.len() < MIN_API_KEY_CHARS {
            invalid.push(FieldError::new(
                "NOTIFY_API_KEYS",
                format!("a key is shorter than {MIN_API_KEY_CHARS} characters and is not used"),
            ));
        } else {
            api_keys.push(Secret::new(key));
        }
    }
    let mut allowed_origins = Vec::new();
    for origin in vars
        .get("NOTIFY_ALLOWED_ORIGINS")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
    {
        if origin.is_empty() {
            continue;
        }
        match reqwest::Url::parse(origin) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.has_host()
                    && url.path() == "/"
                    && !origin.ends_with('/') =>
            {
                allowed_origins.push(url.origin().ascii_serialization());
            }
            _ => invalid.push(FieldError::new(
                "NOTIFY_ALLOWED_ORIGINS",
                format!("{origin:?} is not an origin such as https://app.example.com (no path, no trailing slash)"),
            )),
        }
    }
    let jwt_max_ttl = Duration::from_secs(read_number(
        vars,
        "NOTIFY_JWT_MAX_TTL_SECONDS",
        900,
        60..=86_400,
        invalid,
    ));
    AccessConfig {
        api_keys,
        jwt_secret: read_secret(vars, "NOTIFY_JWT_SECRET", 32, invalid),
        jwt_max_ttl,
        allowed_origins,
        allow_unauthenticated: vars.get("NOTIFY_ALLOW_UNAUTHENTICATED") == Some("1"),
    }
}

const MIN_API_KEY_CHARS: usize = 16;

fn read_limits(vars: &Vars, invalid: &mut Vec<FieldError>) -> Limits {
    let defaults = Limits::default();
    let mut limit = |name, default| {
        read_number(vars, name, u64::from(default), 1..=1_000_000_000, invalid) as u32
    };
    Limits {
        requests_per_minute: limit("NOTIFY_RATE_LIMIT_PER_MINUTE", defaults.requests_per_minute),
        sms_per_recipient_per_hour: limit(
            "NOTIFY_SMS_PER_RECIPIENT_PER_HOUR",
            defaults.sms_per_recipient_per_hour,
        ),
        emails_per_recipient_per_hour: limit(
            "NOTIFY_EMAILS_PER_RECIPIENT_PER_HOUR",
            defaults.emails_per_recipient_per_hour,
        ),
    }
}

/// A whole number in `range`, or `default` with a problem noted when it is not one.
fn read_number(
    vars: &Vars,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    invalid: &mut Vec<FieldError>,
) -> u64 {
    match vars.get(name).map(str::parse::<u64>) {
        None => default,
        Some(Ok(n)) if range.contains(&n) => n,
        Some(_) => {
            invalid.push(FieldError::new(
                name,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            ));
            default
        }
    }
}

/// A secret of at least `min_len` characters; a shorter one is refused (and not used).
fn read_secret(
    vars: &Vars,
    name: &'static str,
    min_len: usize,
    invalid: &mut Vec<FieldError>,
) -> Option<Secret> {
    let value = vars.get(name)?;
    if value.len() < min_len {
        invalid.push(FieldError::new(
            name,
            format!("must be at least {min_len} characters; it is not used"),
        ));
        return None;
    }
    Some(Secret::new(value))
}

fn read_branding(vars: &Vars) -> (Branding, Vec<FieldError>) {
    let mut invalid = Vec::new();
    let mut text = |name: &'static str, max: usize| -> Option<String> {
        let value = vars.get(name)?;
        if value.chars().count() > max || value.chars().any(char::is_control) {
            invalid.push(FieldError::new(
                name,
                format!("must be one line of at most {max} characters"),
            ));
            return None;
        }
        Some(value.to_owned())
    };
    let practice_name = text("PRACTICE_NAME", 80);
    let phone = text("PRACTICE_PHONE", 30);
    let support_email = vars.get("PRACTICE_SUPPORT_EMAIL").and_then(|v| {
        EmailAddress::parse(v)
            .map(|e| e.address().to_owned())
            .map_err(|m| invalid.push(FieldError::new("PRACTICE_SUPPORT_EMAIL", m)))
            .ok()
    });
    let mut https = |name: &'static str| -> Option<String> {
        let value = vars.get(name)?;
        match reqwest::Url::parse(value) {
            Ok(url) if url.scheme() == "https" && url.has_host() => Some(url.to_string()),
            _ => {
                invalid.push(FieldError::new(name, "must be an https URL"));
                None
            }
        }
    };
    let portal_url = https("PRACTICE_PORTAL_URL");
    let logo_url = https("PRACTICE_LOGO_URL");
    let branding = Branding {
        practice_name: practice_name.unwrap_or_else(|| DEFAULT_PRACTICE_NAME.to_owned()),
        phone,
        support_email,
        portal_url,
        logo_url,
    };
    (branding, invalid)
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

/// The email channel: `EMAIL_PROVIDERS` (`ses,smtp`) in that order, each of which must then be
/// configured; without it, every configured provider, SES first. A partly configured provider
/// makes the channel misconfigured either way, never silently skipped.
fn email_channel(
    vars: &Vars,
    force_demo: bool,
    ses: ChannelConfig<SesSettings>,
    smtp: ChannelConfig<SmtpSettings>,
) -> ChannelConfig<EmailChannelSettings> {
    if force_demo {
        return ChannelConfig::Demo;
    }
    let explicit: Option<Vec<String>> = vars.get("EMAIL_PROVIDERS").map(|list| {
        list.split(',')
            .map(|name| name.trim().to_ascii_lowercase())
            .filter(|name| !name.is_empty())
            .collect()
    });
    let mut problem = Misconfiguration::default();
    let mut providers = Vec::new();
    let ses = map_settings(ses, EmailProviderSettings::Ses);
    let smtp = map_settings(smtp, EmailProviderSettings::Smtp);
    match &explicit {
        None => {
            add_provider("ses", ses, false, &mut providers, &mut problem);
            add_provider("smtp", smtp, false, &mut providers, &mut problem);
        }
        Some(names) => {
            let (mut ses, mut smtp) = (Some(ses), Some(smtp));
            for name in names {
                match name.as_str() {
                    "ses" => match ses.take() {
                        Some(state) => {
                            add_provider("ses", state, true, &mut providers, &mut problem)
                        }
                        None => problem.invalid.push(repeated("ses")),
                    },
                    "smtp" => match smtp.take() {
                        Some(state) => {
                            add_provider("smtp", state, true, &mut providers, &mut problem)
                        }
                        None => problem.invalid.push(repeated("smtp")),
                    },
                    other => problem.invalid.push(FieldError::new(
                        "EMAIL_PROVIDERS",
                        format!(
                            "{other:?} is not a provider; the providers are {}",
                            EMAIL_PROVIDER_NAMES.join(", ")
                        ),
                    )),
                }
            }
        }
    }
    let reply_to = read_reply_to(vars, &mut problem.invalid);
    if !problem.missing.is_empty() || !problem.invalid.is_empty() {
        return ChannelConfig::Misconfigured(problem);
    }
    match NonEmpty::from_vec(providers) {
        None => ChannelConfig::Demo,
        Some(providers) => ChannelConfig::Live(EmailChannelSettings {
            providers,
            reply_to,
        }),
    }
}

/// Adds a live provider to the list, or its problems to the channel's. A provider the list
/// names explicitly but that has no variables at all is missing all of them.
fn add_provider(
    name: &str,
    state: ChannelConfig<EmailProviderSettings>,
    named: bool,
    providers: &mut Vec<EmailProviderSettings>,
    problem: &mut Misconfiguration,
) {
    match state {
        ChannelConfig::Live(settings) => providers.push(settings),
        ChannelConfig::Misconfigured(m) => {
            problem.missing.extend(m.missing);
            problem.invalid.extend(m.invalid);
        }
        ChannelConfig::Demo if named => {
            let required = if name == "ses" {
                SES_REQUIRED
            } else {
                SMTP_REQUIRED
            };
            problem
                .missing
                .extend(required.iter().map(|group| group.join(" or ")));
        }
        ChannelConfig::Demo => {}
    }
}

fn repeated(name: &str) -> FieldError {
    FieldError::new("EMAIL_PROVIDERS", format!("names {name} twice"))
}

fn map_settings<T, U>(config: ChannelConfig<T>, f: impl FnOnce(T) -> U) -> ChannelConfig<U> {
    match config {
        ChannelConfig::Live(settings) => ChannelConfig::Live(f(settings)),
        ChannelConfig::Demo => ChannelConfig::Demo,
        ChannelConfig::Misconfigured(m) => ChannelConfig::Misconfigured(m),
    }
}

fn read_smtp(vars: &Vars, invalid: &mut Vec<FieldError>) -> Option<SmtpSettings> {
    let security = match vars
        .get("SMTP_SECURITY")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => SmtpSecurity::None,
        Some(_) => {
            invalid.push(FieldError::new(
                "SMTP_SECURITY",
                "must be starttls, tls or none",
            ));
            SmtpSecurity::StartTls
        }
    };
    let default_port = match security {
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::Tls => 465,
        SmtpSecurity::None => 25,
    };
    let port = read_number(vars, "SMTP_PORT", default_port, 1..=65_535, invalid) as u16;
    let host = vars.get("SMTP_HOST");
    let credentials = match (vars.get("SMTP_USERNAME"), vars.get("SMTP_PASSWORD")) {
        (Some(user), Some(password)) => Some((user.to_owned(), Secret::new(password))),
        (None, None) => None,
        _ => {
            invalid.push(FieldError::new(
                "SMTP_USERNAME",
                "SMTP_USERNAME and SMTP_PASSWORD go together",
            ));
            None
        }
    };
    if security == SmtpSecurity::None {
        if host.is_some_and(|h| !is_local_host(h)) {
            invalid.push(FieldError::new(
                "SMTP_SECURITY",
                "none is only allowed for a relay on this host or a private network address",
            ));
        }
        if credentials.is_some() {
            invalid.push(FieldError::new(
                "SMTP_SECURITY",
                "none would send SMTP_PASSWORD unencrypted; use starttls or tls",
            ));
        }
    }
    let from = vars.get("SMTP_FROM").and_then(|v| {
        EmailAddress::parse(v)
            .map_err(|m| invalid.push(FieldError::new("SMTP_FROM", m)))
            .ok()
    });
    Some(SmtpSettings {
        host: host?.to_owned(),
        port,
        credentials,
        from: from?,
        security,
    })
}

/// `localhost`, a loopback address, or a private-network address: where an unencrypted
/// relay is a deliberate set-up rather than an accident.
fn is_local_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00,
        Err(_) => false,
    }
}

fn read_ses(vars: &Vars, invalid: &mut Vec<FieldError>) -> Option<SesSettings> {
    let region = vars.get("AWS_SES_REGION").unwrap_or(DEFAULT_SES_REGION);
    let region_ok = region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        invalid.push(FieldError::new(
            "AWS_SES_REGION",
            "must be an AWS region name such as us-east-1",
        ));
    }
    let from = vars.get("AWS_SES_FROM_EMAIL").and_then(|v| {
        EmailAddress::parse(v)
            .map_err(|m| invalid.push(FieldError::new("AWS_SES_FROM_EMAIL", m)))
            .ok()
    });
    let endpoint_url = vars
        .get("AWS_ENDPOINT_URL_SESV2")
        .map(|v| ("AWS_ENDPOINT_URL_SESV2", v))
        .or_else(|| {
            vars.get("AWS_ENDPOINT_URL")
                .map(|v| ("AWS_ENDPOINT_URL", v))
        })
        .and_then(|(name, v)| check_url(name, v, invalid));
    Some(SesSettings {
        access_key_id: vars.get("AWS_SES_ACCESS_KEY_ID")?.to_owned(),
        secret_access_key: Secret::new(vars.get("AWS_SES_SECRET_ACCESS_KEY")?),
        region: region.to_owned(),
        from: from?,
        configuration_set: vars.get("SES_CONFIGURATION_SET").map(str::to_owned),
        endpoint_url,
    })
}

/// `AWS_SES_REPLY_TO`: the email channel's default reply-to, whichever provider sends.
fn read_reply_to(vars: &Vars, invalid: &mut Vec<FieldError>) -> Vec<EmailAddress> {
    let mut reply_to = Vec::new();
    for entry in vars.get("AWS_SES_REPLY_TO").unwrap_or("").split(',') {
        if entry.trim().is_empty() {
            continue;
        }
        match EmailAddress::parse(entry) {
            Ok(address) => reply_to.push(address),
            Err(m) => invalid.push(FieldError::new("AWS_SES_REPLY_TO", m)),
        }
    }
    reply_to
}

fn read_twilio(vars: &Vars, invalid: &mut Vec<FieldError>) -> Option<TwilioSettings> {
    let account_sid = vars.get("TWILIO_ACCOUNT_SID");
    if account_sid.is_some_and(|sid| !is_twilio_sid(sid, "AC")) {
        invalid.push(FieldError::new(
            "TWILIO_ACCOUNT_SID",
            "must be AC followed by 32 hexadecimal characters, as shown in the Twilio Console",
        ));
    }
    let phone_number = vars.get("TWILIO_PHONE_NUMBER").and_then(|v| {
        PhoneNumber::parse(v)
            .map_err(|m| invalid.push(FieldError::new("TWILIO_PHONE_NUMBER", m)))
            .ok()
    });
    let messaging_service_sid = vars.get("TWILIO_MESSAGING_SERVICE_SID");
    if messaging_service_sid.is_some_and(|sid| !is_twilio_sid(sid, "MG")) {
        invalid.push(FieldError::new(
            "TWILIO_MESSAGING_SERVICE_SID",
            "must be MG followed by 32 hexadecimal characters",
        ));
    }
    let api_base_url = vars
        .get("TWILIO_API_BASE_URL")
        .map_or(Some(DEFAULT_TWILIO_API_BASE_URL.to_owned()), |v| {
            check_url("TWILIO_API_BASE_URL", v, invalid)
        });
    let sender = TwilioSender {
        phone_number,
        messaging_service_sid: messaging_service_sid.map(str::to_owned),
    };
    if sender.phone_number.is_none() && sender.messaging_service_sid.is_none() {
        return None;
    }
    Some(TwilioSettings {
        account_sid: account_sid?.to_owned(),
        auth_token: Secret::new(vars.get("TWILIO_AUTH_TOKEN")?),
        sender,
        api_base_url: api_base_url?,
    })
}

fn read_policy(vars: &Vars) -> (SendPolicy, Vec<FieldError>) {
    let defaults = SendPolicy::default();
    let mut problems = Vec::new();
    let mut millis = |name: &'static str, default: Duration| -> Duration {
        match vars.get(name).map(str::parse::<u64>) {
            None => default,
            Some(Ok(ms)) if (1..=60_000).contains(&ms) => Duration::from_millis(ms),
            Some(_) => {
                problems.push(FieldError::new(
                    name,
                    "must be milliseconds, from 1 to 60000",
                ));
                default
            }
        }
    };
    let attempt_timeout = millis("NOTIFY_ATTEMPT_TIMEOUT_MS", defaults.attempt_timeout);
    let send_timeout = millis("NOTIFY_SEND_TIMEOUT_MS", defaults.send_timeout);
    let max_attempts = match vars.get("NOTIFY_MAX_ATTEMPTS").map(str::parse::<u32>) {
        None => defaults.max_attempts,
        Some(Ok(n)) if (1..=5).contains(&n) => n,
        Some(_) => {
            problems.push(FieldError::new(
                "NOTIFY_MAX_ATTEMPTS",
                "must be a number from 1 to 5",
            ));
            defaults.max_attempts
        }
    };
    let policy = SendPolicy {
        attempt_timeout,
        send_timeout,
        max_attempts,
    };
    (policy, problems)
}

fn is_twilio_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// An http(s) URL without its trailing slash, or a problem noted against `name`.
fn check_url(name: &'static str, value: &str, invalid: &mut Vec<FieldError>) -> Option<String> {
    match reqwest::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
            Some(value.trim_end_matches('/').to_owned())
        }
        _ => {
            invalid.push(FieldError::new(name, "must be an http or https URL"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    fn config(pairs: &[(&str, &str)]) -> Config {
        let vars = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(&vars)
    }

    fn live_ses(config: &Config) -> SesSettings {
        match &config.email {
            ChannelConfig::Live(channel) => match &channel.providers.first {
                EmailProviderSettings::Ses(ses) => ses.clone(),
                other => panic!("first provider is {other:?}"),
            },
            other => panic!("email not live: {other:?}"),
        }
    }

    fn provider_names(config: &Config) -> Vec<&'static str> {
        match &config.email {
            ChannelConfig::Live(channel) => channel
                .providers
                .iter()
                .map(|p| match p {
                    EmailProviderSettings::Ses(_) => "ses",
                    EmailProviderSettings::Smtp(_) => "smtp",
                })
                .collect(),
            other => panic!("email not live: {other:?}"),
        }
    }

    const SMTP_VARS: [(&str, &str); 4] = [
        ("SMTP_HOST", "smtp.sendgrid.net"),
        ("SMTP_USERNAME", "apikey"),
        ("SMTP_PASSWORD", "SG.secret"),
        ("SMTP_FROM", "noreply@clinic.example.com"),
    ];

    #[test]
    fn every_configured_email_provider_is_used_ses_first_unless_the_list_says_otherwise() {
        let both = [SES_VARS.as_slice(), SMTP_VARS.as_slice()].concat();
        assert_eq!(provider_names(&config(&both)), ["ses", "smtp"]);
        let mut reversed = both.clone();
        reversed.push(("EMAIL_PROVIDERS", "smtp, ses"));
        assert_eq!(provider_names(&config(&reversed)), ["smtp", "ses"]);
        let mut only_smtp = both.clone();
        only_smtp.push(("EMAIL_PROVIDERS", "smtp"));
        assert_eq!(provider_names(&config(&only_smtp)), ["smtp"]);
        assert_eq!(provider_names(&config(&SMTP_VARS)), ["smtp"]);
    }

    #[test]
    fn smtp_defaults_to_starttls_on_587() {
        let config = config(&SMTP_VARS);
        let ChannelConfig::Live(channel) = config.email else {
            panic!()
        };
        let EmailProviderSettings::Smtp(smtp) = &channel.providers.first else {
            panic!()
        };
        assert_eq!((smtp.security, smtp.port), (SmtpSecurity::StartTls, 587));
        assert!(!format!("{smtp:?}").contains("SG.secret"));
    }

    #[test]
    fn a_listed_provider_that_is_not_configured_is_misconfigured_not_skipped() {
        let mut vars = SES_VARS.to_vec();
        vars.push(("EMAIL_PROVIDERS", "ses,smtp,mailgun"));
        let config = config(&vars);
        let problem = misconfiguration(&config.email);
        assert_eq!(problem.missing, ["SMTP_HOST", "SMTP_FROM"]);
        assert_eq!(problem.invalid[0].field, "EMAIL_PROVIDERS");
    }

    #[test]
    fn unencrypted_smtp_is_only_for_a_local_relay_and_never_with_a_password() {
        let local = config(&[
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_FROM", "a@clinic.example.com"),
            ("SMTP_SECURITY", "none"),
        ]);
        assert!(matches!(local.email, ChannelConfig::Live(_)));
        let private = config(&[
            ("SMTP_HOST", "10.0.0.5"),
            ("SMTP_FROM", "a@clinic.example.com"),
            ("SMTP_SECURITY", "none"),
        ]);
        assert!(matches!(private.email, ChannelConfig::Live(_)));
        let public = config(&[
            ("SMTP_HOST", "smtp.example.com"),
            ("SMTP_FROM", "a@clinic.example.com"),
            ("SMTP_SECURITY", "none"),
        ]);
        assert_eq!(
            misconfiguration(&public.email).invalid[0].field,
            "SMTP_SECURITY"
        );
        let mut with_password = SMTP_VARS.to_vec();
        with_password[0] = ("SMTP_HOST", "localhost");
        with_password.push(("SMTP_SECURITY", "none"));
        assert_eq!(
            misconfiguration(&config(&with_password).email).invalid[0].field,
            "SMTP_SECURITY"
        );
    }

    fn misconfiguration<T: std::fmt::Debug>(channel: &ChannelConfig<T>) -> &Misconfiguration {
        match channel {
            ChannelConfig::Misconfigured(m) => m,
            other => panic!("expected misconfigured, got {other:?}"),
        }
    }

    const SES_VARS: [(&str, &str); 3] = [
        ("AWS_SES_ACCESS_KEY_ID", "AKIAEXAMPLE"),
        ("AWS_SES_SECRET_ACCESS_KEY", "wJalrEXAMPLE"),
        (
            "AWS_SES_FROM_EMAIL",
            "Sunrise Clinic <noreply@clinic.example.com>",
        ),
    ];
    const TWILIO_VARS: [(&str, &str); 3] = [
        ("TWILIO_ACCOUNT_SID", SID),
        ("TWILIO_AUTH_TOKEN", "token"),
        ("TWILIO_PHONE_NUMBER", "+15550001111"),
    ];

    #[test]
    fn no_variables_at_all_means_demo_on_both_channels() {
        let config = config(&[]);
        assert_eq!(config.email, ChannelConfig::Demo);
        assert_eq!(config.sms, ChannelConfig::Demo);
        assert_eq!(config.policy, SendPolicy::default());
    }

    #[test]
    fn blank_variables_count_as_unset() {
        let config = config(&[("AWS_SES_ACCESS_KEY_ID", "  "), ("TWILIO_AUTH_TOKEN", "")]);
        assert_eq!(config.email, ChannelConfig::Demo);
        assert_eq!(config.sms, ChannelConfig::Demo);
    }

    #[test]
    fn every_required_variable_makes_a_channel_live_with_defaults_filled_in() {
        let config = config(&[SES_VARS.as_slice(), TWILIO_VARS.as_slice()].concat());
        let ses = live_ses(&config);
        assert_eq!(ses.region, "us-east-1");
        assert_eq!(ses.from.address(), "noreply@clinic.example.com");
        assert_eq!(ses.endpoint_url, None);
        let ChannelConfig::Live(twilio) = config.sms else {
            panic!("sms not live")
        };
        assert_eq!(twilio.api_base_url, "https://api.twilio.com");
        assert_eq!(twilio.sender.phone_number.unwrap().as_str(), "+15550001111");
    }

    #[test]
    fn some_but_not_all_variables_is_misconfigured_and_names_what_is_missing() {
        let config = config(&[
            ("AWS_SES_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", "token"),
        ]);
        assert_eq!(
            misconfiguration(&config.email).missing,
            ["AWS_SES_SECRET_ACCESS_KEY", "AWS_SES_FROM_EMAIL"]
        );
        assert_eq!(
            misconfiguration(&config.sms).missing,
            ["TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID"]
        );
    }

    #[test]
    fn a_messaging_service_can_stand_in_for_the_phone_number() {
        let config = config(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", "token"),
            (
                "TWILIO_MESSAGING_SERVICE_SID",
                "MG0123456789abcdef0123456789abcdef",
            ),
        ]);
        let ChannelConfig::Live(twilio) = config.sms else {
            panic!("sms not live")
        };
        assert_eq!(twilio.sender.phone_number, None);
        assert!(twilio.sender.messaging_service_sid.is_some());
    }

    #[test]
    fn invalid_values_are_misconfigured_and_named_without_their_value() {
        let config = config(&[
            ("AWS_SES_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("AWS_SES_SECRET_ACCESS_KEY", "wJalrEXAMPLE"),
            ("AWS_SES_FROM_EMAIL", "not-an-address"),
            ("AWS_SES_REGION", "US East"),
            ("TWILIO_ACCOUNT_SID", "XX123"),
            ("TWILIO_AUTH_TOKEN", "token"),
            ("TWILIO_PHONE_NUMBER", "555-1234"),
            ("TWILIO_API_BASE_URL", "ftp://twilio"),
        ]);
        let email = misconfiguration(&config.email);
        assert!(email.missing.is_empty());
        let names: Vec<_> = email.invalid.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(names, ["AWS_SES_REGION", "AWS_SES_FROM_EMAIL"]);
        let sms = misconfiguration(&config.sms);
        let names: Vec<_> = sms.invalid.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "TWILIO_ACCOUNT_SID",
                "TWILIO_PHONE_NUMBER",
                "TWILIO_API_BASE_URL"
            ]
        );
        assert!(!format!("{sms:?}").contains("XX123"));
    }

    #[test]
    fn notify_demo_forces_demo_even_with_full_credentials() {
        let mut vars = [SES_VARS.as_slice(), TWILIO_VARS.as_slice()].concat();
        vars.push(("NOTIFY_DEMO", "1"));
        let config = config(&vars);
        assert_eq!(config.email, ChannelConfig::Demo);
        assert_eq!(config.sms, ChannelConfig::Demo);
    }

    #[test]
    fn generic_aws_credentials_are_never_used_for_ses() {
        let config = config(&[
            ("AWS_ACCESS_KEY_ID", "ASIAVERCEL"),
            ("AWS_SECRET_ACCESS_KEY", "vercel-internal"),
        ]);
        assert_eq!(config.email, ChannelConfig::Demo);
    }

    #[test]
    fn the_sesv2_endpoint_override_wins_over_the_generic_one() {
        let mut vars = SES_VARS.to_vec();
        vars.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:1/"));
        vars.push(("AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:2/"));
        let ses = live_ses(&config(&vars));
        assert_eq!(ses.endpoint_url.as_deref(), Some("http://127.0.0.1:2"));
    }

    #[test]
    fn send_policy_reads_its_bounds_and_refuses_nonsense() {
        let mut vars = TWILIO_VARS.to_vec();
        vars.extend([
            ("NOTIFY_ATTEMPT_TIMEOUT_MS", "500"),
            ("NOTIFY_SEND_TIMEOUT_MS", "1500"),
            ("NOTIFY_MAX_ATTEMPTS", "2"),
        ]);
        let policy = config(&vars).policy;
        assert_eq!(policy.attempt_timeout, Duration::from_millis(500));
        assert_eq!(policy.send_timeout, Duration::from_millis(1500));
        assert_eq!(policy.max_attempts, 2);

        let mut vars = TWILIO_VARS.to_vec();
        vars.push(("NOTIFY_MAX_ATTEMPTS", "lots"));
        let config = config(&vars);
        assert_eq!(
            misconfiguration(&config.sms).invalid[0].field,
            "NOTIFY_MAX_ATTEMPTS"
        );
        assert_eq!(
            config.email,
            ChannelConfig::Demo,
            "a demo channel has no policy to break"
        );
    }

    #[test]
    fn branding_falls_back_to_a_neutral_name_and_refuses_insecure_links() {
        let plain = config(&[]);
        assert_eq!(plain.branding, Branding::default());
        let branded = config(&[
            ("PRACTICE_NAME", "Sunrise Family Clinic"),
            ("PRACTICE_PHONE", "(555) 010-2000"),
            ("PRACTICE_PORTAL_URL", "http://portal.example.com"),
            ("PRACTICE_SUPPORT_EMAIL", "help@sunrise.example.com"),
        ]);
        assert_eq!(branded.branding.practice_name, "Sunrise Family Clinic");
        assert_eq!(branded.branding.portal_url, None);
        assert_eq!(branded.branding_invalid[0].field, "PRACTICE_PORTAL_URL");
        assert_eq!(
            branded.branding.support_email.as_deref(),
            Some("help@sunrise.example.com")
        );
    }

    #[test]
    fn access_settings_are_read_and_weak_ones_refused() {
        let config = config(&[
            (
                "NOTIFY_API_KEYS",
                "key-one-0123456789abcdef, short ,key-two-0123456789abcdef",
            ),
            ("NOTIFY_JWT_SECRET", "too-short"),
            (
                "NOTIFY_ALLOWED_ORIGINS",
                "https://app.example.com, https://bad.example.com/path",
            ),
            ("NOTIFY_ALLOW_UNAUTHENTICATED", "1"),
        ]);
        assert_eq!(config.access.api_keys.len(), 2);
        assert_eq!(config.access.jwt_secret, None);
        assert_eq!(config.access.allowed_origins, ["https://app.example.com"]);
        assert!(config.access.allow_unauthenticated);
        let names: Vec<_> = config
            .security_invalid
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "NOTIFY_API_KEYS",
                "NOTIFY_ALLOWED_ORIGINS",
                "NOTIFY_JWT_SECRET"
            ]
        );
        assert!(!format!("{config:?}").contains("key-one"));
    }

    #[test]
    fn limits_have_defaults_and_can_be_changed() {
        assert_eq!(config(&[]).limits, Limits::default());
        let config = config(&[
            ("NOTIFY_SMS_PER_RECIPIENT_PER_HOUR", "2"),
            ("NOTIFY_RATE_LIMIT_PER_MINUTE", "zero"),
        ]);
        assert_eq!(config.limits.sms_per_recipient_per_hour, 2);
        assert_eq!(config.limits.requests_per_minute, 60);
        assert_eq!(
            config.security_invalid[0].field,
            "NOTIFY_RATE_LIMIT_PER_MINUTE"
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let config = config(&[SES_VARS.as_slice(), TWILIO_VARS.as_slice()].concat());
        let printed = format!("{config:?}");
        assert!(!printed.contains("wJalrEXAMPLE"));
        assert!(printed.contains("REDACTED"));
    }
}
