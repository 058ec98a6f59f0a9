//! What health reports beyond the configuration (which the adapter reads itself): which
//! safeguards are set up, never how, and the store's own check.

use super::App;
use crate::store::StoreHealth;

/// Whether each safeguard is configured.
#[derive(Debug, Clone, Copy)]
pub struct Safeguards {
    pub api_keys: bool,
    pub jwt: bool,
    /// A send without credentials would be accepted (demo channels, or
    /// `NOTIFY_ALLOW_UNAUTHENTICATED=1`).
    pub unauthenticated_sends: bool,
    pub audit_key: bool,
    /// Delivery events are forwarded to the practice app.
    pub forwarding: bool,
}

impl App {
    pub fn safeguards(&self) -> Safeguards {
        Safeguards {
            api_keys: self.access.has_api_keys(),
            jwt: self.access.has_jwt(),
            unauthenticated_sends: self.access.allow_unauthenticated || !self.has_live_channel(),
            audit_key: self.auditor.keyed,
            forwarding: self.events.is_some(),
        }
    }

    /// The store's check: one bounded round trip on Postgres.
    pub async fn check_store(&self) -> StoreHealth {
        self.store().check().await
    }
}
