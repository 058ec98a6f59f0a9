//! Outgoing HTTPS trusts the certificates `SSL_CERT_FILE` names, as OpenSSL-based tools do (a
//! corporate proxy, a local stand-in), besides the built-in roots: a local HTTPS peer whose
//! certificate a test authority signed.

use std::sync::Arc;

use notify::support::HttpClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A test authority, an HTTPS server on 127.0.0.1 with a certificate for `host` that it
/// signed (answering `body` to anything), and the authority's PEM file.
async fn https_peer(host: &str, body: Vec<u8>) -> (u16, tempfile_path::Path) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec![host.to_owned()])
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
    let answer: Arc<[u8]> = [
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body,
    ]
    .concat()
    .into();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let answer = Arc::clone(&answer);
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buffer = [0u8; 4096];
                    let _ = tls.read(&mut buffer).await;
                    let _ = tls.write_all(&answer).await;
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
    let (port, ca) = https_peer("localhost", b"ok".to_vec()).await;
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

/// An HTTP proxy on 127.0.0.1 that tunnels every `CONNECT` to `port` on 127.0.0.1, whatever
/// host it names, and keeps the targets it was asked for.
async fn connect_proxy(port: u16) -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_port = listener.local_addr().unwrap().port();
    let asked: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&asked);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head);
                let target = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                seen.lock().unwrap().push(target);
                let mut upstream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .unwrap();
                let _ = client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (proxy_port, asked)
}

#[tokio::test]
async fn the_ses_webhook_function_fetches_the_sns_certificate_through_a_proxy_from_a_host_ssl_cert_file_trusts()
 {
    use crate::support::{Function, call};
    use crate::webhooks::{CERT_URL, TestSigner, sns_message};
    let signer = TestSigner::new();
    let (port, ca) = https_peer("sns.us-east-1.amazonaws.com", signer.certificate_pem()).await;
    let (proxy, asked) = connect_proxy(port).await;
    let proxy_url = format!("http://127.0.0.1:{proxy}");
    let ses = Function::start(
        "webhooks-ses",
        &[
            ("SSL_CERT_FILE", ca.0.to_str().unwrap()),
            ("HTTPS_PROXY", &proxy_url),
        ],
    )
    .await;
    let report = serde_json::json!({
        "eventType": "Delivery",
        "mail": {"messageId": "ses-msg-tls", "timestamp": "2026-12-06T10:00:00.000Z", "destination": ["pat@example.com"]},
        "delivery": {"timestamp": "2026-12-06T10:00:01.000Z", "recipients": ["pat@example.com"]},
    })
    .to_string();
    for _ in 0..2 {
        let message = sns_message(&signer, "2", "Notification", &report, CERT_URL);
        let (status, body) = call(&ses, reqwest::Method::POST, "", Some(message)).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(
        *asked.lock().unwrap(),
        ["sns.us-east-1.amazonaws.com:443"],
        "fetched once through the proxy, then kept"
    );
    let impostor = TestSigner::new();
    let forged = sns_message(&impostor, "2", "Notification", &report, CERT_URL);
    let (status, body) = call(&ses, reqwest::Method::POST, "", Some(forged)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("invalid_signature")),
        "{body}"
    );
}
