//! The links patients follow, signed under `NOTIFY_LINK_KEY` (no state kept per link):
//! one-click unsubscribe (RFC 8058), which a one-recipient email of a category the patient may
//! turn off carries, and the preference page's, in every templated email's footer. A link names
//! the patient by keyed hash and masked form only, so neither the link nor a page holds the
//! address.

use super::preferences::{ChoiceChange, Patient, PatientChoices};
use super::{App, RequestContext};
use crate::audit::AuditRecipient;
use crate::error::{Error, ErrorCode};
use crate::names::{Category, Channel, ChoiceSource};
use crate::support::{LinkClaims, LinkRecipient, LinkSigner, PageClaims, PageMarker};

/// The path the links point at, below the public URL. The HTTP layer serves it.
pub const UNSUBSCRIBE_PATH: &str = "/api/unsubscribe";

/// The preference page, a static page below the public URL; its token goes in the fragment, so
/// no server or proxy log ever holds it.
pub const PREFERENCE_PAGE_PATH: &str = "/preferences.html";

impl App {
    fn link_signer(&self) -> Option<(&str, LinkSigner)> {
        let (base, key) = self.config.reach.links.as_ref()?;
        Some((base, LinkSigner::new(key.expose().as_bytes())))
    }

    /// The preference page's link for `patient` (none without `NOTIFY_LINK_KEY` and a public
    /// URL).
    pub fn preference_page_link(&self, patient: &Patient) -> Option<String> {
        let (base, signer) = self.link_signer()?;
        let named = |r: &Option<AuditRecipient>| {
            r.as_ref().map(|r| LinkRecipient {
                hash: r.hash.clone(),
                masked: r.masked.clone(),
            })
        };
        let token = signer.sign(&PageClaims {
            page: PageMarker::Preferences,
            email: named(&patient.email),
            phone: named(&patient.phone),
        });
        Some(format!("{base}{PREFERENCE_PAGE_PATH}#{token}"))
    }

    /// The patient a preference page token names, if this deployment signed it.
    pub fn page_patient(&self, token: &str) -> Result<Patient, Error> {
        let claims: PageClaims = self
            .link_signer()
            .and_then(|(_, signer)| signer.verify(token))
            .ok_or_else(invalid_link)?;
        let known = |r: Option<LinkRecipient>| {
            r.map(|r| AuditRecipient {
                hash: r.hash,
                masked: r.masked,
            })
        };
        Ok(Patient {
            email: known(claims.email),
            phone: known(claims.phone),
        })
    }

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
        let (base, signer) = self.link_signer()?;
        let token = signer.sign(&LinkClaims {
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
        self.link_signer()
            .and_then(|(_, signer)| signer.verify::<LinkClaims>(token))
            .and_then(|claims| {
                let category = claims.category.filter(|c| !c.required())?;
                Some((claims, category))
            })
            .ok_or_else(invalid_link)
    }

    /// Follows an unsubscribe link: its category off on its channel. Following it again
    /// changes nothing more.
    pub async fn unsubscribe(
        &self,
        token: &str,
        context: &RequestContext,
    ) -> Result<(LinkClaims, Category, PatientChoices), Error> {
        let (claims, category) = self.unsubscribe_claims(token)?;
        let patient = claims_patient(&claims);
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

/// The one recipient an unsubscribe link names, as a patient.
pub fn claims_patient(claims: &LinkClaims) -> Patient {
    let recipient = Some(AuditRecipient {
        hash: claims.recipient_hash.clone(),
        masked: claims.masked.clone(),
    });
    match claims.channel {
        Channel::Email => Patient {
            email: recipient,
            phone: None,
        },
        Channel::Sms => Patient {
            email: None,
            phone: recipient,
        },
    }
}

fn invalid_link() -> Error {
    Error::new(
        ErrorCode::InvalidLink,
        "This link is not one this service made, or it was changed.",
    )
    .with_hint(
        "Follow the link from the practice's latest message, or ask the practice for a new one.",
    )
}
