//! Links a patient follows from a message (one-click unsubscribe, the preference page): what
//! they stand for, as JSON, base64url, and an HMAC-SHA256 tag under `NOTIFY_LINK_KEY`, so a
//! forged or altered link is refused and no state is kept per link.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::names::{Category, Channel};

/// What a link stands for: a recipient (its keyed hash, and the masked form shown on the
/// page) on a channel, and the category it unsubscribes from (none for the preference page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    #[serde(rename = "c")]
    pub channel: Channel,
    #[serde(rename = "h")]
    pub recipient_hash: String,
    #[serde(rename = "m")]
    pub masked: String,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
}

/// What a preference page link stands for: the patient's address, number or both (each by its
/// keyed hash and masked form), as the message that carried it knew them. Its `p` marker keeps
/// an unsubscribe token from passing as a page token and the other way round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageClaims {
    #[serde(rename = "p")]
    pub page: PageMarker,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub email: Option<LinkRecipient>,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<LinkRecipient>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageMarker {
    #[serde(rename = "preferences")]
    Preferences,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRecipient {
    #[serde(rename = "h")]
    pub hash: String,
    #[serde(rename = "m")]
    pub masked: String,
}

pub struct LinkSigner {
    key: hmac::Key,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner")
    }
}

impl LinkSigner {
    pub fn new(key: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// `<claims>.<tag>`, both base64url.
    pub fn sign(&self, claims: &impl Serialize) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let tag = hmac::sign(&self.key, body.as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The claims of a token this key signed; `None` for anything else (checked in constant
    /// time before the claims are read).
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Option<C> {
        let (body, tag) = token.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        hmac::verify(&self.key, body.as_bytes(), &tag).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> LinkClaims {
        LinkClaims {
            channel: Channel::Email,
            recipient_hash: "ab".repeat(32),
            masked: "p***@example.com".into(),
            category: Some(Category::CareReminders),
        }
    }

    #[test]
    fn a_signed_link_verifies_and_an_altered_or_foreign_one_does_not() {
        let signer = LinkSigner::new(b"a-link-key-of-at-least-32-bytes!!");
        let token = signer.sign(&claims());
        assert_eq!(signer.verify(&token), Some(claims()));
        let (body, tag) = token.split_once('.').unwrap();
        let mut other = claims();
        other.category = Some(Category::Documents);
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap());
        assert_eq!(
            signer.verify::<LinkClaims>(&format!("{forged_body}.{tag}")),
            None
        );
        assert_eq!(signer.verify::<LinkClaims>(body), None);
        assert_eq!(signer.verify::<LinkClaims>("not a token"), None);
        let foreign = LinkSigner::new(b"another-key-of-at-least-32-bytes!");
        assert_eq!(foreign.verify::<LinkClaims>(&token), None);
    }

    #[test]
    fn an_unsubscribe_token_is_no_page_token_and_a_page_token_no_unsubscribe_token() {
        let signer = LinkSigner::new(b"a-link-key-of-at-least-32-bytes!!");
        let unsubscribe = signer.sign(&claims());
        assert_eq!(signer.verify::<PageClaims>(&unsubscribe), None);
        let page = PageClaims {
            page: PageMarker::Preferences,
            email: Some(LinkRecipient {
                hash: "ab".repeat(32),
                masked: "p***@example.com".into(),
            }),
            phone: None,
        };
        let token = signer.sign(&page);
        assert_eq!(signer.verify::<LinkClaims>(&token), None);
        assert_eq!(signer.verify::<PageClaims>(&token), Some(page));
    }
}
