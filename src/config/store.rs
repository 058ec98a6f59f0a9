//! The store's settings: Postgres when `DATABASE_URL` (else `POSTGRES_URL`, which Vercel's
//! Neon integration also sets) is given, the memory store otherwise.

use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::{Host, SslMode};

use super::vars::{Vars, is_local_host, read_number};
use super::{Misconfiguration, SecretBytes};
use crate::error::FieldError;
use crate::names::StoreKind;

/// The variables that select Postgres, in the order they are read.
pub const DATABASE_URL_VARIABLES: [&str; 2] = ["DATABASE_URL", "POSTGRES_URL"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    Memory,
    /// Boxed: the connection settings are large, and the configuration is built once.
    Postgres(Box<PostgresSettings>),
    /// A database is asked for but cannot be used as configured: every call that needs it
    /// answers 503 naming the variable, and nothing is sent without it.
    Misconfigured(Misconfiguration),
}

impl StoreConfig {
    /// Which store this configuration selects (a misconfigured database is still Postgres).
    pub fn kind(&self) -> StoreKind {
        match self {
            Self::Memory => StoreKind::Memory,
            Self::Postgres(_) | Self::Misconfigured(_) => StoreKind::Postgres,
        }
    }

    /// The bound on one store call (the memory store's answer at once; a misconfigured one
    /// answers without a call).
    pub fn timeout(&self) -> Duration {
        match self {
            Self::Postgres(settings) => settings.timeout,
            Self::Memory | Self::Misconfigured(_) => Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresSettings {
    /// Parsed from the URL; its `Debug` leaves the password out.
    pub connection: tokio_postgres::Config,
    /// The bound on each store call: waiting for a connection, connecting and the statement.
    pub timeout: Duration,
    pub pool_size: usize,
    /// The longest a pooled connection may sit unused and still be used.
    pub max_idle: Duration,
}

/// `NOTIFY_STORE_KEY`: 32 random bytes in base64 (`openssl rand -base64 32`), the key that
/// seals what waits in the store (scheduled messages). A malformed key is named and not used.
pub(super) fn read_store_key(vars: &Vars, invalid: &mut Vec<FieldError>) -> Option<SecretBytes> {
    let raw = vars.get("NOTIFY_STORE_KEY")?;
    match base64::Engine::decode(&base64::engine::general_purpose::STANDARD, raw) {
        Ok(key) if key.len() == 32 => Some(SecretBytes::new(key)),
        _ => {
            invalid.push(FieldError::new(
                "NOTIFY_STORE_KEY",
                "must be 32 random bytes in base64, as `openssl rand -base64 32` prints them; it is not used",
            ));
            None
        }
    }
}

pub(super) fn read_store(vars: &Vars, audit_key_set: bool) -> StoreConfig {
    let Some((name, url)) = DATABASE_URL_VARIABLES
        .iter()
        .find_map(|name| vars.get(name).map(|url| (*name, url)))
    else {
        return StoreConfig::Memory;
    };
    let mut problems = Vec::new();
    let timeout = read_number(
        vars,
        "NOTIFY_STORE_TIMEOUT_MS",
        5_000,
        100..=30_000,
        &mut problems,
    );
    let pool_size = read_number(vars, "NOTIFY_STORE_POOL_SIZE", 4, 1..=64, &mut problems);
    let max_idle = read_number(
        vars,
        "NOTIFY_STORE_MAX_IDLE_SECONDS",
        50,
        1..=3_600,
        &mut problems,
    );
    let connection = parse_url(name, url, &mut problems);
    let missing = if audit_key_set {
        Vec::new()
    } else {
        // The log's recipient hashes and the shared caps need one key on every instance.
        vec!["NOTIFY_AUDIT_KEY".to_owned()]
    };
    match connection {
        Some(connection) if problems.is_empty() && missing.is_empty() => {
            StoreConfig::Postgres(Box::new(PostgresSettings {
                connection,
                timeout: Duration::from_millis(timeout),
                pool_size: pool_size as usize,
                max_idle: Duration::from_secs(max_idle),
            }))
        }
        _ => StoreConfig::Misconfigured(Misconfiguration {
            missing,
            invalid: problems,
        }),
    }
}

/// The connection settings of a `postgres://` URL, with `sslmode` applied as this API does:
/// to a local host it is honoured (`prefer` when absent); to any other host the connection is
/// always encrypted and the server's certificate verified, and `sslmode=disable` is refused.
fn parse_url(
    name: &'static str,
    url: &str,
    invalid: &mut Vec<FieldError>,
) -> Option<tokio_postgres::Config> {
    let problem = |why: &str| FieldError::new(name, why.to_owned());
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        invalid.push(problem("must be a postgres:// URL"));
        return None;
    };
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        invalid.push(problem("must be a postgres:// URL"));
        return None;
    }
    let mut sslmode = None;
    let others: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, value)| {
            if key == "sslmode" {
                sslmode = Some(value.to_string());
                false
            } else {
                true
            }
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed.set_query(None);
    if !others.is_empty() {
        parsed.query_pairs_mut().extend_pairs(others);
    }
    let mut connection = match tokio_postgres::Config::from_str(parsed.as_str()) {
        Ok(connection) => connection,
        Err(error) => {
            invalid.push(problem(&format!("is not a usable Postgres URL: {error}")));
            return None;
        }
    };
    let local = connection.get_hosts().iter().all(|host| match host {
        Host::Tcp(name) => is_local_host(name),
        #[cfg(unix)]
        Host::Unix(_) => true,
    });
    let mode = match sslmode.as_deref() {
        None => SslMode::Prefer,
        Some("disable") => SslMode::Disable,
        Some("allow" | "prefer") => SslMode::Prefer,
        Some("require" | "verify-ca" | "verify-full") => SslMode::Require,
        Some(_) => {
            invalid.push(problem("has an sslmode Postgres does not know"));
            return None;
        }
    };
    let mode = match (local, mode) {
        (true, mode) => mode,
        (false, SslMode::Disable) => {
            invalid.push(problem(
                "asks for no encryption (sslmode=disable) to a host that is not local; health data needs TLS",
            ));
            return None;
        }
        (false, _) => SslMode::Require,
    };
    connection.ssl_mode(mode);
    connection.application_name("notify");
    Some(connection)
}
