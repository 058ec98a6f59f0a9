//! Outgoing HTTPS trusts the certificates `SSL_CERT_FILE` names, as OpenSSL-based tools do (a
//! corporate proxy, a local stand-in), besides the built-in roots: a local HTTPS peer whose
//! certificate a test authority signed.

use std::sync::Arc;

use notify::support::HttpClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A test authority, an HTTPS server on 127.0.0.1 with a certificate for `localhost` that it
/// signed (answering `ok` to anything), and the authority's PEM file.
async fn https_peer() -> (u16, tempfile_path::Path) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buffer = [0u8; 4096];
                    let _ = tls.read(&mut buffer).await;
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    let path = tempfile_path::Path::new(&ca_cert.pem());
    (port, path)
}

/// A file removed when dropped.
mod tempfile_path {
    pub struct Path(pub std::path::PathBuf);

    impl Path {
        pub fn new(contents: &str) -> Self {
            let path = std::env::temp_dir().join(crate::support::unique("ca") + ".pem");
            std::fs::write(&path, contents).unwrap();
            Self(path)
        }
    }

    impl Drop for Path {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[tokio::test]
async fn a_peer_signed_by_the_authority_ssl_cert_file_names_is_trusted_and_otherwise_refused() {
    let (port, ca) = https_peer().await;
    let url = format!("https://localhost:{port}/");
    let built_in = HttpClient::new(None);
    let refused = built_in.get().unwrap().get(&url).send().await;
    assert!(
        refused.is_err(),
        "an unknown authority is refused: {refused:?}"
    );
    let trusting = HttpClient::new(ca.0.to_str());
    let answer = trusting.get().unwrap().get(&url).send().await.unwrap();
    assert_eq!(answer.text().await.unwrap(), "ok");
    let missing = HttpClient::new(Some("/nonexistent/ca.pem"))
        .get()
        .unwrap_err();
    assert_eq!(missing.code, "http_client_failed");
    assert!(
        missing.message.contains("SSL_CERT_FILE"),
        "{}",
        missing.message
    );
}
