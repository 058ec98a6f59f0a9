//! One channel as this process runs it: its live providers in send order, its demo stand-in,
//! or the configuration problem that keeps it from sending. Built on the first send that needs
//! it, so a function that never sends on a channel never builds (or links) its providers.

use crate::config::{
    ChannelConfig, EmailChannelSettings, EmailProviderSettings, Misconfiguration, SendPolicy,
    TwilioSettings,
};
use std::sync::Arc;

use crate::email::{
    DemoEmailSender, EmailSender, SesEmailSender, SmtpEmailSender, WebIdentityToken,
};
use crate::error::FieldError;
use crate::names::Mode;
use crate::sms::{DemoSmsSender, SmsSender, TwilioSmsSender};
use crate::support::{HttpClient, NonEmpty};

#[derive(Debug)]
pub enum Senders<S: ?Sized> {
    /// The providers, tried in order.
    Live(NonEmpty<Box<S>>),
    Demo(Box<S>),
    Misconfigured(Misconfiguration),
}

pub type EmailSenders = Senders<dyn EmailSender>;
pub type SmsSenders = Senders<dyn SmsSender>;

impl<S: ?Sized> Senders<S> {
    pub fn mode(&self) -> Mode {
        match self {
            Self::Live(_) => Mode::Live,
            Self::Demo(_) => Mode::Demo,
            Self::Misconfigured(_) => Mode::Misconfigured,
        }
    }
}

/// What building the senders needs besides the channel's own settings.
pub struct Shared<'a> {
    pub policy: SendPolicy,
    pub http: &'a HttpClient,
    /// `{NOTIFY_PUBLIC_URL}/api/webhooks/twilio`, when SMS delivery events are wired.
    pub status_callback: Option<&'a str>,
    /// The newest OIDC token a request carried (SES's role credentials).
    pub web_identity: &'a Arc<WebIdentityToken>,
}

pub fn email_senders(
    config: &ChannelConfig<EmailChannelSettings>,
    shared: &Shared,
) -> EmailSenders {
    match config {
        ChannelConfig::Demo => Senders::Demo(Box::new(DemoEmailSender)),
        ChannelConfig::Misconfigured(m) => Senders::Misconfigured(m.clone()),
        ChannelConfig::Live(channel) => {
            let built =
                channel
                    .providers
                    .try_map(|settings| -> Result<Box<dyn EmailSender>, String> {
                        match settings {
                            EmailProviderSettings::Ses(ses) => Ok(Box::new(SesEmailSender::new(
                                ses.clone(),
                                channel.reply_to.clone(),
                                shared.policy,
                                shared.http.clone(),
                                shared.web_identity.clone(),
                            ))),
                            EmailProviderSettings::Smtp(smtp) => {
                                Ok(Box::new(SmtpEmailSender::new(
                                    smtp.clone(),
                                    channel.reply_to.clone(),
                                    shared.policy,
                                )?))
                            }
                        }
                    });
            match built {
                Ok(providers) => Senders::Live(providers),
                Err(problem) => provider_failed(problem),
            }
        }
    }
}

pub fn sms_senders(config: &ChannelConfig<TwilioSettings>, shared: &Shared) -> SmsSenders {
    match config {
        ChannelConfig::Demo => Senders::Demo(Box::new(DemoSmsSender)),
        ChannelConfig::Misconfigured(m) => Senders::Misconfigured(m.clone()),
        ChannelConfig::Live(settings) => Senders::Live(NonEmpty {
            first: Box::new(TwilioSmsSender::new(
                settings.clone(),
                shared.policy,
                shared.http.clone(),
                shared.status_callback.map(str::to_owned),
            )),
            rest: Vec::new(),
        }),
    }
}

fn provider_failed<S: ?Sized>(problem: String) -> Senders<S> {
    Senders::Misconfigured(Misconfiguration {
        missing: Vec::new(),
        invalid: vec![FieldError::new("provider", problem)],
    })
}
