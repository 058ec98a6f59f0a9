//! Random ids: request ids, and the local part of the `Message-ID`s this API writes.

/// 16 random hex characters.
pub fn new_id() -> String {
    let mut bytes = [0u8; 8];
    // `SystemRandom` reads the kernel's source, which does not fail once the system has booted.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_sixteen_hex_characters_and_differ() {
        let (a, b) = (super::new_id(), super::new_id());
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
