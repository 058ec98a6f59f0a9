//! `SesEmailSender`: sends through AWS SES v2 `SendEmail` with the credentials its settings
//! name, and owns the sender address. Its credentials and its errors have files of their own.

mod classify;
mod credentials;
mod http;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::config::timeout::TimeoutConfig;
use aws_sdk_sesv2::config::{
    BehaviorVersion, IdentityCache, Region, SharedCredentialsProvider, SharedIdentityCache,
    StalledStreamProtectionConfig,
};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, RawMessage};
use tokio::sync::OnceCell;

pub use classify::classify_ses_error;
pub use credentials::{REFRESH_BEFORE_EXPIRY, WebIdentityToken};

use super::EmailSender;
use crate::config::{SendPolicy, SesCredentials, SesSettings};
use crate::domain::{EmailAddress, EmailMessage, Sent};
use crate::error::{Error, ErrorCode};
use crate::names::Provider;
use crate::support::{BoxFuture, HttpClient};

#[derive(Debug)]
pub struct SesEmailSender {
    /// Everything the SDK client needs but the HTTP client and credentials, set at start-up.
    config: aws_sdk_sesv2::config::Builder,
    credentials: SesCredentials,
    /// The newest OIDC token a request carried, for the role's credentials.
    tokens: Arc<WebIdentityToken>,
    region: String,
    policy: SendPolicy,
    http: HttpClient,
    /// Built on the first send, not at start-up: building it (the SDK's runtime plugins and
    /// its endpoint rule set, with AWS's partition table parsed from JSON) had taken about half
    /// a millisecond of every cold start with SES configured, health's included. No STS call
    /// and no credential lookup happens before it either.
    client: OnceCell<aws_sdk_sesv2::Client>,
    from: EmailAddress,
    reply_to: Vec<EmailAddress>,
    configuration_set: Option<String>,
}

impl SesEmailSender {
    /// Configures the SES client from explicit settings; setting it up does no I/O. The SDK's
    /// standard retry mode retries throttling, 5xx and timeouts with jittered back-off, never
    /// other 4xx.
    pub fn new(
        settings: SesSettings,
        reply_to: Vec<EmailAddress>,
        policy: SendPolicy,
        http: HttpClient,
        tokens: Arc<WebIdentityToken>,
    ) -> Self {
        let retry = RetryConfig::standard()
            .with_max_attempts(policy.max_attempts)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(2));
        let timeouts = TimeoutConfig::builder()
            .operation_attempt_timeout(policy.attempt_timeout)
            .operation_timeout(policy.send_timeout)
            .build();
        let mut config = aws_sdk_sesv2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .retry_config(retry)
            .timeout_config(timeouts)
            // The attempt and operation timeouts already bound a stalled upload or download;
            // the throughput monitor would only add work to every send.
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
        if let Some(endpoint) = settings.endpoint_url {
            config = config.endpoint_url(endpoint);
        }
        Self {
            config,
            credentials: settings.credentials,
            tokens,
            region: settings.region,
            policy,
            http,
            client: OnceCell::new(),
            from: settings.from,
            reply_to,
            configuration_set: settings.configuration_set,
        }
    }

    async fn client(&self) -> Result<&aws_sdk_sesv2::Client, Error> {
        self.client
            .get_or_try_init(|| async {
                let http = http::http_client(self.http.get()?.clone());
                let (provider, cache) = self.credentials_provider(http.clone()).await;
                let config = self
                    .config
                    .clone()
                    .http_client(http)
                    .credentials_provider(provider)
                    .identity_cache(cache);
                Ok(aws_sdk_sesv2::Client::from_conf(config.build()))
            })
            .await
    }

    /// Fixed keys need no cache; temporary ones are cached by the SDK, shared by concurrent
    /// sends (one load at a time), and replaced a minute or so before they expire.
    async fn credentials_provider(
        &self,
        http: aws_sdk_sesv2::config::SharedHttpClient,
    ) -> (SharedCredentialsProvider, SharedIdentityCache) {
        let refreshed = IdentityCache::lazy()
            .buffer_time(REFRESH_BEFORE_EXPIRY)
            .build();
        match &self.credentials {
            SesCredentials::AccessKeys {
                access_key_id,
                secret_access_key,
            } => (
                SharedCredentialsProvider::new(credentials::access_keys(
                    access_key_id,
                    secret_access_key,
                )),
                IdentityCache::no_cache(),
            ),
            SesCredentials::Role(role) => (
                SharedCredentialsProvider::new(credentials::AssumeRoleWithToken::new(
                    role.clone(),
                    self.tokens.clone(),
                    &self.region,
                    http,
                    self.policy.send_timeout,
                )),
                refreshed,
            ),
            SesCredentials::DefaultChain => (
                SharedCredentialsProvider::new(
                    credentials::default_chain(&self.region, http).await,
                ),
                refreshed,
            ),
        }
    }

    /// SES builds the MIME itself for a plain email; with attachments or unsubscribe headers
    /// the message goes as the same MIME the SMTP provider sends, raw.
    fn content(&self, message: &EmailMessage) -> Result<EmailContent, Error> {
        if !message.attachments.is_empty() || message.list_unsubscribe.is_some() {
            let (mime, _) = super::mime::build(message, &self.from, &self.reply_to)?;
            let raw = RawMessage::builder()
                .data(Blob::new(mime.formatted()))
                .build()
                .map_err(build_error)?;
            return Ok(EmailContent::builder().raw(raw).build());
        }
        let utf8 = |data: &str| Content::builder().data(data).charset("UTF-8").build();
        let body = Body::builder()
            .set_text(
                message
                    .text
                    .as_deref()
                    .map(utf8)
                    .transpose()
                    .map_err(build_error)?,
            )
            .set_html(
                message
                    .html
                    .as_deref()
                    .map(utf8)
                    .transpose()
                    .map_err(build_error)?,
            )
            .build();
        let simple = Message::builder()
            .subject(utf8(&message.subject).map_err(build_error)?)
            .body(body)
            .build();
        Ok(EmailContent::builder().simple(simple).build())
    }
}

impl EmailSender for SesEmailSender {
    fn provider(&self) -> Provider {
        Provider::AwsSes
    }

    fn max_send_rate(&self) -> BoxFuture<'_, Option<f64>> {
        Box::pin(async move {
            let client = self.client().await.ok()?;
            let asked = client.get_account().send();
            match tokio::time::timeout(std::time::Duration::from_secs(5), asked).await {
                Ok(Ok(account)) => account.send_quota().map(|q| q.max_send_rate()),
                Ok(Err(error)) => {
                    tracing::warn!(error = %aws_sdk_sesv2::error::DisplayErrorContext(&error), "SES did not tell the account's maximum send rate (GetAccount)");
                    None
                }
                Err(_) => None,
            }
        })
    }

    fn send<'a>(&'a self, message: &'a EmailMessage) -> BoxFuture<'a, Result<Sent, Error>> {
        Box::pin(self.send_email(message))
    }

    fn forget_suppressed<'a>(
        &'a self,
        address: &'a EmailAddress,
    ) -> BoxFuture<'a, Result<Option<bool>, Error>> {
        Box::pin(async move {
            let removed = self
                .client()
                .await?
                .delete_suppressed_destination()
                .email_address(address.address())
                .send()
                .await;
            match removed {
                Ok(_) => Ok(Some(true)),
                Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found_exception()) => {
                    Ok(Some(false))
                }
                Err(error) => Err(Error::new(
                    ErrorCode::ProviderError,
                    "SES did not remove the address from the account's suppression list.",
                )
                .with_hint("Allow ses:DeleteSuppressedDestination to the SES credentials, or remove it in the SES Console (Suppression list).")
                .with_source(error)),
            }
        })
    }
}

impl SesEmailSender {
    async fn send_email(&self, message: &EmailMessage) -> Result<Sent, Error> {
        let to = message
            .to
            .iter()
            .map(EmailAddress::to_header_value)
            .collect();
        let reply_to = if message.reply_to.is_empty() {
            &self.reply_to
        } else {
            &message.reply_to
        };
        let reply_to: Vec<String> = reply_to.iter().map(EmailAddress::to_header_value).collect();
        let output = self
            .client()
            .await?
            .send_email()
            .from_email_address(self.from.to_header_value())
            .destination(Destination::builder().set_to_addresses(Some(to)).build())
            .set_reply_to_addresses((!reply_to.is_empty()).then_some(reply_to))
            .set_configuration_set_name(self.configuration_set.clone())
            .content(self.content(message)?)
            .send()
            .await
            .map_err(|e| classify::classify(e, &self.from, self.credentials.source()))?;
        match output.message_id {
            Some(id) => Ok(Sent::live(id)),
            None => Err(Error::new(
                ErrorCode::ProviderError,
                "SES accepted the email but returned no message id.",
            )),
        }
    }
}

fn build_error(error: aws_sdk_sesv2::error::BuildError) -> Error {
    Error::new(
        ErrorCode::ProviderError,
        format!("Could not build the SES request: {error}"),
    )
}
