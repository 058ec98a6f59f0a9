//! One-click unsubscribe (RFC 8058): the signed link a one-recipient email of a category the
//! patient may turn off carries, and what following it does: that category off on that
//! channel, as the patient's own choice, with its audit line. The link names the recipient by
//! its keyed hash and masked form only, so neither the link nor the page holds the address.

use super::preferences::{ChoiceChange, Patient, PatientChoices};
use super::{App, RequestContext};
use crate::audit::AuditRecipient;
use crate::error::{Error, ErrorCode};
use crate::names::{Category, Channel, ChoiceSource};
use crate::support::{LinkClaims, LinkSigner};

/// The path the links point at, below the public URL. The HTTP layer serves it.
pub const UNSUBSCRIBE_PATH: &str = "/api/unsubscribe";

impl App {
    /// The one-click link for `recipient` and `category` on `channel`: none for a required
    /// category (its emails carry the preference page instead), a send without a category, or
    /// a deployment without `NOTIFY_LINK_KEY` and a public URL.
    pub(super) fn unsubscribe_link(
        &self,
        channel: Channel,
        recipient: &AuditRecipient,
        category: Option<Category>,
    ) -> Option<String> {
        let category = category.filter(|c| !c.required())?;
        let (base, key) = self.config.reach.links.as_ref()?;
        let token = LinkSigner::new(key.expose().as_bytes()).sign(&LinkClaims {
            channel,
            recipient_hash: recipient.hash.clone(),
            masked: recipient.masked.clone(),
            category: Some(category),
        });
        Some(format!("{base}{UNSUBSCRIBE_PATH}?token={token}"))
    }

    /// What an unsubscribe link stands for, if this deployment signed it (a `GET` of it shows
    /// this, and changes nothing).
    pub fn unsubscribe_claims(&self, token: &str) -> Result<(LinkClaims, Category), Error> {
        let signer = self
            .config
            .reach
            .links
            .as_ref()
            .map(|(_, key)| LinkSigner::new(key.expose().as_bytes()));
        signer
            .and_then(|s| s.verify(token))
            .and_then(|claims| {
                let category = claims.category.filter(|c| !c.required())?;
                Some((claims, category))
            })
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidLink,
                    "This link is not one this service made, or it was changed.",
                )
            })
    }

    /// Follows an unsubscribe link: its category off on its channel. Following it again
    /// changes nothing more.
    pub async fn unsubscribe(
        &self,
        token: &str,
        context: &RequestContext,
    ) -> Result<(LinkClaims, Category, PatientChoices), Error> {
        let (claims, category) = self.unsubscribe_claims(token)?;
        let recipient = AuditRecipient {
            hash: claims.recipient_hash.clone(),
            masked: claims.masked.clone(),
        };
        let patient = match claims.channel {
            Channel::Email => Patient {
                email: Some(recipient),
                phone: None,
            },
            Channel::Sms => Patient {
                email: None,
                phone: Some(recipient),
            },
        };
        let current = self.patient_choices(&patient).await?;
        let done = current.standing.iter().any(|s| {
            s.category == category
                && s.channel == claims.channel
                && !s.enabled
                && s.set_by.is_some()
        });
        if done {
            return Ok((claims, category, current));
        }
        let change = ChoiceChange {
            set: vec![(category, claims.channel, false)],
            consent: None,
            source: Some(ChoiceSource::UnsubscribeLink),
        };
        let choices = self.change_choices(&patient, change, context).await?;
        Ok((claims, category, choices))
    }
}
