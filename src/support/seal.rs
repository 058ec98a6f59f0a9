//! Sealing what waits in the store (a scheduled message's content) with AES-256-GCM through
//! `ring`: a fresh random nonce per value, and the row's id as associated data, so a sealed
//! value opens only as the row it was sealed for.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    /// A sealer under `key` (32 bytes); `None` for a key of another length.
    pub fn new(key: &[u8]) -> Option<Self> {
        let key = UnboundKey::new(&AES_256_GCM, key).ok()?;
        Some(Self {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        })
    }

    /// A sealer under a random key that lives as long as this process: for the memory store,
    /// whose content never outlives the process either.
    pub fn ephemeral() -> Option<Self> {
        let random = SystemRandom::new();
        let mut key = [0u8; 32];
        random.fill(&mut key).ok()?;
        Self::new(&key)
    }

    /// The nonce, then the ciphertext and its tag.
    pub fn seal(&self, id: &str, plain: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).ok()?;
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(id.as_bytes()),
                &mut sealed,
            )
            .ok()?;
        let mut out = nonce.to_vec();
        out.append(&mut sealed);
        Some(out)
    }

    /// The plain value, or `None` when it was not sealed under this key for `id` (or was
    /// altered).
    pub fn open(&self, id: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(id.as_bytes()), &mut buffer)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_row_under_its_key() {
        let sealer = Sealer::new(&[7u8; 32]).unwrap();
        let sealed = sealer
            .seal("msg_a", b"Your appointment is tomorrow")
            .unwrap();
        assert!(!sealed.windows(11).any(|w| w == b"appointment"));
        assert_eq!(
            sealer.open("msg_a", &sealed).unwrap(),
            b"Your appointment is tomorrow"
        );
        assert_eq!(sealer.open("msg_b", &sealed), None, "moved to another row");
        let other = Sealer::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open("msg_a", &sealed), None, "another key");
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(sealer.open("msg_a", &altered), None, "altered");
        assert_ne!(
            sealer.seal("msg_a", b"x"),
            sealer.seal("msg_a", b"x"),
            "nonce reused"
        );
        assert!(Sealer::new(&[0u8; 16]).is_none());
    }
}
