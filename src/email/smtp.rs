//! `SmtpEmailSender`: sends through any SMTP relay (SendGrid, Mailgun, Postmark, Office 365,
//! Google Workspace...) with lettre over tokio and rustls, and maps SMTP replies onto the API's
//! error contract.

use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{EmailSender, mime};
use crate::config::{SendPolicy, SmtpSecurity, SmtpSettings};
use crate::domain::{EmailAddress, EmailMessage, Sent};
use crate::error::{Error, ErrorCode};
use crate::names::Provider;
use crate::support::BoxFuture;
const HINT_CREDENTIALS: &str =
    "Check SMTP_USERNAME and SMTP_PASSWORD (for SendGrid the user is `apikey`), then redeploy.";
const HINT_TLS: &str =
    "Check SMTP_SECURITY and SMTP_PORT: starttls is usually port 587, tls port 465.";

pub struct SmtpEmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: EmailAddress,
    /// The channel's reply-to (`AWS_SES_REPLY_TO`), used when a message names none: a setting
    /// of the whole email channel, kept when an email fails over to SMTP.
    reply_to: Vec<EmailAddress>,
    policy: SendPolicy,
}

impl std::fmt::Debug for SmtpEmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpEmailSender")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpEmailSender {
    /// Builds the (pooled) transport once; nothing connects until the first send. STARTTLS is
    /// required when chosen: a relay that does not offer it fails rather than sending in clear.
    pub fn new(
        settings: SmtpSettings,
        reply_to: Vec<EmailAddress>,
        policy: SendPolicy,
    ) -> Result<Self, String> {
        let builder = match settings.security {
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host),
            SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &settings.host,
            )),
        }
        .map_err(|e| format!("SMTP_HOST cannot be used: {e}"))?;
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(policy.attempt_timeout));
        if let Some((user, password)) = settings.credentials {
            builder = builder.credentials(Credentials::new(user, password.expose().to_owned()));
        }
        Ok(Self {
            transport: builder.build(),
            from: settings.from,
            reply_to,
            policy,
        })
    }
}

impl EmailSender for SmtpEmailSender {
    fn provider(&self) -> Provider {
        Provider::Smtp
    }

    fn send<'a>(&'a self, message: &'a EmailMessage) -> BoxFuture<'a, Result<Sent, Error>> {
        Box::pin(async move {
            let (mime, message_id) = mime::build(message, &self.from, &self.reply_to)?;
            match tokio::time::timeout(self.policy.send_timeout, self.transport.send(mime)).await {
                Ok(Ok(_)) => Ok(Sent::live(message_id)),
                Ok(Err(error)) => Err(classify_smtp_error(error)),
                Err(_) => Err(timeout()),
            }
        })
    }
}

/// Maps a lettre SMTP error: the reply code when the relay answered, else what the connection
/// says about whether the message could have been accepted.
fn classify_smtp_error(error: lettre::transport::smtp::Error) -> Error {
    let classified = classify_smtp_failure(&error);
    classified.with_source(error)
}

fn classify_smtp_failure(error: &lettre::transport::smtp::Error) -> Error {
    if let Some(code) = error.status() {
        return classify_smtp_reply(u16::from(code), &error.to_string());
    }
    if error.is_timeout() {
        return timeout();
    }
    if error.is_tls() {
        return Error::new(
            ErrorCode::ProviderTlsFailed,
            "The TLS connection to the SMTP relay failed.",
        )
        .with_hint(HINT_TLS);
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as Io;
            if matches!(
                io.kind(),
                Io::ConnectionRefused
                    | Io::NotFound
                    | Io::AddrNotAvailable
                    | Io::HostUnreachable
                    | Io::NetworkUnreachable
            ) {
                return Error::new(
                    ErrorCode::ProviderUnreachable,
                    "Could not reach the SMTP relay. Try again shortly.",
                );
            }
        }
        source = cause.source();
    }
    Error::new(
        ErrorCode::ProviderError,
        "The connection to the SMTP relay broke during the send.",
    )
    .with_acceptance_unknown()
}

/// Maps an SMTP reply code (RFC 5321). Pure, so every mapping is unit-tested.
pub fn classify_smtp_reply(code: u16, text: &str) -> Error {
    let reason: String = text
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    let error = match code {
        530 | 534 | 535 | 538 => Error::new(
            ErrorCode::ProviderAuthFailed,
            "The SMTP relay refused the username or password.",
        )
        .with_hint(HINT_CREDENTIALS),
        421 => Error::new(
            ErrorCode::ProviderUnavailable,
            "The SMTP relay is not taking mail right now.",
        ),
        450..=499 => Error::new(
            ErrorCode::ProviderDeferred,
            format!("The SMTP relay deferred the email ({reason})."),
        ),
        552 => Error::new(
            ErrorCode::MessageTooLarge,
            format!("The SMTP relay refused the email as too large ({reason})."),
        ),
        500..=599 => Error::new(
            ErrorCode::MessageRejected,
            format!("The SMTP relay rejected the email ({reason})."),
        ),
        _ => Error::new(
            ErrorCode::ProviderError,
            format!("The SMTP relay answered {code} ({reason})."),
        ),
    };
    error.with_provider_code(code.to_string())
}

fn timeout() -> Error {
    Error::new(
        ErrorCode::ProviderTimeout,
        "The SMTP relay did not answer in time. The email may or may not have been sent.",
    )
    .with_acceptance_unknown()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_failures_are_configuration_faults_that_may_fail_over() {
        let error = classify_smtp_reply(535, "5.7.8 Authentication credentials invalid");
        assert_eq!(
            (error.status(), error.code.as_str()),
            (503, "provider_auth_failed")
        );
        assert!(error.may_fail_over());
    }

    #[test]
    fn permanent_rejections_are_422_and_never_fail_over() {
        for code in [550, 551, 553, 554] {
            let error = classify_smtp_reply(code, "5.1.1 User unknown");
            assert_eq!(
                (error.status(), error.code.as_str()),
                (422, "message_rejected"),
                "{code}"
            );
            assert!(!error.may_fail_over(), "{code}");
        }
        assert_eq!(
            classify_smtp_reply(552, "too big").code,
            "message_too_large"
        );
    }

    #[test]
    fn deferrals_and_unavailability_may_fail_over() {
        for code in [421, 450, 451, 452] {
            let error = classify_smtp_reply(code, "4.7.0 Try again later");
            assert_eq!(error.status(), 502, "{code}");
            assert!(error.may_fail_over(), "{code}");
        }
    }

    #[test]
    fn a_timeout_means_the_email_may_have_gone_and_is_not_failed_over() {
        let error = timeout();
        assert!(error.acceptance_unknown);
        assert!(!error.may_fail_over());
    }
}
