//! Every error code the API answers, with its HTTP status: the one list that the README's error
//! table and `docs/openapi.json` are checked against (tests/api/contract.rs).

use serde::Serialize;

/// Declares the codes once: the variant, its stable snake_case name and its status.
macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal, $status:literal;)*) => {
        /// A stable, machine-readable error code: callers switch on its name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The name in answers, logs and the audit trail.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }

            /// The HTTP status an error with this code is answered with.
            pub const fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }
        }
    };
}

codes! {
    /// A notification went out on one channel and failed on the other.
    PartiallySent = "partially_sent", 207;
    InvalidJson = "invalid_json", 400;
    InvalidRequest = "invalid_request", 400;
    UnreadableBody = "unreadable_body", 400;
    InvalidIdempotencyKey = "invalid_idempotency_key", 400;
    AuthenticationRequired = "authentication_required", 401;
    InvalidApiKey = "invalid_api_key", 401;
    InvalidToken = "invalid_token", 401;
    InvalidAuthorization = "invalid_authorization", 401;
    OriginNotAllowed = "origin_not_allowed", 403;
    /// Credentials without the `send` permission (an API key's limit, a JWT's `scope`).
    SendPermissionRequired = "send_permission_required", 403;
    /// Credentials without the `read` permission.
    ReadPermissionRequired = "read_permission_required", 403;
    /// Credentials without the `manage` permission.
    ManagePermissionRequired = "manage_permission_required", 403;
    InvalidSignature = "invalid_signature", 403;
    /// An unsubscribe or preference link this deployment did not sign, or one that was changed.
    InvalidLink = "invalid_link", 403;
    /// A webhook this deployment cannot verify is refused like a forged one.
    WebhooksNotConfigured = "webhooks_not_configured", 403;
    NotFound = "not_found", 404;
    TemplateNotFound = "template_not_found", 404;
    MessageNotFound = "message_not_found", 404;
    SuppressionNotFound = "suppression_not_found", 404;
    BatchNotFound = "batch_not_found", 404;
    MethodNotAllowed = "method_not_allowed", 405;
    IdempotencyInProgress = "idempotency_in_progress", 409;
    /// A scheduled message asked to be cancelled or moved after it went.
    MessageAlreadySent = "message_already_sent", 409;
    /// A patient's STOP is lifted only by the patient (START).
    LiftRequiresPatient = "lift_requires_patient", 409;
    /// A complaint is lifted only with `"force": true`.
    LiftRequiresForce = "lift_requires_force", 409;
    PayloadTooLarge = "payload_too_large", 413;
    AttachmentsTooLarge = "attachments_too_large", 413;
    UnsupportedMediaType = "unsupported_media_type", 415;
    RecipientNotVerified = "recipient_not_verified", 422;
    MessageRejected = "message_rejected", 422;
    MessageTooLarge = "message_too_large", 422;
    InvalidRecipient = "invalid_recipient", 422;
    RegionNotEnabled = "region_not_enabled", 422;
    RecipientOptedOut = "recipient_opted_out", 422;
    RecipientNotMobile = "recipient_not_mobile", 422;
    MessageTooLong = "message_too_long", 422;
    IdempotencyKeyReused = "idempotency_key_reused", 422;
    /// Every recipient of the message is on the suppression list: nothing was sent.
    RecipientSuppressed = "recipient_suppressed", 422;
    /// The patient's choice, or the practice's default, has the message's category off on the
    /// channel (or a billing text has no consent on file while it is required).
    RecipientDeclined = "recipient_declined", 422;
    /// A fallback notification's channel for which the patient has no address: passed over.
    NoAddress = "no_address", 422;
    /// A change that would turn every channel of a required category off.
    CategoryRequired = "category_required", 422;
    ProviderThrottled = "provider_throttled", 429;
    RateLimited = "rate_limited", 429;
    RecipientRateLimited = "recipient_rate_limited", 429;
    /// A bug in this API: that request alone fails.
    InternalError = "internal_error", 500;
    TemplateRenderFailed = "template_render_failed", 500;
    ProviderError = "provider_error", 502;
    ProviderUnreachable = "provider_unreachable", 502;
    ProviderUnavailable = "provider_unavailable", 502;
    ProviderDeferred = "provider_deferred", 502;
    SubscriptionNotConfirmed = "subscription_not_confirmed", 502;
    /// Every channel of a notification failed: answered with the failure's own status, 502 only
    /// when there is none to take.
    NotificationFailed = "notification_failed", 502;
    ChannelMisconfigured = "channel_misconfigured", 503;
    SenderNotVerified = "sender_not_verified", 503;
    MailFromDomainNotVerified = "mail_from_domain_not_verified", 503;
    ProviderAuthFailed = "provider_auth_failed", 503;
    ProviderAccessDenied = "provider_access_denied", 503;
    ProviderAccountSuspended = "provider_account_suspended", 503;
    SendingPaused = "sending_paused", 503;
    /// The reputation guard holds sends of categories a patient may turn off: the email bounce
    /// or complaint rate is past its hold line.
    SendingHeld = "sending_held", 503;
    ConfigurationSetNotFound = "configuration_set_not_found", 503;
    ProviderAccountInactive = "provider_account_inactive", 503;
    SenderMisconfigured = "sender_misconfigured", 503;
    ProviderTlsFailed = "provider_tls_failed", 503;
    /// The outgoing HTTP client could not start (TLS set-up failed on this host).
    HttpClientFailed = "http_client_failed", 503;
    StoreUnavailable = "store_unavailable", 503;
    /// `CRON_SECRET` is unset or unusable, so the dispatcher takes no call.
    DispatcherNotConfigured = "dispatcher_not_configured", 503;
    /// Scheduling needs what is not set: a database on Vercel, `NOTIFY_STORE_KEY` with one.
    StoreRequired = "store_required", 503;
    ProviderTimeout = "provider_timeout", 504;
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// So that a test can say `assert_eq!(error.code, "invalid_request")`, as a caller reads it.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl schemars::JsonSchema for ErrorCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
        crate::names::names_schema(
            "A stable, machine-readable error code: callers switch on its name (the README's \
             table says what each means and its status).",
            &names,
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_unique_snake_case_name() {
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn template_render_failures_are_bugs_of_this_api_not_of_a_provider() {
        assert_eq!(ErrorCode::TemplateRenderFailed.status(), 500);
    }
}
