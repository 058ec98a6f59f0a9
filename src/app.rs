//! `App`: what one process holds for its whole life (a sender per channel, built once from the
//! configuration), and the send operations every route and Rust caller goes through.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::access::Access;
use crate::audit::{AuditEvent, AuditRecipient, Auditor};
use crate::config::{
    Branding, ChannelConfig, Config, EmailProviderSettings, Misconfiguration, SendPolicy,
};
use crate::domain::{EmailAddress, EmailMessage, PhoneNumber, SmsMessage};
use crate::email::{DemoEmailSender, EmailProvider, EmailSender, SesEmailSender, SmtpEmailSender};
use crate::error::{Error, ErrorKind, FieldError};
use crate::limits::RateLimits;
use crate::sent::{Attempt, Sent};
use crate::sms::{DemoSmsSender, SmsSender, TwilioSmsSender};
use crate::templates::TemplateName;
use crate::webhooks::{CertificateSource, EventsTarget, HttpsCertificateSource, SnsVerifier};

/// How long to wait for a TCP connection to a provider before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The process's one HTTP client, shared by whoever needs it and built on first use: setting up
/// TLS is start-up work that health, demo sends and refused requests never need.
#[derive(Debug, Clone, Default)]
pub struct LazyClient(std::sync::Arc<std::sync::OnceLock<reqwest::Client>>);

impl LazyClient {
    pub fn get(&self) -> &reqwest::Client {
        self.0.get_or_init(|| new_http_client().unwrap_or_default())
    }
}

/// One client for every outgoing HTTP request: the providers, SNS certificates, forwarding.
/// Redirects are never followed: no provider API answers with one, an SNS certificate must come
/// from the host that was checked, and a practice's event endpoint gets the event where it said.
fn new_http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("notify/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// One channel as this process runs it.
#[derive(Debug)]
pub enum Channel<Live, Demo> {
    Live(Live),
    Demo(Demo),
    Misconfigured(Misconfiguration),
}

impl<Live, Demo> Channel<Live, Demo> {
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Live(_) => "live",
            Self::Demo(_) => "demo",
            Self::Misconfigured(_) => "misconfigured",
        }
    }

    fn build<T>(config: ChannelConfig<T>, live: impl FnOnce(T) -> Result<Live, String>) -> Self
    where
        Demo: Default,
    {
        match config {
            ChannelConfig::Live(settings) => match live(settings) {
                Ok(live) => Self::Live(live),
                Err(problem) => Self::Misconfigured(Misconfiguration {
                    missing: Vec::new(),
                    invalid: vec![FieldError::new("provider", problem)],
                }),
            },
            ChannelConfig::Demo => Self::Demo(Demo::default()),
            ChannelConfig::Misconfigured(m) => Self::Misconfigured(m),
        }
    }
}

/// The email providers, tried in order (see [`App::send_email`]).
pub type EmailChannel = Channel<Vec<EmailProvider>, DemoEmailSender>;
pub type SmsChannel = Channel<TwilioSmsSender, DemoSmsSender>;

#[derive(Debug)]
pub struct App {
    pub email: EmailChannel,
    email_providers: Vec<(&'static str, ChannelConfig<()>)>,
    policy: SendPolicy,
    pub sms: SmsChannel,
    pub branding: Branding,
    branding_invalid: Vec<FieldError>,
    pub access: Access,
    pub limits: RateLimits,
    pub(crate) auditor: Auditor,
    security_invalid: Vec<FieldError>,
    http: LazyClient,
    pub(crate) webhooks: WebhookState,
}

/// What the delivery webhooks need: the public URL Twilio signs, the SNS verifier, and where
/// events are forwarded.
#[derive(Debug)]
pub(crate) struct WebhookState {
    pub public_url: Option<String>,
    pub events: Option<EventsTarget>,
    pub sns: SnsVerifier,
    pub ses_configuration_set: bool,
}

/// What the audit trail records about the request behind a send.
#[derive(Debug, Clone)]
pub struct SendContext {
    pub request_id: String,
    pub template: Option<&'static str>,
    /// Where work that outlives the answer runs.
    pub background: Background,
}

impl SendContext {
    /// A context with a fresh request id, for Rust callers outside any HTTP request.
    pub fn new() -> Self {
        Self {
            request_id: new_request_id(),
            template: None,
            background: Background::default(),
        }
    }
}

/// Runs work after the answer: through Vercel's `waitUntil` inside a function (so the
/// invocation is kept alive until it ends), on the tokio runtime elsewhere.
#[derive(Clone, Default)]
pub struct Background(Option<vercel_runtime::AppState>);

impl Background {
    pub fn vercel(state: vercel_runtime::AppState) -> Self {
        Self(Some(state))
    }

    pub fn spawn(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        match &self.0 {
            Some(state) => state.wait_until(work),
            None => {
                tokio::spawn(work);
            }
        }
    }
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Background(vercel)"
        } else {
            "Background(tokio)"
        })
    }
}

impl Default for SendContext {
    fn default() -> Self {
        Self::new()
    }
}

/// 16 random hex characters.
pub fn new_request_id() -> String {
    let mut bytes = [0u8; 8];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    hex::encode(bytes)
}

/// Who a templated notification goes to: an email address, a phone number, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
}

/// The outcome of a templated notification, per requested channel (`None`: not requested).
#[derive(Debug)]
pub struct NotificationOutcome {
    pub email: Option<Result<Sent, Error>>,
    pub sms: Option<Result<Sent, Error>>,
}

impl App {
    /// Sets up a sender per live channel, and nothing for the others. The providers share
    /// one HTTP client, so one connection pool and one TLS configuration; it and the SES client
    /// are built on the first send that needs them, so a cold start does no more than read the
    /// configuration before it answers.
    pub fn new(config: Config) -> Self {
        let http = LazyClient::default();
        let ses_configuration_set = matches!(&config.email, ChannelConfig::Live(providers)
            if providers.iter().any(|p| matches!(p, EmailProviderSettings::Ses(ses) if ses.configuration_set.is_some())));
        let status_callback = config
            .webhooks
            .public_url
            .as_ref()
            .map(|url| format!("{url}{}", crate::http::Route::TwilioWebhook.path()));
        let events = config.webhooks.events.as_ref().and_then(|(url, secret)| {
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, secret.expose())
                .ok()
                .map(|key| EventsTarget {
                    url: url.clone(),
                    key,
                })
        });
        let policy = config.policy;
        let email =
            Channel::build(config.email, |providers| {
                providers
                    .into_iter()
                    .map(|settings| match settings {
                        EmailProviderSettings::Ses(ses) => Ok(EmailProvider::Ses(
                            SesEmailSender::new(ses, policy, http.clone()),
                        )),
                        EmailProviderSettings::Smtp(smtp) => {
                            SmtpEmailSender::new(smtp, policy).map(EmailProvider::Smtp)
                        }
                    })
                    .collect()
            });
        Self {
            email,
            email_providers: config.email_providers,
            policy,
            sms: Channel::build(config.sms, |settings| {
                Ok(TwilioSmsSender::new(
                    settings,
                    policy,
                    http.clone(),
                    status_callback,
                ))
            }),
            branding: config.branding,
            branding_invalid: config.branding_invalid,
            access: Access::new(&config.access),
            limits: RateLimits::new(&config.limits),
            auditor: Auditor::new(config.audit_key.as_ref()),
            security_invalid: config.security_invalid,
            webhooks: WebhookState {
                public_url: config.webhooks.public_url,
                events,
                sns: SnsVerifier::new(Box::new(HttpsCertificateSource(http.clone()))),
                ses_configuration_set,
            },
            http,
        }
    }

    /// Replaces where SNS signing certificates come from. Only tests have a reason to: the
    /// certificate URL must still be an https URL on an AWS SNS host.
    pub fn with_certificate_source(mut self, source: Box<dyn CertificateSource>) -> Self {
        self.webhooks.sns = SnsVerifier::new(source);
        self
    }

    /// The process's HTTP client, built on first use.
    pub(crate) fn http_client(&self) -> &reqwest::Client {
        self.http.get()
    }

    /// Where `provider` stands in the email send order (1 = first), if it is used.
    fn email_order(&self, provider: &str) -> Option<usize> {
        match &self.email {
            Channel::Live(providers) => providers
                .iter()
                .position(|p| p.provider() == provider)
                .map(|i| i + 1),
            _ => None,
        }
    }

    /// Whether a send on this route could reach a real patient (and so needs credentials).
    pub fn has_live_channel(&self) -> bool {
        matches!(self.email, Channel::Live(_)) || matches!(self.sms, Channel::Live(_))
    }

    pub fn from_env() -> Self {
        Self::new(Config::from_env())
    }

    /// Sends an email on the configured channel and writes its audit event. On a live
    /// channel each recipient's hourly cap is checked first.
    pub async fn send_email(
        &self,
        message: &EmailMessage,
        context: &SendContext,
    ) -> Result<Sent, Error> {
        let started = Instant::now();
        let recipients: Vec<AuditRecipient> = message
            .to
            .iter()
            .map(|to| AuditRecipient {
                hash: self.auditor.recipient_hash(to.address()),
                masked: to.masked(),
            })
            .collect();
        let (provider, result) = match &self.email {
            Channel::Live(providers) => {
                let capped = recipients
                    .iter()
                    .try_for_each(|r| self.limits.check_email_recipient(&r.hash));
                match capped {
                    Ok(()) => self.send_with_failover(providers, message).await,
                    Err(error) => (providers[0].provider(), Err(error)),
                }
            }
            Channel::Demo(demo) => (demo.provider(), demo.send(message).await),
            Channel::Misconfigured(m) => ("aws-ses", Err(misconfigured("Email", m))),
        };
        self.audit(
            "email",
            provider,
            self.email.mode(),
            recipients,
            &result,
            context,
            started,
        );
        result
    }

    /// Tries each provider in order, moving on only when the failure means the message was not
    /// accepted and another provider could succeed; the whole send stays within the send
    /// budget. The answer names the provider that took the message and those that failed first.
    async fn send_with_failover(
        &self,
        providers: &[EmailProvider],
        message: &EmailMessage,
    ) -> (&'static str, Result<Sent, Error>) {
        let mut attempts: Vec<Attempt> = Vec::new();
        let mut last = providers[0].provider();
        let all = async {
            for (i, provider) in providers.iter().enumerate() {
                last = provider.provider();
                match provider.send(message).await {
                    Ok(mut sent) => {
                        sent.provider = Some(last);
                        sent.failed_over = std::mem::take(&mut attempts);
                        return Ok(sent);
                    }
                    Err(error) if error.may_fail_over() && i + 1 < providers.len() => {
                        attempts.push(Attempt {
                            provider: last,
                            code: error.code,
                        });
                    }
                    Err(mut error) => {
                        error.provider = Some(last);
                        error.attempts = std::mem::take(&mut attempts);
                        return Err(error);
                    }
                }
            }
            Err(Error::new(
                ErrorKind::Internal,
                "internal_error",
                "The email channel is live but has no provider.",
            ))
        };
        let result = match tokio::time::timeout(self.policy.send_timeout, all).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                "provider_timeout",
                "The email providers did not answer in time. The email may or may not have been sent.",
            )
            .with_acceptance_unknown()),
        };
        (last, result)
    }

    /// Sends an SMS on the configured channel and writes its audit event. On a live channel
    /// the recipient's hourly cap is checked first.
    pub async fn send_sms(
        &self,
        message: &SmsMessage,
        context: &SendContext,
    ) -> Result<Sent, Error> {
        let started = Instant::now();
        let recipient = AuditRecipient {
            hash: self.auditor.recipient_hash(message.to.as_str()),
            masked: message.to.masked(),
        };
        let (provider, result) = match &self.sms {
            Channel::Live(twilio) => match self.limits.check_sms_recipient(&recipient.hash) {
                Ok(()) => {
                    let provider = twilio.provider();
                    let result = twilio.send(message).await;
                    let result = result
                        .map(|sent| Sent {
                            provider: Some(provider),
                            ..sent
                        })
                        .map_err(|error| Error {
                            provider: Some(provider),
                            ..error
                        });
                    (provider, result)
                }
                Err(error) => (twilio.provider(), Err(error)),
            },
            Channel::Demo(demo) => (demo.provider(), demo.send(message).await),
            Channel::Misconfigured(m) => ("twilio", Err(misconfigured("SMS", m))),
        };
        self.audit(
            "sms",
            provider,
            self.sms.mode(),
            vec![recipient],
            &result,
            context,
            started,
        );
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn audit(
        &self,
        channel: &'static str,
        provider: &'static str,
        mode: &'static str,
        recipients: Vec<AuditRecipient>,
        result: &Result<Sent, Error>,
        context: &SendContext,
        started: Instant,
    ) {
        let (outcome, message_id, error, failed_over) = match result {
            Ok(sent) => (
                if sent.demo { "logged" } else { "sent" },
                sent.message_id.as_deref(),
                None,
                sent.failed_over.as_slice(),
            ),
            Err(error) => ("failed", None, Some(error), error.attempts.as_slice()),
        };
        self.auditor.record(&AuditEvent {
            kind: "audit",
            event: "send_attempt",
            time: crate::audit::now_rfc3339(),
            request_id: &context.request_id,
            channel,
            template: context.template,
            provider,
            mode,
            outcome,
            message_id,
            error_code: error.map(|e| e.code),
            provider_code: error.and_then(|e| e.provider_code.as_deref()),
            status: error.map_or(200, Error::status),
            latency_ms: started.elapsed().as_millis() as u64,
            recipients,
            failed_over,
            acceptance_unknown: error.is_some_and(|e| e.acceptance_unknown),
        });
    }

    /// Renders `template` with `data` and sends it to each recipient given, email and SMS at
    /// once. Invalid data is an `Err` (nothing is sent); channel failures are in the outcome.
    pub async fn send_template_notification(
        &self,
        template: TemplateName,
        data: serde_json::Value,
        recipients: &Recipients,
        context: &SendContext,
    ) -> Result<NotificationOutcome, Error> {
        let rendered = template.render(data, &self.branding)?;
        let context = SendContext {
            template: Some(template.as_str()),
            ..context.clone()
        };
        let email = recipients.email.as_ref().map(|to| EmailMessage {
            to: vec![to.clone()],
            subject: rendered.subject.clone(),
            text: Some(rendered.text.clone()),
            html: Some(rendered.html.clone()),
            reply_to: Vec::new(),
            attachments: Vec::new(),
        });
        let sms = recipients.phone.as_ref().map(|to| SmsMessage {
            to: to.clone(),
            body: rendered.sms.clone(),
        });
        let (email, sms) = tokio::join!(
            async {
                match &email {
                    Some(message) => Some(self.send_email(message, &context).await),
                    None => None,
                }
            },
            async {
                match &sms {
                    Some(message) => Some(self.send_sms(message, &context).await),
                    None => None,
                }
            }
        );
        Ok(NotificationOutcome { email, sms })
    }

    pub fn health(&self) -> Health<'_> {
        let email_provider = match &self.email {
            Channel::Live(providers) => providers[0].provider(),
            _ => "aws-ses",
        };
        let mut email = ChannelHealth::new(email_provider, &self.email);
        email.providers = self
            .email_providers
            .iter()
            .map(|(name, state)| ProviderHealth::new(name, state, self.email_order(name)))
            .collect();
        let sms = ChannelHealth::new("twilio", &self.sms);
        let degraded = email.mode == "misconfigured"
            || sms.mode == "misconfigured"
            || !self.branding_invalid.is_empty()
            || !self.security_invalid.is_empty();
        Health {
            success: true,
            status: if degraded { "degraded" } else { "ok" },
            version: env!("CARGO_PKG_VERSION"),
            channels: Channels { email, sms },
            branding: BrandingHealth {
                practice_name: &self.branding.practice_name,
                invalid: &self.branding_invalid,
            },
            events: EventsHealth {
                status_callbacks: self.webhooks.public_url.is_some()
                    && matches!(self.sms, Channel::Live(_)),
                ses_configuration_set: self.webhooks.ses_configuration_set,
                forwarding: self.webhooks.events.is_some(),
            },
            security: SecurityHealth {
                api_keys: self.access.has_api_keys(),
                jwt: self.access.has_jwt(),
                unauthenticated_sends: self.access.allow_unauthenticated
                    || !self.has_live_channel(),
                audit_key: self.auditor.keyed,
                invalid: &self.security_invalid,
            },
        }
    }
}

/// `GET /api/health`: modes and missing variable names, never a value.
#[derive(Debug, Serialize)]
pub struct Health<'a> {
    pub success: bool,
    pub status: &'static str,
    pub version: &'static str,
    pub channels: Channels<'a>,
    pub branding: BrandingHealth<'a>,
    pub events: EventsHealth,
    pub security: SecurityHealth<'a>,
}

/// Whether delivery events are wired: SMS ask Twilio for status callbacks (needs
/// `NOTIFY_PUBLIC_URL`), email carries an SES configuration set (whose event destination is the
/// SNS topic), and events are forwarded to the practice app.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsHealth {
    pub status_callbacks: bool,
    pub ses_configuration_set: bool,
    pub forwarding: bool,
}

/// Whether each safeguard is configured (never how).
#[derive(Debug, Serialize)]
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandingHealth<'a> {
    pub practice_name: &'a str,
    pub invalid: &'a [FieldError],
}

#[derive(Debug, Serialize)]
pub struct Channels<'a> {
    pub email: ChannelHealth<'a>,
    pub sms: ChannelHealth<'a>,
}

#[derive(Debug, Serialize)]
pub struct ChannelHealth<'a> {
    pub provider: &'static str,
    pub mode: &'static str,
    pub missing: &'a [String],
    pub invalid: &'a [FieldError],
    /// Each provider of the channel, configured or not, and its place in the send order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderHealth<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ProviderHealth<'a> {
    pub name: &'static str,
    pub mode: &'static str,
    /// 1 for the provider tried first; `null` when it is not used.
    pub order: Option<usize>,
    pub missing: &'a [String],
    pub invalid: &'a [FieldError],
}

impl<'a> ProviderHealth<'a> {
    fn new(name: &'static str, state: &'a ChannelConfig<()>, order: Option<usize>) -> Self {
        let (mode, missing, invalid): (_, &[String], &[FieldError]) = match state {
            ChannelConfig::Live(()) => ("live", &[], &[]),
            ChannelConfig::Demo => ("demo", &[], &[]),
            ChannelConfig::Misconfigured(m) => ("misconfigured", &m.missing, &m.invalid),
        };
        Self {
            name,
            mode,
            order,
            missing,
            invalid,
        }
    }
}

impl<'a> ChannelHealth<'a> {
    fn new<L, D>(provider: &'static str, channel: &'a Channel<L, D>) -> Self {
        let (missing, invalid): (&[String], &[FieldError]) = match channel {
            Channel::Misconfigured(m) => (&m.missing, &m.invalid),
            _ => (&[], &[]),
        };
        Self {
            provider,
            mode: channel.mode(),
            missing,
            invalid,
            providers: Vec::new(),
        }
    }
}

fn misconfigured(channel: &str, problem: &Misconfiguration) -> Error {
    let mut names: Vec<&str> = problem.missing.iter().map(String::as_str).collect();
    names.extend(problem.invalid.iter().map(|i| i.field.as_str()));
    let mut error = Error::new(
        ErrorKind::Unavailable,
        "channel_misconfigured",
        format!(
            "{channel} is not configured correctly on this deployment: fix {}.",
            names.join(", ")
        ),
    )
    .with_hint("Set the variables in Vercel (Settings > Environment Variables, All Environments) and redeploy.");
    error.missing = problem.missing.clone();
    error.invalid = problem.invalid.clone();
    error
}
