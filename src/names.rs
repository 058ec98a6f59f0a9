//! The names the API gives its providers, channels and modes: in answers, health, logs and the
//! audit trail they are these strings and no others.

use serde::Serialize;

/// Declares a closed set of names, each serialised as its string.
macro_rules! names {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The name for `text`, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format_args!("unknown {}: {text}", stringify!($name)))
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                names_schema(concat!($($doc,)*), &[$($text,)*])
            }
        }
    };
}

/// The JSON Schema of a closed set of names (OpenAPI's component for the enum): a string that
/// is one of `names`, described by the type's doc comment.
pub fn names_schema(doc: &str, names: &[&str]) -> schemars::Schema {
    let mut schema = schemars::json_schema!({"type": "string", "enum": names});
    // Each line of a doc comment starts with a space, so the lines run on as one sentence.
    if !doc.trim().is_empty() {
        schema.insert("description".into(), doc.trim().into());
    }
    schema
}

names! {
    /// What a caller may do: `send` (the send routes and batches, cancelling and moving a
    /// scheduled message or a batch), `read` (the message log, its counts and events, batches,
    /// suppressions, a patient's choices) and `manage` (adding and lifting suppressions,
    /// changing a patient's choices, the audit export).
    Permission {
        Send = "send",
        Read = "read",
        Manage = "manage",
    }
}

names! {
    /// How `GET /api/messages` answers: a JSON page, or every matching message as CSV.
    ExportFormat {
        Json = "json",
        Csv = "csv",
    }
}

names! {
    /// Who carries a message.
    Provider {
        AwsSes = "aws-ses",
        Smtp = "smtp",
        Twilio = "twilio",
    }
}

names! {
    /// How a message reaches the patient.
    Channel {
        Email = "email",
        Sms = "sms",
    }
}

names! {
    /// How a notification uses its channels: `all` sends on every one given; `fallback` tries
    /// them in order and uses the next only when one cannot reach the patient.
    Strategy {
        All = "all",
        Fallback = "fallback",
    }
}

names! {
    /// What became of one item of a batch when it was admitted.
    BatchItemStatus {
        Queued = "queued",
        Scheduled = "scheduled",
        Suppressed = "suppressed",
        Declined = "declined",
    }
}

names! {
    /// Where the pace of batch emails comes from: `NOTIFY_SES_MAX_SEND_RATE`, SES's own
    /// answer (`GetAccount`, asked by the functions that pace, once per instance), SES's
    /// sandbox rate when neither answers, or none (demo mode, or an SMTP relay first: not
    /// paced).
    RateSource {
        Variable = "variable",
        Ses = "ses",
        SandboxDefault = "sandbox_default",
        Unpaced = "unpaced",
    }
}

names! {
    /// What a channel does with a send: hands it to the provider, only logs it (no credentials
    /// at all), or refuses it until its configuration is fixed.
    Mode {
        Live = "live",
        Demo = "demo",
        Misconfigured = "misconfigured",
    }
}

names! {
    /// The send route a scheduled send runs through when it is due (`fallback`: the next
    /// channel of a fallback notification, waiting for the first one's fate).
    ScheduledRoute {
        Email = "send-email",
        Sms = "send-sms",
        Notification = "send-notification",
        Fallback = "fallback",
    }
}

names! {
    /// Health's verdict: `degraded` when a variable is missing or invalid or the store does
    /// not answer.
    HealthStatus {
        Ok = "ok",
        Degraded = "degraded",
    }
}

names! {
    /// Where state that outlives a request is kept.
    StoreKind {
        Memory = "memory",
        Postgres = "postgres",
    }
}

names! {
    /// Where a message is: waiting for its `sendAt` (or cancelled while waiting, never sent), a
    /// send's outcome, then what delivery events said of it.
    MessageStatus {
        Scheduled = "scheduled",
        Cancelled = "cancelled",
        Logged = "logged",
        Sent = "sent",
        Delayed = "delayed",
        Delivered = "delivered",
        Bounced = "bounced",
        Failed = "failed",
        Read = "read",
        Complained = "complained",
        OptedOut = "opted_out",
        Suppressed = "suppressed",
        Declined = "declined",
    }
}

impl MessageStatus {
    /// Statuses only move forward: a report ranked no higher than the current status (a late
    /// `sent` after `delivered`) is kept as an event but does not change the status.
    pub const fn rank(self) -> u8 {
        match self {
            Self::Scheduled => 0,
            Self::Logged | Self::Sent => 1,
            Self::Delayed => 2,
            Self::Delivered | Self::Bounced | Self::Failed => 3,
            Self::Read => 4,
            Self::Complained | Self::OptedOut => 5,
            Self::Cancelled | Self::Suppressed | Self::Declined => 6,
        }
    }
}

names! {
    /// What a delivery event says happened to a message, whichever provider reported it.
    EventKind {
        Sent = "sent",
        Delivered = "delivered",
        Bounced = "bounced",
        Complained = "complained",
        Failed = "failed",
        OptedOut = "opted_out",
        Delayed = "delayed",
        Read = "read",
    }
}

impl EventKind {
    /// The status an event of this kind moves its message to (if its rank is higher).
    pub const fn status(self) -> MessageStatus {
        match self {
            Self::Sent => MessageStatus::Sent,
            Self::Delivered => MessageStatus::Delivered,
            Self::Bounced => MessageStatus::Bounced,
            Self::Complained => MessageStatus::Complained,
            Self::Failed => MessageStatus::Failed,
            Self::OptedOut => MessageStatus::OptedOut,
            Self::Delayed => MessageStatus::Delayed,
            Self::Read => MessageStatus::Read,
        }
    }
}

names! {
    /// What an audit line records.
    AuditKind {
        SendAttempt = "send_attempt",
        SendScheduled = "send_scheduled",
        IdempotentReplay = "idempotent_replay",
        WebhookRefused = "webhook_refused",
        DeliveryEvent = "delivery_event",
        SuppressionAdded = "suppression_added",
        SuppressionLifted = "suppression_lifted",
        PreferenceUpdated = "preference_updated",
        ReputationChanged = "reputation_changed",
    }
}

names! {
    /// How a send attempt ended, as its audit line says (`suppressed`, `declined`: not made,
    /// every recipient being on the suppression list or having declined its category).
    AuditOutcome {
        Sent = "sent",
        Logged = "logged",
        Failed = "failed",
        Suppressed = "suppressed",
        Declined = "declined",
    }
}

names! {
    /// Where the SES provider's AWS credentials come from (health's `credentialSource`).
    CredentialSource {
        AccessKeys = "access-keys",
        VercelOidc = "vercel-oidc",
        DefaultChain = "default-chain",
    }
}

names! {
    /// What a message is about, as a patient's choices see it. `billing_alerts` is required:
    /// a patient may choose its channel but not turn it off.
    Category {
        BillingAlerts = "billing_alerts",
        BillingReceipts = "billing_receipts",
        CareReminders = "care_reminders",
        Documents = "documents",
    }
}

impl Category {
    /// Whether a patient may not turn the category off.
    pub const fn required(self) -> bool {
        matches!(self, Self::BillingAlerts)
    }
}

names! {
    /// Why a recipient is on the suppression list.
    SuppressionReason {
        HardBounce = "hard_bounce",
        Complaint = "complaint",
        ProviderSuppressed = "provider_suppressed",
        SmsStop = "sms_stop",
        Unsubscribed = "unsubscribed",
        InvalidRecipient = "invalid_recipient",
        Manual = "manual",
    }
}

names! {
    /// What put a recipient on the suppression list: a provider's event (or its answer to a
    /// send), a message the patient sent, an API caller, or the unsubscribe link.
    SuppressionSource {
        ProviderEvent = "provider_event",
        InboundMessage = "inbound_message",
        Api = "api",
        UnsubscribeLink = "unsubscribe_link",
    }
}

names! {
    /// The reputation guard: `warning` past the warning thresholds, `held` past the hold
    /// thresholds (below SES's review lines), when sends of categories a patient may turn off
    /// wait.
    GuardState {
        Ok = "ok",
        Warning = "warning",
        Held = "held",
    }
}

names! {
    /// Why a send to a patient was declined: the patient turned its category off on that
    /// channel, the practice's default has it off, or a billing text has no consent on file
    /// while `NOTIFY_SMS_CONSENT=required`.
    DeclineRule {
        PatientPreference = "patient_preference",
        PracticeDefault = "practice_default",
        SmsConsentRequired = "sms_consent_required",
    }
}

names! {
    /// What lifting an email suppression did to SES's own account-level list: the address was
    /// removed, was not on it, or was not checked (no address given, no SES, or SES failed).
    ProviderListing {
        Removed = "removed",
        NotListed = "not_listed",
        NotChecked = "not_checked",
    }
}

names! {
    /// Who set a patient's choice: an API caller (the practice's app or staff), the patient on
    /// the preference page, or the one-click unsubscribe link.
    ChoiceSource {
        Api = "api",
        PreferencePage = "preference_page",
        UnsubscribeLink = "unsubscribe_link",
    }
}
