//! Links a patient follows from a message (one-click unsubscribe, the preference page): what
//! they stand for, as JSON, base64url, and an HMAC-SHA256 tag under `NOTIFY_LINK_KEY`, so a
//! forged or altered link is refused and no state is kept per link.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
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
    pub fn sign(&self, claims: &LinkClaims) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let tag = hmac::sign(&self.key, body.as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The claims of a token this key signed; `None` for anything else (checked in constant
    /// time before the claims are read).
    pub fn verify(&self, token: &str) -> Option<LinkClaims> {
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
        assert_eq!(signer.verify(&format!("{forged_body}.{tag}")), None);
        assert_eq!(signer.verify(body), None);
        assert_eq!(signer.verify("not a token"), None);
        let foreign = LinkSigner::new(b"another-key-of-at-least-32-bytes!");
        assert_eq!(foreign.verify(&token), None);
    }
}
