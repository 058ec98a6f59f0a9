//! `App`: the service layer. What one process holds for its whole life (the configuration, the
//! caller checks, the store, the audit trail and, built on first use, a sender per channel),
//! and the operations every route goes through: sends, failover, caps, audit, delivery events
//! and health.

mod admit;
mod attempt;
mod batch;
mod channel;
mod dispatch;
mod due;
mod fallback;
mod health;
mod links;
mod notification;
mod pace;
mod practice_events;
mod preferences;
mod quiet;
mod reads;
mod record;
mod replay;
mod reputation;
mod schedule;
mod send;
mod suppressions;
mod unwritten;
mod webhooks;
mod withheld;

#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};

pub use admit::IDEMPOTENCY_TTL;
pub use batch::{BatchItem, BatchOutcome, ItemOutcome};
pub use channel::{EmailSenders, Senders, SmsSenders};
pub use dispatch::Dispatched;
pub use health::Safeguards;
pub use links::{PREFERENCE_PAGE_PATH, UNSUBSCRIBE_PATH, claims_patient};
pub use notification::NotificationOutcome;
pub use pace::Rates;
pub use preferences::{ChoiceChange, Patient, PatientChoices, Standing};
pub use record::{Sending, Unrecorded};
pub use reputation::rates;
pub use schedule::{SchedulePlan, Scheduled, ScheduledIds};
pub use suppressions::NewSuppression;
pub use webhooks::{AfterAnswer, Received, SnsOutcome};

use crate::access::Access;
use crate::audit::AuditRecipient;
use crate::audit::Auditor;
use crate::config::{ChannelConfig, Config};
use crate::domain::Caller;
use crate::email::WebIdentityToken;
use crate::names::{Channel, CredentialSource, MessageStatus, Provider};
use crate::store::Store;
use crate::store::{MessageRecord, RecipientView};
use crate::support::{HttpClient, new_id};
use crate::templates::TemplateName;
use crate::webhooks::{CertificateSource, EventsTarget, HttpsCertificateSource, SnsVerifier};

/// The path Twilio's status callbacks are posted to, below `NOTIFY_PUBLIC_URL`. The HTTP layer
/// serves the route at this path.
pub const TWILIO_WEBHOOK_PATH: &str = "/api/webhooks/twilio";

/// The path SNS posts SES events to.
pub const SES_WEBHOOK_PATH: &str = "/api/webhooks/ses";

#[derive(Debug)]
pub struct App {
    config: Config,
    pub access: Access,
    auditor: Auditor,
    /// Idempotency keys, the message log and the limits every instance shares. Built on first
    /// use: a function that never needs it (templates, preview, openapi) never links it.
    store: OnceLock<Arc<dyn Store>>,
    /// One connection pool and one TLS set-up for every outgoing request, built on first use.
    http: HttpClient,
    email: OnceLock<EmailSenders>,
    sms: OnceLock<SmsSenders>,
    events: Option<EventsTarget>,
    /// `NOTIFY_TIMEZONE` from the time-zone database, looked up on first use.
    quiet_zone: OnceLock<jiff::tz::TimeZone>,
    /// The sealer of scheduled content under `NOTIFY_STORE_KEY` (with the memory store and no
    /// key, one of this process's own), built on first use.
    sealer: OnceLock<Option<crate::support::Sealer>>,
    /// SES's maximum send rate, as `GetAccount` told this instance (asked once).
    ses_rate: tokio::sync::OnceCell<Option<f64>>,
    /// Built on the first SNS message: only the SES webhook needs it (and its HTTPS fetches).
    sns: OnceLock<SnsVerifier>,
    /// `{NOTIFY_PUBLIC_URL}/api/webhooks/twilio`, when SMS delivery events are wired.
    status_callback: Option<String>,
    /// The newest OIDC token the platform handed this instance, for SES's role credentials.
    web_identity: Arc<WebIdentityToken>,
    /// Sends' records still being written after their answers.
    unwritten: unwritten::Unwritten,
}

/// What the audit trail, the limits and the message log know of the request behind a send.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub template: Option<TemplateName>,
    /// Who is calling, as limits count it.
    pub caller: Caller,
    pub idempotency: Option<Idempotency>,
    /// Set when this is a scheduled send's run: its messages' ids.
    pub scheduled: Option<ScheduledIds>,
}

/// A request's `Idempotency-Key`, and the hash of its route and canonical body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

impl RequestContext {
    /// A context with a fresh request id, for Rust callers outside any HTTP request.
    pub fn new() -> Self {
        Self {
            request_id: new_id(),
            template: None,
            caller: Caller::Local,
            idempotency: None,
            scheduled: None,
        }
    }
}

impl RequestContext {
    /// A message of this request as the log keeps it, with every recipient at `status`; the
    /// provider's message id and an error code, once known, are the sender's to add.
    fn record(
        &self,
        id: String,
        (channel, provider): (Channel, Provider),
        status: MessageStatus,
        recipients: Vec<AuditRecipient>,
        created_at: time::OffsetDateTime,
    ) -> MessageRecord {
        MessageRecord {
            id,
            channel,
            template: self.template,
            provider,
            provider_message_id: None,
            status,
            error_code: None,
            category: None,
            reason: None,
            consent_on_file: None,
            fallback_of: None,
            batch_id: self.scheduled.as_ref().and_then(|s| s.batch.clone()),
            caller: self.caller.logged(),
            request_id: self.request_id.clone(),
            idempotency_key: self.idempotency.as_ref().map(|i| i.key.clone()),
            created_at,
            recipients: recipients
                .into_iter()
                .map(|r| RecipientView {
                    masked: r.masked,
                    hash: r.hash,
                    status,
                })
                .collect(),
        }
    }
}

impl Default for RequestContext {
    fn default() -> Self {
        Self::new()
    }
}

impl App {
    /// Reads nothing but the configuration: the senders, the HTTP client and the SES client
    /// are built by the first send that needs them, so a cold start does no more than this
    /// before it answers, and a function that never sends never links a provider.
    pub fn new(config: Config) -> Self {
        let http = HttpClient::new(config.tls_roots.as_deref());
        let events = config
            .webhooks
            .events
            .as_ref()
            .map(|(url, key)| EventsTarget {
                url: url.clone(),
                key: key.clone(),
            });
        let status_callback = config
            .webhooks
            .public_url
            .as_ref()
            .map(|url| format!("{url}{TWILIO_WEBHOOK_PATH}"));
        Self {
            status_callback,
            access: Access::new(&config.access),
            auditor: Auditor::new(config.audit_key.as_ref()),
            store: OnceLock::new(),
            sns: OnceLock::new(),
            sealer: OnceLock::new(),
            ses_rate: tokio::sync::OnceCell::new(),
            quiet_zone: OnceLock::new(),
            events,
            http,
            email: OnceLock::new(),
            sms: OnceLock::new(),
            web_identity: Arc::default(),
            unwritten: unwritten::Unwritten::default(),
            config,
        }
    }

    /// Keeps the platform's OIDC token of a request (Vercel's `x-vercel-oidc-token`): SES's
    /// role credentials are refreshed with the newest one. Cheap when it is the one kept.
    pub fn offer_web_identity_token(&self, token: &str) {
        if matches!(
            self.config.ses_credentials,
            Some(CredentialSource::VercelOidc)
        ) {
            self.web_identity.offer(token);
        }
    }

    pub fn from_env() -> Self {
        Self::new(Config::from_env())
    }

    /// Sends through `email` and `sms` instead of what the configuration would build: for
    /// tests, with senders that record what they are given.
    pub fn with_senders(self, email: EmailSenders, sms: SmsSenders) -> Self {
        Self {
            email: OnceLock::from(email),
            sms: OnceLock::from(sms),
            ..self
        }
    }

    /// The store: private to the service, which is the only door to it.
    fn store(&self) -> &dyn Store {
        self.shared_store().as_ref()
    }

    /// The store, for work that outlives a request (forwarding after the answer).
    fn shared_store(&self) -> &Arc<dyn Store> {
        self.store
            .get_or_init(|| Arc::from(crate::store::open(&self.config.store)))
    }

    /// Replaces where SNS signing certificates come from. Only tests have a reason to: the
    /// certificate URL must still be an https URL on an AWS SNS host.
    pub fn with_certificate_source(mut self, source: Box<dyn CertificateSource>) -> Self {
        self.sns = OnceLock::from(SnsVerifier::new(source));
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn shared(&self) -> channel::Shared<'_> {
        channel::Shared {
            policy: self.config.policy,
            http: &self.http,
            status_callback: self.status_callback(),
            web_identity: &self.web_identity,
        }
    }

    fn sns(&self) -> &SnsVerifier {
        self.sns
            .get_or_init(|| SnsVerifier::new(Box::new(HttpsCertificateSource(self.http.clone()))))
    }

    fn email(&self) -> &EmailSenders {
        self.email
            .get_or_init(|| channel::email_senders(&self.config.email, &self.shared()))
    }

    fn sms(&self) -> &SmsSenders {
        self.sms
            .get_or_init(|| channel::sms_senders(&self.config.sms, &self.shared()))
    }

    fn status_callback(&self) -> Option<&str> {
        self.status_callback.as_deref()
    }

    /// The keyed hash a recipient (a normalised address or number) has in the audit trail and
    /// the message log, for look-ups.
    pub fn recipient_hash(&self, recipient: &str) -> String {
        self.auditor.recipient_hash(recipient)
    }

    /// Whether a send could reach a real patient (and so needs credentials).
    pub fn has_live_channel(&self) -> bool {
        matches!(self.config.email, ChannelConfig::Live(_))
            || matches!(self.config.sms, ChannelConfig::Live(_))
    }
}
