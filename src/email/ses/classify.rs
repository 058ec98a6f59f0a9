//! How SES's (and the credential source's) failures become the API's error contract: on the
//! SDK's typed variants where it has them, and by code for what it leaves unmodelled.

use std::time::Duration;

use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::domain::EmailAddress;
use crate::error::{Error, ErrorCode};
use crate::names::CredentialSource;

const HINT_VERIFY_SENDER: &str = "Verify your sender email (AWS_SES_FROM_EMAIL) in the AWS SES Console under Verified identities.";
const HINT_SANDBOX: &str = "You're still in sandbox mode: SES only sends to verified addresses. Request production access in the SES Console.";
const HINT_CREDENTIALS: &str =
    "Check AWS_SES_ACCESS_KEY_ID and AWS_SES_SECRET_ACCESS_KEY in Vercel, then redeploy.";
const HINT_ROLE_CREDENTIALS: &str = "SES refused the temporary credentials of the role in AWS_ROLE_ARN: check that the role exists in the SES region's account and redeploy.";
const HINT_CHAIN_CREDENTIALS: &str = "SES refused the credentials found in the standard AWS chain: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the host's role.";
const HINT_ROLE_ACCESS_DENIED: &str = "Allow ses:SendEmail on the sender's identity in the permissions policy of the role in AWS_ROLE_ARN.";
const HINT_ACCESS_DENIED: &str =
    "Ensure the IAM user has the ses:SendEmail permission (for example AmazonSESFullAccess).";
const HINT_MAIL_FROM: &str = "Finish the custom MAIL FROM domain set-up of the sender's domain in the SES Console, or remove it.";
const HINT_ACCOUNT: &str = "Check the SES account dashboard in the AWS Console: sending is paused or the account is suspended.";
const HINT_CONFIGURATION_SET: &str =
    "Create the configuration set named by SES_CONFIGURATION_SET in the SES Console, or unset it.";

/// Throttled sends tell the caller to wait this long when SES gives no figure of its own.
const THROTTLE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Any failure of a `SendEmail` call.
/// Any failure of a `SendEmail` call. A failure to get credentials is told as such (it comes
/// wrapped in the SDK's own error); an auth refusal by SES names the credentials in use.
pub(super) fn classify(
    error: SdkError<SendEmailError, HttpResponse>,
    sender: &EmailAddress,
    source: CredentialSource,
) -> Error {
    if let Some(failure) = super::credentials::credential_failure(&error) {
        return failure.with_source(error);
    }
    let classified = match &error {
        SdkError::TimeoutError(_) => timeout(),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => timeout(),
        // The connector reports connection failures as I/O: nothing reached SES.
        SdkError::DispatchFailure(_) => Error::new(
            ErrorCode::ProviderUnreachable,
            "Could not reach AWS SES. Try again shortly.",
        ),
        SdkError::ServiceError(service) => {
            with_credential_hint(classify_ses_error(service.err(), sender), source)
        }
        SdkError::ResponseError(_) => Error::new(
            ErrorCode::ProviderError,
            "SES answered with something unreadable.",
        )
        .with_provider_code("Unknown"),
        _ => Error::new(
            ErrorCode::ProviderError,
            "The SES request could not be made.",
        ),
    };
    classified.with_source(error)
}

/// The seed's hints name the access-key variables; with other credentials they name those.
fn with_credential_hint(error: Error, source: CredentialSource) -> Error {
    let hint = match (error.code, source) {
        (_, CredentialSource::AccessKeys) => return error,
        (ErrorCode::ProviderAuthFailed, CredentialSource::VercelOidc) => HINT_ROLE_CREDENTIALS,
        (ErrorCode::ProviderAuthFailed, CredentialSource::DefaultChain) => HINT_CHAIN_CREDENTIALS,
        (ErrorCode::ProviderAccessDenied, CredentialSource::VercelOidc) => HINT_ROLE_ACCESS_DENIED,
        _ => return error,
    };
    error.with_hint(hint)
}

/// Maps SES's refusal of a `SendEmail` to the API's error: on the SDK's typed variants where it
/// has them, and by code for what it leaves unmodelled (credentials, access, the generic
/// throttling and parameter errors). Pure, so every mapping is unit-tested.
pub fn classify_ses_error(error: &SendEmailError, sender: &EmailAddress) -> Error {
    use SendEmailError as E;
    let message = error.message().unwrap_or_default();
    let classified = match error {
        E::MessageRejected(_) => rejected(message, sender),
        E::BadRequestException(_) => message_rejected(message),
        E::MailFromDomainNotVerifiedException(_) => Error::new(
            ErrorCode::MailFromDomainNotVerified,
            "SES refused the sender because its custom MAIL FROM domain is not verified.",
        )
        .with_hint(HINT_MAIL_FROM),
        E::AccountSuspendedException(_) => Error::new(
            ErrorCode::ProviderAccountSuspended,
            "The SES account is suspended and cannot send email.",
        )
        .with_hint(HINT_ACCOUNT),
        E::SendingPausedException(_) => Error::new(
            ErrorCode::SendingPaused,
            "Email sending is paused for this SES account or configuration set.",
        )
        .with_hint(HINT_ACCOUNT),
        E::TooManyRequestsException(_) | E::LimitExceededException(_) => throttled(),
        E::NotFoundException(_) => Error::new(
            ErrorCode::ConfigurationSetNotFound,
            "SES does not know the configuration set this deployment sends with.",
        )
        .with_hint(HINT_CONFIGURATION_SET),
        _ => unmodelled(error.code(), message),
    };
    classified.with_provider_code(error.code().unwrap_or("Unknown"))
}

/// `MessageRejected`: an unverified sender is this deployment's fault, an unverified recipient
/// the sandbox's, anything else the message's.
fn rejected(message: &str, sender: &EmailAddress) -> Error {
    let lower = message.to_ascii_lowercase();
    if !lower.contains("not verified") {
        return message_rejected(message);
    }
    if lower.contains(&sender.address().to_ascii_lowercase()) {
        Error::new(
            ErrorCode::SenderNotVerified,
            format!(
                "Email address not verified: SES refused the sender {}.",
                sender.address()
            ),
        )
        .with_hint(HINT_VERIFY_SENDER)
    } else {
        Error::new(
            ErrorCode::RecipientNotVerified,
            "SES refused a recipient that is not verified (the account is in the SES sandbox).",
        )
        .with_hint(HINT_SANDBOX)
    }
}

fn message_rejected(message: &str) -> Error {
    Error::new(
        ErrorCode::MessageRejected,
        format!("SES rejected the email: {}", sentence(message)),
    )
}

fn throttled() -> Error {
    Error::new(
        ErrorCode::ProviderThrottled,
        "SES is throttling this account's sends. Retry after the delay given.",
    )
    .with_retry_after(THROTTLE_RETRY_AFTER)
}

/// The AWS-wide errors `SendEmailError` does not model, by their code.
fn unmodelled(code: Option<&str>, message: &str) -> Error {
    match code.unwrap_or("Unknown") {
        "InvalidParameterValue" => message_rejected(message),
        "ThrottlingException" | "Throttling" => throttled(),
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "InvalidSignatureException"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "ExpiredToken"
        | "ExpiredTokenException" => Error::new(
            ErrorCode::ProviderAuthFailed,
            "Invalid credentials: AWS rejected the SES access key.",
        )
        .with_hint(HINT_CREDENTIALS),
        "AccessDeniedException" | "AccessDenied" => Error::new(
            ErrorCode::ProviderAccessDenied,
            "AccessDenied: the SES credentials may not send email.",
        )
        .with_hint(HINT_ACCESS_DENIED),
        name => Error::new(
            ErrorCode::ProviderError,
            format!("SES failed to send the email ({name}). Try again shortly."),
        ),
    }
}

fn timeout() -> Error {
    Error::new(
        ErrorCode::ProviderTimeout,
        "AWS SES did not answer in time. The email may or may not have been sent.",
    )
    .with_acceptance_unknown()
}

/// The first line of a provider message, bounded, ending in a full stop.
fn sentence(message: &str) -> String {
    let line: String = message
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    let line = line.trim().trim_end_matches('.');
    if line.is_empty() {
        "no reason given.".into()
    } else {
        format!("{line}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> EmailAddress {
        EmailAddress::parse("Clinic <noreply@clinic.example.com>").unwrap()
    }

    /// The error SES's answer deserialises into: the typed variant where the SDK models the
    /// code, `Unhandled` where it does not.
    fn classify(code: &str, message: &str) -> Error {
        use aws_sdk_sesv2::types::error as e;
        let meta = aws_smithy_types::error::ErrorMetadata::builder()
            .code(code)
            .message(message)
            .build();
        let error = match code {
            "MessageRejected" => SendEmailError::MessageRejected(
                e::MessageRejected::builder()
                    .message(message)
                    .meta(meta)
                    .build(),
            ),
            "BadRequestException" => SendEmailError::BadRequestException(
                e::BadRequestException::builder()
                    .message(message)
                    .meta(meta)
                    .build(),
            ),
            "MailFromDomainNotVerifiedException" => {
                SendEmailError::MailFromDomainNotVerifiedException(
                    e::MailFromDomainNotVerifiedException::builder()
                        .message(message)
                        .meta(meta)
                        .build(),
                )
            }
            "AccountSuspendedException" => SendEmailError::AccountSuspendedException(
                e::AccountSuspendedException::builder()
                    .message(message)
                    .meta(meta)
                    .build(),
            ),
            "SendingPausedException" => SendEmailError::SendingPausedException(
                e::SendingPausedException::builder()
                    .message(message)
                    .meta(meta)
                    .build(),
            ),
            "NotFoundException" => SendEmailError::NotFoundException(
                e::NotFoundException::builder()
                    .message(message)
                    .meta(meta)
                    .build(),
            ),
            "TooManyRequestsException" => SendEmailError::TooManyRequestsException(
                e::TooManyRequestsException::builder()
                    .message(message)
                    .meta(meta)
                    .build(),
            ),
            "LimitExceededException" => SendEmailError::LimitExceededException(
                e::LimitExceededException::builder()
                    .message(message)
                    .meta(meta)
                    .build(),
            ),
            _ => SendEmailError::generic(meta),
        };
        classify_ses_error(&error, &sender())
    }

    #[test]
    fn an_unverified_sender_is_a_configuration_fault_with_the_verify_hint() {
        for message in [
            "Email address not verified \"Clinic\" <noreply@clinic.example.com>",
            "Email address is not verified. The following identities failed the check in region US-EAST-1: noreply@clinic.example.com",
        ] {
            let error = classify("MessageRejected", message);
            assert_eq!(
                (error.status(), error.code.as_str()),
                (503, "sender_not_verified")
            );
            assert_eq!(error.hint.as_deref(), Some(HINT_VERIFY_SENDER));
            assert_eq!(error.provider_code.as_deref(), Some("MessageRejected"));
        }
    }

    #[test]
    fn an_unverified_recipient_in_the_sandbox_is_a_rejection_with_the_sandbox_hint() {
        let error = classify(
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in region US-EAST-1: patient@example.com",
        );
        assert_eq!(
            (error.status(), error.code.as_str()),
            (422, "recipient_not_verified")
        );
        assert_eq!(error.hint.as_deref(), Some(HINT_SANDBOX));
    }

    #[test]
    fn other_rejections_are_422_and_quote_the_reason() {
        let error = classify("MessageRejected", "Illegal address");
        assert_eq!(
            (error.status(), error.code.as_str()),
            (422, "message_rejected")
        );
        assert!(error.message.contains("Illegal address."));
        assert_eq!(classify("BadRequestException", "x").status(), 422);
    }

    #[test]
    fn account_and_sender_domain_problems_are_503_with_hints() {
        for (code, expected) in [
            (
                "MailFromDomainNotVerifiedException",
                "mail_from_domain_not_verified",
            ),
            ("AccountSuspendedException", "provider_account_suspended"),
            ("SendingPausedException", "sending_paused"),
            ("NotFoundException", "configuration_set_not_found"),
        ] {
            let error = classify(code, "");
            assert_eq!(
                (error.status(), error.code.as_str()),
                (503, expected),
                "{code}"
            );
            assert!(error.hint.is_some(), "{code}");
        }
    }

    #[test]
    fn throttling_is_429_with_a_retry_after() {
        for code in [
            "TooManyRequestsException",
            "LimitExceededException",
            "ThrottlingException",
            "Throttling",
        ] {
            let error = classify(code, "Maximum sending rate exceeded.");
            assert_eq!(
                (error.status(), error.code.as_str()),
                (429, "provider_throttled"),
                "{code}"
            );
            assert_eq!(error.retry_after, Some(THROTTLE_RETRY_AFTER));
        }
    }

    #[test]
    fn bad_credentials_and_access_denied_are_503_with_the_seed_hints() {
        for code in [
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "SignatureDoesNotMatch",
        ] {
            let error = classify(
                code,
                "The security token included in the request is invalid.",
            );
            assert_eq!(
                (error.status(), error.code.as_str()),
                (503, "provider_auth_failed"),
                "{code}"
            );
            assert_eq!(error.hint.as_deref(), Some(HINT_CREDENTIALS));
        }
        let error = classify(
            "AccessDeniedException",
            "User is not authorized to perform ses:SendEmail",
        );
        assert_eq!(
            (error.status(), error.code.as_str()),
            (503, "provider_access_denied")
        );
        assert_eq!(error.hint.as_deref(), Some(HINT_ACCESS_DENIED));
    }

    #[test]
    fn unknown_failures_are_502() {
        let error = classify("InternalFailure", "boom");
        assert_eq!(
            (error.status(), error.code.as_str()),
            (502, "provider_error")
        );
        let error = classify_ses_error(
            &SendEmailError::generic(aws_smithy_types::error::ErrorMetadata::builder().build()),
            &sender(),
        );
        assert_eq!(error.provider_code.as_deref(), Some("Unknown"));
    }
}
