//! The memory store's record of patients' choices and SMS consent.

use super::{MemoryStore, State, audit, done};
use crate::error::Error;
use crate::names::Channel;
use crate::store::{Choice, Chosen, Consent, Preferences, Reach};
use crate::support::BoxFuture;

impl Preferences for MemoryStore {
    fn choices<'a>(
        &'a self,
        recipients: &'a [(Channel, String)],
    ) -> BoxFuture<'a, Result<Chosen, Error>> {
        let state = self.state();
        let choices = state
            .choices
            .iter()
            .filter(|c| {
                recipients
                    .iter()
                    .any(|(ch, h)| *ch == c.channel && *h == c.recipient_hash)
            })
            .cloned()
            .collect();
        done(Chosen {
            choices,
            consent: consent_of(&state, recipients.iter().map(|(c, h)| (*c, h.as_str()))),
        })
    }

    fn choose<'a>(
        &'a self,
        choices: &'a [Choice],
        consent: Option<&'a Consent>,
        line: &'a str,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let now = self.now();
        let mut state = self.state();
        for choice in choices {
            state.choices.retain(|c| {
                !(c.channel == choice.channel
                    && c.recipient_hash == choice.recipient_hash
                    && c.category == choice.category)
            });
            state.choices.push(choice.clone());
        }
        if let Some(consent) = consent {
            state
                .consent
                .retain(|c| c.recipient_hash != consent.recipient_hash);
            state.consent.push(consent.clone());
        }
        audit::append(&mut state, now, line);
        done(())
    }
}

/// What admission reads for `reach`: the choices for its categories, its phones' consent.
pub(super) fn chosen_for(state: &State, reach: &[Reach]) -> Chosen {
    let choices = state
        .choices
        .iter()
        .filter(|c| {
            reach.iter().any(|r| {
                r.channel == c.channel
                    && r.recipient_hash == c.recipient_hash
                    && r.category == Some(c.category)
            })
        })
        .cloned()
        .collect();
    Chosen {
        choices,
        consent: consent_of(
            state,
            reach.iter().map(|r| (r.channel, r.recipient_hash.as_str())),
        ),
    }
}

fn consent_of<'a>(
    state: &State,
    recipients: impl Iterator<Item = (Channel, &'a str)>,
) -> Vec<Consent> {
    let phones: Vec<&str> = recipients
        .filter(|(channel, _)| *channel == Channel::Sms)
        .map(|(_, hash)| hash)
        .collect();
    state
        .consent
        .iter()
        .filter(|c| phones.contains(&c.recipient_hash.as_str()))
        .cloned()
        .collect()
}
