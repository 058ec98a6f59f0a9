//! SNS messages: signatures (versions 1, SHA1, and 2, SHA256) checked against a signing
//! certificate fetched only over https from an `sns.<region>.amazonaws.com` host and cached per
//! process. The SES events inside are read by `ses.rs`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use ring::signature;
use serde::Deserialize;
use x509_cert::Certificate;
use x509_cert::der::DecodePem;

/// How SNS is reached: signing certificates and subscription confirmations are both GETs to an
/// SNS host. Production makes them over https; tests answer them, but the URL check before any
/// GET is the same for both.
pub trait CertificateSource: Send + Sync {
    fn fetch<'a>(
        &'a self,
        url: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>>;
}

/// Fetches certificates with the process's HTTP client (built only when first needed).
pub struct HttpsCertificateSource(pub crate::support::HttpClient);

impl CertificateSource for HttpsCertificateSource {
    fn fetch<'a>(
        &'a self,
        url: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>> {
        Box::pin(async move {
            let response = self
                .0
                .get()
                .map_err(|e| e.message)?
                .get(url)
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .map_err(|e| format!("could not fetch the signing certificate: {e}"))?;
            if !response.status().is_success() {
                return Err(format!(
                    "the signing certificate answered {}",
                    response.status()
                ));
            }
            response
                .bytes()
                .await
                .map(|b| b.to_vec())
                .map_err(|e| e.to_string())
        })
    }
}

/// Verifies SNS messages; certificates are cached by URL for the life of the process.
pub struct SnsVerifier {
    source: Box<dyn CertificateSource>,
    keys: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl std::fmt::Debug for SnsVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnsVerifier").finish_non_exhaustive()
    }
}

/// The SNS message fields that are signed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMessage {
    #[serde(rename = "Type")]
    pub kind: String,
    pub message_id: String,
    pub topic_arn: String,
    pub message: String,
    pub timestamp: String,
    pub subject: Option<String>,
    pub token: Option<String>,
    #[serde(rename = "SubscribeURL")]
    pub subscribe_url: Option<String>,
    pub signature_version: String,
    pub signature: String,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: String,
}

/// `sns.<region>.amazonaws.com` (or `.amazonaws.com.cn`), the only hosts whose certificates and
/// subscription links are believed.
pub fn is_aws_sns_host(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    if url.scheme() != "https" || url.port().is_some_and(|p| p != 443) {
        return false;
    }
    let host = url.host_str().unwrap_or_default();
    let region = host.strip_prefix("sns.").and_then(|h| {
        h.strip_suffix(".amazonaws.com")
            .or_else(|| h.strip_suffix(".amazonaws.com.cn"))
    });
    region.is_some_and(|r| {
        !r.is_empty()
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

impl SnsVerifier {
    pub fn new(source: Box<dyn CertificateSource>) -> Self {
        Self {
            source,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// The message if its signature is SNS's; otherwise why not.
    /// Confirms a subscription by visiting its (already checked) `SubscribeURL`.
    pub async fn confirm(&self, subscribe_url: &str) -> Result<(), String> {
        if !is_aws_sns_host(subscribe_url) {
            return Err("the SubscribeURL is not on an AWS SNS host".into());
        }
        self.source.fetch(subscribe_url).await.map(|_| ())
    }

    pub async fn verify(&self, body: &[u8]) -> Result<SnsMessage, String> {
        let message: SnsMessage =
            serde_json::from_slice(body).map_err(|e| format!("not an SNS message: {e}"))?;
        let algorithm: &'static dyn signature::VerificationAlgorithm =
            match message.signature_version.as_str() {
                "1" => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                "2" => &signature::RSA_PKCS1_2048_8192_SHA256,
                other => return Err(format!("unknown SignatureVersion {other:?}")),
            };
        if !is_aws_sns_host(&message.signing_cert_url)
            || !message.signing_cert_url.ends_with(".pem")
        {
            return Err(
                "SigningCertURL is not an https .pem on an sns.<region>.amazonaws.com host".into(),
            );
        }
        let public_key = self.public_key(&message.signing_cert_url).await?;
        let signed = string_to_sign(&message)?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(message.signature.trim())
            .map_err(|_| "the Signature is not base64".to_owned())?;
        signature::UnparsedPublicKey::new(algorithm, public_key.as_slice())
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| "the signature does not match".to_owned())?;
        Ok(message)
    }

    async fn public_key(&self, url: &str) -> Result<Arc<Vec<u8>>, String> {
        if let Some(key) = self
            .keys
            .lock()
            .ok()
            .and_then(|keys| keys.get(url).cloned())
        {
            return Ok(key);
        }
        let pem = self.source.fetch(url).await?;
        let certificate = Certificate::from_pem(&pem)
            .map_err(|e| format!("the signing certificate is not PEM X.509: {e}"))?;
        let key = certificate
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
            .to_vec();
        let key = Arc::new(key);
        if let Ok(mut keys) = self.keys.lock() {
            keys.insert(url.to_owned(), Arc::clone(&key));
        }
        Ok(key)
    }
}

/// The canonical text SNS signs: the type's fields in a fixed order, each name and value on a
/// line of its own.
fn string_to_sign(message: &SnsMessage) -> Result<String, String> {
    let mut fields: Vec<(&str, &str)> = vec![
        ("Message", &message.message),
        ("MessageId", &message.message_id),
    ];
    match message.kind.as_str() {
        "Notification" => {
            if let Some(subject) = &message.subject {
                fields.push(("Subject", subject));
            }
        }
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => {
            let url = message.subscribe_url.as_deref().ok_or("no SubscribeURL")?;
            fields.push(("SubscribeURL", url));
        }
        other => return Err(format!("unknown SNS message type {other:?}")),
    }
    fields.push(("Timestamp", &message.timestamp));
    if message.kind != "Notification" {
        fields.push(("Token", message.token.as_deref().ok_or("no Token")?));
    }
    fields.push(("TopicArn", &message.topic_arn));
    fields.push(("Type", &message.kind));
    Ok(fields
        .iter()
        .map(|(name, value)| format!("{name}\n{value}\n"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_sns_hosts_are_trusted() {
        for good in [
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
        ] {
            assert!(is_aws_sns_host(good), "{good}");
        }
        for bad in [
            "http://sns.us-east-1.amazonaws.com/cert.pem",
            "https://sns.us-east-1.amazonaws.com.evil.com/cert.pem",
            "https://evil.com/sns.us-east-1.amazonaws.com/cert.pem",
            "https://sns..amazonaws.com/cert.pem",
            "https://s3.us-east-1.amazonaws.com/cert.pem",
            "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
        ] {
            assert!(!is_aws_sns_host(bad), "{bad}");
        }
    }
}
