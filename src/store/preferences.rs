//! Patients' choices: per recipient (its keyed hash) per category per channel, on or off, with
//! who set it and when; and a phone's SMS consent evidence. Admission reads the choices and the
//! consent of its recipients in its own step ([`Reach`](super::Reach)).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Error;
use crate::names::{Category, Channel, ChoiceSource};
use crate::support::BoxFuture;

/// Patients' choices.
pub trait Preferences {
    /// The choices on record for each (channel, recipient hash), and the consent of the SMS
    /// ones.
    fn choices<'a>(
        &'a self,
        recipients: &'a [(Channel, String)],
    ) -> BoxFuture<'a, Result<Chosen, Error>>;

    /// Sets each of `choices` (replacing the one on record for its recipient, channel and
    /// category) and `consent`, with the change's audit line, in one step.
    fn choose<'a>(
        &'a self,
        choices: &'a [Choice],
        consent: Option<&'a Consent>,
        audit: &'a str,
    ) -> BoxFuture<'a, Result<(), Error>>;
}

/// One recipient's choice for one category on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    pub channel: Channel,
    pub recipient_hash: String,
    pub masked: String,
    pub category: Category,
    pub enabled: bool,
    pub source: ChoiceSource,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A phone's consent to texts: when it was given, where, and the wording agreed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    pub recipient_hash: String,
    pub masked: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Where it was given (`intake-form`, `portal`, `verbal`).
    pub source: String,
    /// Which wording the patient agreed to.
    pub text_version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

/// What [`Preferences::choices`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Chosen {
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub consent: Vec<Consent>,
}

impl Chosen {
    /// The choice for `category` on `channel` of the recipient `hash`, if there is one.
    pub fn choice(&self, channel: Channel, hash: &str, category: Category) -> Option<&Choice> {
        self.choices
            .iter()
            .find(|c| c.channel == channel && c.recipient_hash == hash && c.category == category)
    }

    /// The consent on file for the phone `hash`.
    pub fn consent(&self, hash: &str) -> Option<&Consent> {
        self.consent.iter().find(|c| c.recipient_hash == hash)
    }
}
