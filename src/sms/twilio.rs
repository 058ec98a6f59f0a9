//! `TwilioSmsSender`: sends through Twilio's Messages REST API (2010-04-01) and turns every
//! Twilio failure into the API's error contract.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde::Deserialize;

use super::SmsSender;
use crate::config::{Secret, SendPolicy, TwilioSender, TwilioSettings};
use crate::domain::{Sent, SmsMessage};
use crate::error::{Error, ErrorCode};
use crate::names::Provider;
use crate::support::{BoxFuture, HttpClient};

const HINT_CREDENTIALS: &str = "Check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN in Vercel environment variables, then redeploy.";
const HINT_E164: &str = "Ensure the phone number is in E.164 format: +1XXXXXXXXXX.";
const HINT_BALANCE: &str = "Insufficient balance: add credits to your Twilio account.";
const HINT_GEO: &str = "Enable SMS to this country under Messaging > Settings > Geo permissions in the Twilio Console.";
const HINT_TRIAL: &str = "Twilio trial accounts only text verified numbers: verify it in the Twilio Console or upgrade the account.";
const HINT_OPTED_OUT: &str = "The recipient replied STOP. They must text START to your number before they can receive SMS again.";
const HINT_SENDER: &str = "Check TWILIO_PHONE_NUMBER (an SMS-capable number of this account) or TWILIO_MESSAGING_SERVICE_SID.";

/// Back-off bounds between attempts; a `Retry-After` longer than the cap is answered to the
/// caller as a 429 instead of waited out inside the function.
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct TwilioSmsSender {
    http: HttpClient,
    messages_url: String,
    account_sid: String,
    auth_token: Secret,
    sender: TwilioSender,
    policy: SendPolicy,
    /// `{NOTIFY_PUBLIC_URL}/api/webhooks/twilio`, when delivery events are wired.
    status_callback: Option<String>,
}

/// The part of Twilio's message resource we use.
#[derive(Deserialize)]
struct CreatedMessage {
    sid: String,
}

/// Twilio's error body: `{"code": 21211, "message": "...", "more_info": "...", "status": 400}`.
#[derive(Deserialize)]
struct TwilioErrorBody {
    code: Option<u32>,
    message: Option<String>,
}

impl TwilioSmsSender {
    pub fn new(
        settings: TwilioSettings,
        policy: SendPolicy,
        http: HttpClient,
        status_callback: Option<String>,
    ) -> Self {
        Self {
            messages_url: format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                settings.api_base_url, settings.account_sid
            ),
            http,
            account_sid: settings.account_sid,
            auth_token: settings.auth_token,
            sender: settings.sender,
            policy,
            status_callback,
        }
    }

    async fn attempt(&self, message: &SmsMessage) -> Result<Sent, Error> {
        let mut form = vec![("To", message.to.as_str()), ("Body", message.body.as_str())];
        if let Some(number) = &self.sender.phone_number {
            form.push(("From", number.as_str()));
        }
        if let Some(service) = &self.sender.messaging_service_sid {
            form.push(("MessagingServiceSid", service.as_str()));
        }
        if let Some(callback) = &self.status_callback {
            form.push(("StatusCallback", callback.as_str()));
        }
        let response = self
            .http
            .get()?
            .post(&self.messages_url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
            .form(&form)
            .timeout(self.policy.attempt_timeout)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(transport_error)?;
        if (200..300).contains(&status) {
            return match serde_json::from_slice::<CreatedMessage>(&body) {
                Ok(created) => Ok(Sent::live(created.sid)),
                Err(_) => Err(Error::new(
                    ErrorCode::ProviderError,
                    "Twilio accepted the SMS but its answer had no message sid.",
                )),
            };
        }
        let details = serde_json::from_slice::<TwilioErrorBody>(&body).ok();
        let code = details.as_ref().and_then(|d| d.code);
        let text = details.and_then(|d| d.message);
        let mut error = classify_twilio_error(status, code, text.as_deref());
        if let (ErrorCode::ProviderThrottled, Some(after)) = (error.code, retry_after) {
            error = error.with_retry_after(after);
        }
        Err(error)
    }
}

impl SmsSender for TwilioSmsSender {
    fn provider(&self) -> Provider {
        Provider::Twilio
    }

    fn send<'a>(&'a self, message: &'a SmsMessage) -> BoxFuture<'a, Result<Sent, Error>> {
        Box::pin(self.send_with_retries(message))
    }
}

impl TwilioSmsSender {
    /// Retries throttling, 5xx and timeouts with jittered exponential back-off, never other
    /// 4xx, and gives up with a 504 when the whole send outlives `send_timeout`.
    async fn send_with_retries(&self, message: &SmsMessage) -> Result<Sent, Error> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(MIN_BACKOFF)
            .with_max_delay(MAX_BACKOFF)
            .with_max_times(self.policy.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        let retried = (|| self.attempt(message))
            .retry(backoff)
            .when(Error::is_transient)
            .adjust(|error: &Error, delay| match error.retry_after {
                Some(after) if after > MAX_BACKOFF => None,
                Some(after) => delay.map(|d| d.max(after)),
                None => delay,
            });
        match tokio::time::timeout(self.policy.send_timeout, retried).await {
            Ok(result) => result,
            Err(_) => Err(timeout()),
        }
    }
}

/// Maps Twilio's HTTP status and error code to the API's error. Pure, so every mapping is
/// unit-tested.
pub fn classify_twilio_error(status: u16, code: Option<u32>, message: Option<&str>) -> Error {
    let reason = message.unwrap_or("no reason given");
    let error = match code {
        Some(20003) => Error::new(
            ErrorCode::ProviderAuthFailed,
            "Failed to send SMS: Twilio rejected the account SID or auth token.",
        )
        .with_hint(HINT_CREDENTIALS),
        Some(20429) => throttled(),
        Some(21211) => Error::new(
            ErrorCode::InvalidRecipient,
            "Invalid phone number format: Twilio does not accept the 'To' number.",
        )
        .with_hint(HINT_E164),
        Some(21408) => Error::new(
            ErrorCode::RegionNotEnabled,
            "This Twilio account may not send SMS to the recipient's country.",
        )
        .with_hint(HINT_GEO),
        Some(21608) => Error::new(
            ErrorCode::RecipientNotVerified,
            "This Twilio trial account can only text verified numbers, and the recipient is not one.",
        )
        .with_hint(HINT_TRIAL),
        Some(21610) => Error::new(
            ErrorCode::RecipientOptedOut,
            "The recipient has opted out of SMS from this number (they replied STOP).",
        )
        .with_hint(HINT_OPTED_OUT),
        Some(21614) => Error::new(
            ErrorCode::RecipientNotMobile,
            "The recipient's number is not a mobile number that can receive SMS (a landline?).",
        ),
        Some(21617) => Error::new(
            ErrorCode::MessageTooLong,
            "Twilio refused the message because it is over 1600 characters once encoded.",
        ),
        Some(20005 | 10001 | 30044) => Error::new(
            ErrorCode::ProviderAccountInactive,
            "The Twilio account is not active, usually because its balance ran out.",
        )
        .with_hint(HINT_BALANCE),
        Some(21212 | 21606 | 21659 | 21703 | 21704) => Error::new(
            ErrorCode::SenderMisconfigured,
            format!("Twilio refused the sender configured for this deployment: {reason}."),
        )
        .with_hint(HINT_SENDER),
        _ if status == 401 => Error::new(
            ErrorCode::ProviderAuthFailed,
            "Failed to send SMS: Twilio rejected the account SID or auth token.",
        )
        .with_hint(HINT_CREDENTIALS),
        _ if status == 429 => throttled(),
        _ if status >= 500 => Error::new(
            ErrorCode::ProviderError,
            format!("Twilio failed to send the SMS (HTTP {status}). Try again shortly."),
        ),
        _ => Error::new(
            ErrorCode::MessageRejected,
            format!("Twilio rejected the SMS: {reason}."),
        ),
    };
    error.with_provider_code(code.map_or_else(|| format!("HTTP {status}"), |c| c.to_string()))
}

fn throttled() -> Error {
    Error::new(
        ErrorCode::ProviderThrottled,
        "Twilio is throttling this account's messages. Retry after the delay given.",
    )
    .with_retry_after(Duration::from_secs(1))
}

fn timeout() -> Error {
    Error::new(
        ErrorCode::ProviderTimeout,
        "Twilio did not answer in time. The SMS may or may not have been sent.",
    )
    .with_acceptance_unknown()
}

fn transport_error(error: reqwest::Error) -> Error {
    let classified = if error.is_timeout() && !error.is_connect() {
        timeout()
    } else {
        Error::new(
            ErrorCode::ProviderUnreachable,
            "Could not reach Twilio. Try again shortly.",
        )
    };
    classified.with_source(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, code: u32) -> Error {
        classify_twilio_error(status, Some(code), Some("reason"))
    }

    #[test]
    fn recipient_problems_are_422_with_their_own_codes() {
        for (code, expected) in [
            (21211, "invalid_recipient"),
            (21408, "region_not_enabled"),
            (21608, "recipient_not_verified"),
            (21610, "recipient_opted_out"),
            (21614, "recipient_not_mobile"),
            (21617, "message_too_long"),
        ] {
            let error = classify(400, code);
            assert_eq!(
                (error.status(), error.code.as_str()),
                (422, expected),
                "{code}"
            );
            assert_eq!(error.provider_code, Some(code.to_string()));
        }
        assert_eq!(classify(400, 21211).hint.as_deref(), Some(HINT_E164));
        assert_eq!(classify(400, 21610).hint.as_deref(), Some(HINT_OPTED_OUT));
    }

    #[test]
    fn bad_credentials_are_503_with_the_seed_hint() {
        let error = classify(401, 20003);
        assert_eq!(
            (error.status(), error.code.as_str()),
            (503, "provider_auth_failed")
        );
        assert_eq!(error.hint.as_deref(), Some(HINT_CREDENTIALS));
        let without_code = classify_twilio_error(401, None, None);
        assert_eq!(without_code.code, "provider_auth_failed");
        assert_eq!(without_code.provider_code.as_deref(), Some("HTTP 401"));
    }

    #[test]
    fn throttling_is_429_and_transient() {
        for error in [classify(429, 20429), classify_twilio_error(429, None, None)] {
            assert_eq!(
                (error.status(), error.code.as_str()),
                (429, "provider_throttled")
            );
            assert!(error.retry_after.is_some());
            assert!(error.is_transient());
        }
    }

    #[test]
    fn balance_and_sender_problems_are_503() {
        for code in [20005, 10001, 30044] {
            let error = classify(400, code);
            assert_eq!(
                (error.status(), error.code.as_str()),
                (503, "provider_account_inactive")
            );
            assert_eq!(error.hint.as_deref(), Some(HINT_BALANCE));
        }
        assert_eq!(classify(400, 21606).code, "sender_misconfigured");
    }

    #[test]
    fn server_errors_are_502_and_transient_while_other_4xx_are_final() {
        let server = classify(500, 20500);
        assert_eq!(
            (server.status(), server.code.as_str()),
            (502, "provider_error")
        );
        assert!(server.is_transient());
        let other = classify(400, 21000);
        assert_eq!(
            (other.status(), other.code.as_str()),
            (422, "message_rejected")
        );
        assert!(!other.is_transient());
    }
}
