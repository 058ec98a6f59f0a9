//! `Permissions`: the set of things a caller's credentials let it do.

use crate::names::Permission;

/// A set of [`Permission`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Permissions(u8);

impl Permissions {
    /// Every permission: an API key without a limit, and the local demo without credentials.
    pub const ALL: Self = Self(0b111);
    /// A browser token without a `scope` claim: it may only send, as browser tokens were first
    /// meant to.
    pub const SEND: Self = Self(0b001);

    const fn bit(permission: Permission) -> u8 {
        match permission {
            Permission::Send => 0b001,
            Permission::Read => 0b010,
            Permission::Manage => 0b100,
        }
    }

    pub fn allows(self, permission: Permission) -> bool {
        self.0 & Self::bit(permission) != 0
    }

    pub fn with(self, permission: Permission) -> Self {
        Self(self.0 | Self::bit(permission))
    }

    /// Reads a list such as `read+manage` (an API key's limit, `+` between names) or
    /// `read manage` (a JWT's `scope`, space-separated as OAuth does). Names this service does
    /// not know are skipped when `lenient` (a token's scope may carry the practice app's own),
    /// and make the whole list invalid otherwise.
    pub fn parse(text: &str, separator: char, lenient: bool) -> Option<Self> {
        let mut set = Self::default();
        for name in text.split(separator).filter(|n| !n.is_empty()) {
            match Permission::parse(name) {
                Some(permission) => set = set.with(permission),
                None if lenient => {}
                None => return None,
            }
        }
        Some(set)
    }

    /// The names it holds, in the order of [`Permission::ALL`].
    pub fn names(self) -> Vec<&'static str> {
        Permission::ALL
            .iter()
            .filter(|p| self.allows(**p))
            .map(|p| p.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_limit_is_read_strictly_and_a_token_scope_leniently() {
        let read_manage = Permissions::parse("read+manage", '+', false).unwrap();
        assert!(read_manage.allows(Permission::Read) && read_manage.allows(Permission::Manage));
        assert!(!read_manage.allows(Permission::Send));
        assert_eq!(Permissions::parse("read+admin", '+', false), None);
        let scope = Permissions::parse("openid read profile", ' ', true).unwrap();
        assert_eq!(scope.names(), ["read"]);
        assert_eq!(Permissions::ALL.names(), ["send", "read", "manage"]);
        assert_eq!(Permissions::SEND.names(), ["send"]);
    }
}
