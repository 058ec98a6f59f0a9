//! `Caller`: who a request is counted against, scoped by and logged as.

use std::fmt;

/// Who made a request, as limits, idempotency scopes and the message log know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An API key, by its id (`key:` and the start of its SHA-256, never the key itself).
    ApiKey(String),
    /// A browser token's subject (`sub`), or `jwt` when it has none.
    Jwt(String),
    /// A request without credentials where none are required: its client address.
    Ip(String),
    /// A patient following a signed preference page link.
    Patient,
    /// The dispatcher's scheduler (`CRON_SECRET`).
    Cron,
    /// A route that checks no caller (health, templates, webhooks).
    Public,
    /// Rust code outside any HTTP request.
    Local,
}

impl Caller {
    /// Reads back what `Display` wrote (a scheduled send keeps its caller so).
    pub fn parse(text: &str) -> Self {
        if let Some(subject) = text.strip_prefix("jwt:") {
            Self::Jwt(subject.to_owned())
        } else if let Some(address) = text.strip_prefix("ip:") {
            Self::Ip(address.to_owned())
        } else {
            match text {
                "patient" => Self::Patient,
                "cron" => Self::Cron,
                "public" => Self::Public,
                "local" => Self::Local,
                id => Self::ApiKey(id.to_owned()),
            }
        }
    }

    /// Who sent a message, for the log: a key or a token's subject; a client address is
    /// personal data the log has no need of.
    pub fn logged(&self) -> String {
        match self {
            Self::Ip(_) => "anonymous".to_owned(),
            other => other.to_string(),
        }
    }
}

/// The key limits count it under: `key:…`, `jwt:<subject>`, `ip:<address>`, `patient`, `cron`,
/// `public` or `local`.
impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiKey(id) => f.write_str(id),
            Self::Jwt(subject) => write!(f, "jwt:{subject}"),
            Self::Ip(address) => write!(f, "ip:{address}"),
            Self::Patient => f.write_str("patient"),
            Self::Cron => f.write_str("cron"),
            Self::Public => f.write_str("public"),
            Self::Local => f.write_str("local"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Caller;

    #[test]
    fn every_caller_reads_back_as_written_and_an_address_is_never_logged() {
        for caller in [
            Caller::ApiKey("key:0a1b2c3d".into()),
            Caller::Jwt("user-7".into()),
            Caller::Ip("203.0.113.9".into()),
            Caller::Patient,
            Caller::Cron,
            Caller::Public,
            Caller::Local,
        ] {
            assert_eq!(Caller::parse(&caller.to_string()), caller);
        }
        assert_eq!(Caller::Ip("203.0.113.9".into()).logged(), "anonymous");
        assert_eq!(Caller::Jwt("user-7".into()).logged(), "jwt:user-7");
    }
}
