//! Where the SES client's credentials come from: the practice's fixed keys, a role assumed with
//! the platform's OIDC token (STS `AssumeRoleWithWebIdentity`), or aws-config's default chain;
//! and how a failure to get them is told to the caller.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};
use aws_sdk_sesv2::config::{Region, SharedHttpClient};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;

use crate::config::{RoleSettings, Secret};
use crate::error::{Error, ErrorCode};

/// How long before temporary credentials expire they are replaced (the SDK adds up to half
/// again at random, so instances do not all refresh at once). A send that starts just before
/// still signs its retries with credentials that have a minute left.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// The newest OIDC token the platform handed this instance. Vercel sends a fresh one with every
/// request (`x-vercel-oidc-token`); the role provider reads it only when the cached credentials
/// need replacing, so a send never waits for a token.
#[derive(Debug, Default)]
pub struct WebIdentityToken {
    current: RwLock<Option<Arc<str>>>,
}

impl WebIdentityToken {
    /// Keeps `token` as the newest (a request's token is never older than the one kept).
    pub fn offer(&self, token: &str) {
        let token = token.trim();
        if token.is_empty() {
            return;
        }
        let same = |held: &Option<Arc<str>>| held.as_deref() == Some(token);
        if same(&self.current.read().unwrap_or_else(|e| e.into_inner())) {
            return;
        }
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(token.into());
    }

    fn get(&self) -> Option<Arc<str>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Temporary credentials of `role`, from STS with the newest OIDC token.
#[derive(Debug)]
pub struct AssumeRoleWithToken {
    sts: aws_sdk_sts::Client,
    role: RoleSettings,
    tokens: Arc<WebIdentityToken>,
}

impl AssumeRoleWithToken {
    pub fn new(
        role: RoleSettings,
        tokens: Arc<WebIdentityToken>,
        region: &str,
        http: SharedHttpClient,
        timeout: Duration,
    ) -> Self {
        use aws_sdk_sts::config::timeout::TimeoutConfig;
        let mut config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .http_client(http)
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::standard().with_max_attempts(2))
            .timeout_config(TimeoutConfig::builder().operation_timeout(timeout).build());
        if let Some(endpoint) = &role.sts_endpoint_url {
            config = config.endpoint_url(endpoint);
        }
        Self {
            sts: aws_sdk_sts::Client::from_conf(config.build()),
            role,
            tokens,
        }
    }

    /// The token to exchange: the newest a request carried, else `VERCEL_OIDC_TOKEN`. Its
    /// expiry is checked here, so a lapsed token is named as such instead of as STS's refusal.
    fn token(&self) -> Result<Arc<str>, Error> {
        let token = self
            .tokens
            .get()
            .or_else(|| self.role.local_token.as_ref().map(|t| t.expose().into()))
            .ok_or_else(|| {
                auth_failed(
                    "No Vercel OIDC token reached this function, so the role in AWS_ROLE_ARN cannot be assumed.",
                    "Enable OIDC Federation in the Vercel project's settings (Security) and redeploy; for local development run `vercel env pull` to get VERCEL_OIDC_TOKEN.".into(),
                )
            })?;
        check_token(&token)?;
        Ok(token)
    }

    async fn assume(&self) -> Result<Credentials, Error> {
        let token = self.token()?;
        let output = self
            .sts
            .assume_role_with_web_identity()
            .role_arn(&self.role.role_arn)
            .role_session_name(&self.role.session_name)
            .web_identity_token(token.as_ref())
            .send()
            .await
            .map_err(|e| classify_sts(e, &self.role.role_arn))?;
        let credentials = output.credentials.ok_or_else(|| {
            Error::new(
                ErrorCode::ProviderError,
                "AWS STS assumed the role but returned no credentials.",
            )
        })?;
        let expiry = SystemTime::try_from(credentials.expiration).ok();
        tracing::info!(
            role = %self.role.role_arn,
            expires = %credentials.expiration,
            "assumed the SES role with the OIDC token"
        );
        Ok(Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            Some(credentials.session_token),
            expiry,
            "AssumeRoleWithWebIdentity",
        ))
    }
}

impl ProvideCredentials for AssumeRoleWithToken {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.assume()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

/// aws-config's default chain with this process's HTTP client. Instance metadata is asked once,
/// with one-second connect and read timeouts (a host that is no EC2 instance costs about two
/// seconds on the first send, once); `AWS_EC2_METADATA_DISABLED=true` skips it.
pub async fn default_chain(region: &str, http: SharedHttpClient) -> DefaultCredentialsChain {
    let config = ProviderConfig::without_region()
        .with_region(Some(Region::new(region.to_owned())))
        .with_http_client(http);
    let imds = aws_config::imds::Client::builder()
        .configure(&config)
        .connect_timeout(Duration::from_secs(1))
        .read_timeout(Duration::from_secs(1))
        .max_attempts(1)
        .build();
    DefaultCredentialsChain::builder()
        .region(Region::new(region.to_owned()))
        .configure(config)
        .imds_client(imds)
        .build()
        .await
}

/// The API's error behind a failed credential load, if that is what failed (the SDK carries
/// it as the source of its own error): ours as made by the role provider, or the chain's.
pub fn credential_failure(error: &(dyn std::error::Error + 'static)) -> Option<Error> {
    let chain = || std::iter::successors(Some(error), |e| e.source());
    if let Some(ours) = chain().find_map(|e| e.downcast_ref::<Error>()) {
        return Some(ours.clone());
    }
    let failure = chain().find_map(|e| e.downcast_ref::<CredentialsError>())?;
    Some(match failure {
        CredentialsError::CredentialsNotLoaded(_) => auth_failed(
            "No AWS credentials were found for SES in the standard chain (environment, profile files, web identity, container or instance).",
            HINT_CHAIN.into(),
        ),
        CredentialsError::ProviderTimedOut(_) => Error::new(
            ErrorCode::ProviderTimeout,
            "Loading AWS credentials for SES timed out; no email was sent.",
        ),
        _ => auth_failed(
            "AWS credentials for SES could not be loaded from the standard chain.",
            HINT_CHAIN.into(),
        ),
    })
}

const HINT_CHAIN: &str = "Set AWS_SES_ACCESS_KEY_ID and AWS_SES_SECRET_ACCESS_KEY, or the standard AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE (with its files), or run where a container or instance role is available.";

/// A Vercel OIDC token is a JWT: its `exp` is read (not verified: STS verifies it) so that a
/// lapsed or malformed token is named as such.
fn check_token(token: &str) -> Result<(), Error> {
    use jsonwebtoken::errors::ErrorKind;
    let mut validation = jsonwebtoken::Validation::default();
    validation.insecure_disable_signature_validation();
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    let key = jsonwebtoken::DecodingKey::from_secret(&[]);
    match jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation) {
        Ok(_) => Ok(()),
        Err(e) if *e.kind() == ErrorKind::ExpiredSignature => Err(auth_failed(
            "The Vercel OIDC token has expired, so the role in AWS_ROLE_ARN cannot be assumed.",
            "Deployed functions get a fresh token with each request; for local development run `vercel env pull` again to renew VERCEL_OIDC_TOKEN.".into(),
        )),
        Err(_) => Err(auth_failed(
            "The Vercel OIDC token is not a readable JWT with an expiry.",
            "Use the token Vercel issues (the x-vercel-oidc-token header, or VERCEL_OIDC_TOKEN from `vercel env pull`).".into(),
        )),
    }
}

/// STS's refusal of the exchange, as the API's error: the role and its trust policy are what
/// the practice has to look at.
fn classify_sts(
    error: SdkError<
        AssumeRoleWithWebIdentityError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
    role: &str,
) -> Error {
    use AssumeRoleWithWebIdentityError as E;
    let classified = match &error {
        SdkError::TimeoutError(_) => Error::new(
            ErrorCode::ProviderTimeout,
            "AWS STS did not answer in time; no email was sent.",
        ),
        SdkError::DispatchFailure(_) => Error::new(
            ErrorCode::ProviderUnreachable,
            "Could not reach AWS STS to assume the SES role; no email was sent.",
        ),
        SdkError::ServiceError(service) => {
            let refusal = service.err();
            let code = refusal.code().unwrap_or("Unknown");
            let error = match refusal {
                E::ExpiredTokenException(_) => auth_failed(
                    "AWS STS refused the Vercel OIDC token as expired.",
                    trust_hint(role),
                ),
                E::IdpCommunicationErrorException(_) => Error::new(
                    ErrorCode::ProviderUnreachable,
                    "AWS STS could not reach Vercel's OIDC issuer to check the token; no email was sent.",
                ),
                E::InvalidIdentityTokenException(_) | E::IdpRejectedClaimException(_) => {
                    auth_failed(
                        format!("AWS STS refused the Vercel OIDC token for the role {role}."),
                        trust_hint(role),
                    )
                }
                _ if matches!(code, "Throttling" | "ThrottlingException") => Error::new(
                    ErrorCode::ProviderThrottled,
                    "AWS STS is throttling role assumptions. Retry shortly.",
                )
                .with_retry_after(Duration::from_secs(1)),
                _ if code.starts_with("InternalFailure") || code == "ServiceUnavailable" => {
                    Error::new(
                        ErrorCode::ProviderError,
                        "AWS STS failed to assume the SES role. Try again shortly.",
                    )
                }
                _ => auth_failed(
                    format!(
                        "AWS STS refused to let this deployment assume the role {role} ({code})."
                    ),
                    trust_hint(role),
                ),
            };
            error.with_provider_code(code)
        }
        _ => Error::new(
            ErrorCode::ProviderError,
            "The AWS STS request could not be made.",
        ),
    };
    classified.with_source(error)
}

fn trust_hint(role: &str) -> std::borrow::Cow<'static, str> {
    format!(
        "Check the trust policy of {role} (AWS_ROLE_ARN): it must trust the IAM OIDC provider oidc.vercel.com/<team> for sts:AssumeRoleWithWebIdentity, with the audience https://vercel.com/<team> and a sub condition matching owner:<team>:project:<project>:environment:<environment> of this deployment."
    )
    .into()
}

fn auth_failed(message: impl Into<String>, hint: std::borrow::Cow<'static, str>) -> Error {
    Error::new(ErrorCode::ProviderAuthFailed, message).with_hint(hint)
}

/// Fixed keys as the SDK wants them.
pub fn access_keys(access_key_id: &str, secret_access_key: &Secret) -> Credentials {
    Credentials::new(
        access_key_id,
        secret_access_key.expose(),
        None,
        None,
        "AWS_SES_ACCESS_KEY_ID",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(b"k"),
        )
        .unwrap()
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    #[test]
    fn a_token_is_named_expired_or_unreadable_before_sts_sees_it() {
        assert!(check_token(&jwt(serde_json::json!({"exp": now() + 60}))).is_ok());
        let expired = check_token(&jwt(serde_json::json!({"exp": now() - 1}))).unwrap_err();
        assert_eq!(expired.code, ErrorCode::ProviderAuthFailed);
        assert!(expired.message.contains("expired"));
        for unreadable in ["not-a-jwt".to_owned(), jwt(serde_json::json!({"sub": "x"}))] {
            let error = check_token(&unreadable).unwrap_err();
            assert!(error.message.contains("not a readable JWT"), "{unreadable}");
        }
    }

    #[test]
    fn the_newest_offered_token_is_kept_and_blank_ones_are_not() {
        let tokens = WebIdentityToken::default();
        assert_eq!(tokens.get(), None);
        tokens.offer("first");
        tokens.offer("  ");
        assert_eq!(tokens.get().as_deref(), Some("first"));
        tokens.offer("second");
        assert_eq!(tokens.get().as_deref(), Some("second"));
    }
}
