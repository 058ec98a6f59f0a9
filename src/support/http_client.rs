//! The process's one outgoing HTTP client (providers, SNS certificates, event forwarding), built
//! on first use: setting up TLS is start-up work that health, demo sends and refused requests
//! never need.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::error::{Error, ErrorCode};

/// How long to wait for a TCP connection before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Cheap to clone: every clone shares the one client.
#[derive(Debug, Clone, Default)]
pub struct HttpClient(Arc<OnceLock<reqwest::Client>>);

impl HttpClient {
    /// The client, built on the first call. Building fails only when TLS cannot start on this
    /// host; that is answered as a clear 503, and the next call tries again.
    pub fn get(&self) -> Result<&reqwest::Client, Error> {
        if let Some(client) = self.0.get() {
            return Ok(client);
        }
        let client = build().map_err(|e| {
            Error::new(
                ErrorCode::HttpClientFailed,
                "The outgoing HTTP client could not start on this host.",
            )
            .with_source(e)
        })?;
        Ok(self.0.get_or_init(|| client))
    }
}

/// Redirects are never followed: no provider API answers with one, an SNS certificate must come
/// from the host that was checked, and a practice's event endpoint gets the event where it said.
fn build() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("notify/", env!("CARGO_PKG_VERSION")))
        .build()
}
