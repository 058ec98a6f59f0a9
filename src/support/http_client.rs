//! The process's one outgoing HTTP client (providers, SNS certificates, event forwarding), built
//! on first use: setting up TLS is start-up work that health, demo sends and refused requests
//! never need. It trusts the built-in roots and, when `SSL_CERT_FILE` is set, the certificates
//! that file names too.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::error::{Error, ErrorCode};

/// How long to wait for a TCP connection before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Cheap to clone: every clone shares the one client.
#[derive(Debug, Clone, Default)]
pub struct HttpClient {
    client: Arc<OnceLock<reqwest::Client>>,
    /// `SSL_CERT_FILE`: certificates trusted besides the built-in roots (a corporate proxy's,
    /// a local stand-in's), as OpenSSL-based tools trust them.
    extra_roots: Option<Arc<str>>,
}

impl HttpClient {
    /// A client that also trusts the PEM certificates in the file `extra_roots`.
    pub fn new(extra_roots: Option<&str>) -> Self {
        Self {
            client: Arc::default(),
            extra_roots: extra_roots.map(Arc::from),
        }
    }

    /// The client, built on the first call. Building fails only when TLS cannot start on this
    /// host; that is answered as a clear 503, and the next call tries again.
    pub fn get(&self) -> Result<&reqwest::Client, Error> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = build(self.extra_roots.as_deref())?;
        Ok(self.client.get_or_init(|| client))
    }
}

/// Redirects are never followed: no provider API answers with one, an SNS certificate must come
/// from the host that was checked, and a practice's event endpoint gets the event where it said.
fn build(extra_roots: Option<&str>) -> Result<reqwest::Client, Error> {
    let failed = |e: reqwest::Error| {
        Error::new(
            ErrorCode::HttpClientFailed,
            "The outgoing HTTP client could not start on this host.",
        )
        .with_source(e)
    };
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("notify/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = extra_roots {
        let unreadable = || {
            Error::new(
                ErrorCode::HttpClientFailed,
                "SSL_CERT_FILE does not name a readable file of PEM certificates.",
            )
            .with_hint("Point SSL_CERT_FILE at a PEM bundle, or unset it to trust the built-in roots only.")
        };
        let pem = std::fs::read(path).map_err(|_| unreadable())?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| unreadable())?;
        if certificates.is_empty() {
            return Err(unreadable());
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(failed)
}
