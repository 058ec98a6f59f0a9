//! Who may send (API keys, JWTs, browser origins) and the abuse limits.

use std::time::Duration;

use super::Secret;
use super::vars::{Vars, read_number, read_secret};
use crate::domain::Permissions;
use crate::error::FieldError;

/// Who may send: API keys for servers, short-lived JWTs for browsers, and the origins a
/// browser may call from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessConfig {
    /// Each key with what it may do: all, unless the key is followed by `:` and a limit such
    /// as `read+manage`.
    pub api_keys: Vec<(Secret, Permissions)>,
    pub jwt_secret: Option<Secret>,
    /// The longest a JWT may live (`exp` minus now), so a leaked token is soon worthless.
    pub jwt_max_ttl: Duration,
    pub allowed_origins: Vec<String>,
    /// `NOTIFY_ALLOW_UNAUTHENTICATED=1`: live channels accept sends without credentials.
    pub allow_unauthenticated: bool,
}

/// Abuse limits, per function instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Send requests per caller (API key, JWT subject or client IP) per minute.
    pub requests_per_minute: u32,
    pub sms_per_recipient_per_hour: u32,
    pub emails_per_recipient_per_hour: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            requests_per_minute: 60,
            sms_per_recipient_per_hour: 5,
            emails_per_recipient_per_hour: 20,
        }
    }
}

pub(super) fn read_access(vars: &Vars, invalid: &mut Vec<FieldError>) -> AccessConfig {
    let mut api_keys = Vec::new();
    for key in vars
        .get("NOTIFY_API_KEYS")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
    {
        if key.is_empty() {
            continue;
        }
        // `key:read+manage`: a key limited to some permissions. A key's own characters never
        // include `:` (hex or base64 from the README's recipe).
        let (key, permissions) = match key.rsplit_once(':') {
            None => (key, Some(Permissions::ALL)),
            Some((key, limit)) => (key, Permissions::parse(limit, '+', false)),
        };
        let Some(permissions) = permissions.filter(|p| *p != Permissions::default()) else {
            invalid.push(FieldError::new(
                "NOTIFY_API_KEYS",
                "a key's limit (after its `:`) is not permissions from send, read and manage joined by + (such as key:read+manage), and the key is not used",
            ));
            continue;
        };
        if key.len() < MIN_API_KEY_CHARS {
            invalid.push(FieldError::new(
                "NOTIFY_API_KEYS",
                format!("a key is shorter than {MIN_API_KEY_CHARS} characters and is not used"),
            ));
        } else {
            api_keys.push((Secret::new(key), permissions));
        }
    }
    let mut allowed_origins = Vec::new();
    for origin in vars
        .get("NOTIFY_ALLOWED_ORIGINS")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
    {
        if origin.is_empty() {
            continue;
        }
        match reqwest::Url::parse(origin) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.has_host()
                    && url.path() == "/"
                    && !origin.ends_with('/') =>
            {
                allowed_origins.push(url.origin().ascii_serialization());
            }
            _ => invalid.push(FieldError::new(
                "NOTIFY_ALLOWED_ORIGINS",
                format!("{origin:?} is not an origin such as https://app.example.com (no path, no trailing slash)"),
            )),
        }
    }
    let jwt_max_ttl = Duration::from_secs(read_number(
        vars,
        "NOTIFY_JWT_MAX_TTL_SECONDS",
        900,
        60..=86_400,
        invalid,
    ));
    AccessConfig {
        api_keys,
        jwt_secret: read_secret(vars, "NOTIFY_JWT_SECRET", 32, invalid),
        jwt_max_ttl,
        allowed_origins,
        allow_unauthenticated: vars.get("NOTIFY_ALLOW_UNAUTHENTICATED") == Some("1"),
    }
}

pub(super) const MIN_API_KEY_CHARS: usize = 16;

pub(super) fn read_limits(vars: &Vars, invalid: &mut Vec<FieldError>) -> Limits {
    let defaults = Limits::default();
    let mut limit = |name, default| {
        read_number(vars, name, u64::from(default), 1..=1_000_000_000, invalid) as u32
    };
    Limits {
        requests_per_minute: limit("NOTIFY_RATE_LIMIT_PER_MINUTE", defaults.requests_per_minute),
        sms_per_recipient_per_hour: limit(
            "NOTIFY_SMS_PER_RECIPIENT_PER_HOUR",
            defaults.sms_per_recipient_per_hour,
        ),
        emails_per_recipient_per_hour: limit(
            "NOTIFY_EMAILS_PER_RECIPIENT_PER_HOUR",
            defaults.emails_per_recipient_per_hour,
        ),
    }
}
