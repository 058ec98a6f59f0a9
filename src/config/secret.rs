//! Secrets as the configuration holds them: through `secrecy`, never printed.

use secrecy::{ExposeSecret, SecretSlice, SecretString};

/// A credential, held by `secrecy` (wiped from memory when dropped; `Debug` shows
/// `[REDACTED]`, and there is no `Display`). Equality is only for tests of the configuration.
#[derive(Clone, Debug)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

/// A decoded key (`NOTIFY_EVENTS_SECRET`), held as [`Secret`] is.
#[derive(Clone, Debug)]
pub struct SecretBytes(SecretSlice<u8>);

impl SecretBytes {
    pub fn new(value: Vec<u8>) -> Self {
        Self(SecretSlice::from(value))
    }

    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for SecretBytes {}
