//! The email channel's settings: SES, any SMTP relay, their order, and what holds for the
//! whole channel whichever provider sends.

use super::ses::SesSettings;
use super::vars::{Vars, is_local_host, read_number};
use super::{ChannelConfig, Misconfiguration, Secret};
use crate::domain::EmailAddress;
use crate::error::FieldError;
use crate::names::Provider;
use crate::support::NonEmpty;

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

pub(super) const SMTP_REQUIRED: &[&[&str]] = &[&["SMTP_HOST"], &["SMTP_FROM"]];

pub(super) const EMAIL_PROVIDER_NAMES: [&str; 2] = ["ses", "smtp"];

/// The email channel: `EMAIL_PROVIDERS` (`ses,smtp`) in that order, each of which must then be
/// configured; without it, every configured provider, SES first. A partly configured provider
/// makes the channel misconfigured either way, never silently skipped.
pub(super) fn email_channel(
    vars: &Vars,
    force_demo: bool,
    on_vercel: bool,
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
    let ses_unset = super::ses::unset_missing(on_vercel);
    let smtp_unset: Vec<String> = SMTP_REQUIRED.iter().map(|g| g.join(" or ")).collect();
    let ses = map_settings(ses, EmailProviderSettings::Ses);
    let smtp = map_settings(smtp, EmailProviderSettings::Smtp);
    match &explicit {
        None => {
            add_provider(&ses_unset, ses, false, &mut providers, &mut problem);
            add_provider(&smtp_unset, smtp, false, &mut providers, &mut problem);
        }
        Some(names) => {
            let (mut ses, mut smtp) = (Some(ses), Some(smtp));
            for name in names {
                match name.as_str() {
                    "ses" => match ses.take() {
                        Some(state) => {
                            add_provider(&ses_unset, state, true, &mut providers, &mut problem)
                        }
                        None => problem.invalid.push(repeated("ses")),
                    },
                    "smtp" => match smtp.take() {
                        Some(state) => {
                            add_provider(&smtp_unset, state, true, &mut providers, &mut problem)
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
/// names explicitly but that has no variables at all is missing `unset_missing`.
pub(super) fn add_provider(
    unset_missing: &[String],
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
            problem.missing.extend_from_slice(unset_missing);
        }
        ChannelConfig::Demo => {}
    }
}

pub(super) fn repeated(name: &str) -> FieldError {
    FieldError::new("EMAIL_PROVIDERS", format!("names {name} twice"))
}

pub(super) fn map_settings<T, U>(
    config: ChannelConfig<T>,
    f: impl FnOnce(T) -> U,
) -> ChannelConfig<U> {
    match config {
        ChannelConfig::Live(settings) => ChannelConfig::Live(f(settings)),
        ChannelConfig::Demo => ChannelConfig::Demo,
        ChannelConfig::Misconfigured(m) => ChannelConfig::Misconfigured(m),
    }
}

pub(super) fn read_smtp(vars: &Vars, invalid: &mut Vec<FieldError>) -> Option<SmtpSettings> {
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

/// `AWS_SES_REPLY_TO`: the email channel's default reply-to, whichever provider sends.
pub(super) fn read_reply_to(vars: &Vars, invalid: &mut Vec<FieldError>) -> Vec<EmailAddress> {
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
