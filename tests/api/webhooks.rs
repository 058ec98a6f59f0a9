//! Delivery webhooks: Twilio callbacks to the real function binary, SNS messages signed here
//! with a key and certificate these tests make (rsa, rcgen), and forwarding checked by a receiver
//! that verifies the Standard Webhooks signature.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::Function;
use base64::Engine;
use http_body_util::{BodyExt, Full};
use notify::http::{Route, handle};
use notify::webhooks::CertificateSource;
use notify::{App, Config};
use ring::hmac;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const PUBLIC_URL: &str = "https://notify.example.com";
const EVENTS_KEY: &[u8] = b"events-key-for-the-practice-app";

pub fn events_secret() -> String {
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(EVENTS_KEY)
    )
}

pub fn twilio_signature(url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let data: String = std::iter::once(url.to_owned())
        .chain(sorted.iter().map(|(k, v)| format!("{k}{v}")))
        .collect();
    let key = hmac::Key::new(
        hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        crate::support::AUTH_TOKEN.as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(hmac::sign(&key, data.as_bytes()).as_ref())
}

/// The practice app's event receiver, answering every request with `status`.
async fn receiver_answering(status: u16) -> MockServer {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&receiver)
        .await;
    receiver
}

async fn twilio_webhook(receiver: &MockServer) -> Function {
    let mut vars = crate::support::twilio_vars("http://127.0.0.1:9");
    vars.insert("NOTIFY_PUBLIC_URL", PUBLIC_URL.into());
    vars.insert("NOTIFY_EVENTS_URL", receiver.uri());
    vars.insert("NOTIFY_EVENTS_SECRET", events_secret());
    Function::start("webhooks-twilio", &crate::support::as_pairs(&vars)).await
}

pub async fn post_form(
    function: &Function,
    query: &str,
    params: &[(&str, &str)],
    signature: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}{query}", function.base_url))
        .form(params);
    if let Some(signature) = signature {
        request = request.header("x-twilio-signature", signature);
    }
    request.send().await.unwrap()
}

/// Waits for the receiver to have had `count` requests.
async fn received(receiver: &MockServer, count: usize) -> Vec<wiremock::Request> {
    for _ in 0..100 {
        let requests = receiver.received_requests().await.unwrap_or_default();
        if requests.len() >= count {
            return requests;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    receiver.received_requests().await.unwrap_or_default()
}

/// Checks a forwarded request as a Standard Webhooks receiver would, and returns its payload.
pub fn verified_payload(request: &wiremock::Request) -> Value {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let body = String::from_utf8(request.body.clone()).unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, EVENTS_KEY);
    let expected = hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    let given = base64::engine::general_purpose::STANDARD
        .decode(signature.strip_prefix("v1,").expect("a v1 signature"))
        .unwrap();
    assert_eq!(
        given,
        expected.as_ref(),
        "the Standard Webhooks signature does not verify"
    );
    let age = time::OffsetDateTime::now_utc().unix_timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((0..300).contains(&age));
    let payload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(payload["data"]["id"], id.as_str());
    payload
}

const DELIVERED: [(&str, &str); 4] = [
    ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
    ("MessageStatus", "delivered"),
    ("To", "+15551234567"),
    ("AccountSid", crate::support::ACCOUNT_SID),
];

#[tokio::test]
async fn a_signed_twilio_callback_is_accepted_and_forwarded_signed() {
    let receiver = receiver_answering(204).await;
    let function = twilio_webhook(&receiver).await;
    let signature = twilio_signature(&format!("{PUBLIC_URL}/api/webhooks/twilio"), &DELIVERED);
    let response = post_form(&function, "", &DELIVERED, Some(&signature)).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("<Response/>"));

    let requests = received(&receiver, 1).await;
    let payload = verified_payload(&requests[0]);
    assert_eq!(payload["type"], "message.delivered");
    let event = &payload["data"];
    assert_eq!(
        (
            event["type"].as_str(),
            event["channel"].as_str(),
            event["provider"].as_str()
        ),
        (Some("delivered"), Some("sms"), Some("twilio"))
    );
    assert_eq!(
        event["provider_message_id"],
        "SM0123456789abcdef0123456789abcdef"
    );
    assert_eq!(event["recipient_hash"].as_str().unwrap().len(), 64);
    assert!(
        !requests[0].body.windows(12).any(|w| w == b"+15551234567"),
        "the number itself is never forwarded"
    );
    assert!(function.output().contains("\"event\":\"delivery_event\""));
}

#[tokio::test]
async fn the_signature_covers_the_query_string_twilio_called() {
    let receiver = receiver_answering(200).await;
    let function = twilio_webhook(&receiver).await;
    let signature = twilio_signature(
        &format!("{PUBLIC_URL}/api/webhooks/twilio?practice=7"),
        &DELIVERED,
    );
    let response = post_form(&function, "?practice=7", &DELIVERED, Some(&signature)).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn forged_changed_wrongly_addressed_and_unsigned_callbacks_are_refused() {
    let receiver = receiver_answering(200).await;
    let function = twilio_webhook(&receiver).await;
    let right_url = format!("{PUBLIC_URL}/api/webhooks/twilio");
    let mut changed = DELIVERED;
    changed[1] = ("MessageStatus", "failed");
    let cases = [
        (
            "forged",
            DELIVERED,
            Some("Zm9yZ2VkLXNpZ25hdHVyZQ==".to_owned()),
        ),
        (
            "changed parameter",
            changed,
            Some(twilio_signature(&right_url, &DELIVERED)),
        ),
        (
            "wrong URL",
            DELIVERED,
            Some(twilio_signature(
                "https://internal.vercel.app/api/webhooks/twilio",
                &DELIVERED,
            )),
        ),
        ("unsigned", DELIVERED, None),
    ];
    for (name, params, signature) in cases {
        let (status, body) =
            crate::support::answer(post_form(&function, "", &params, signature.as_deref()).await)
                .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("invalid_signature")),
            "{name}"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        receiver.received_requests().await.unwrap().is_empty(),
        "a refused callback was forwarded"
    );
}

#[tokio::test]
async fn a_receiver_that_redirects_is_not_followed_so_events_go_only_where_the_practice_said() {
    let elsewhere = receiver_answering(204).await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("location", format!("{}/", elsewhere.uri())),
        )
        .mount(&receiver)
        .await;
    let function = twilio_webhook(&receiver).await;
    let signature = twilio_signature(&format!("{PUBLIC_URL}/api/webhooks/twilio"), &DELIVERED);
    let response = post_form(&function, "", &DELIVERED, Some(&signature)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(received(&receiver, 1).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the redirect was followed"
    );
    assert!(
        function.output().contains("answered 307"),
        "a redirect counts as a refusal, left for a retry at the same place:\n{}",
        function.output()
    );
}

#[tokio::test]
async fn a_refusing_receiver_gets_one_attempt_at_once_and_the_event_is_left_for_a_retry() {
    let receiver = receiver_answering(500).await;
    let function = twilio_webhook(&receiver).await;
    let signature = twilio_signature(&format!("{PUBLIC_URL}/api/webhooks/twilio"), &DELIVERED);
    let response = post_form(&function, "", &DELIVERED, Some(&signature)).await;
    assert_eq!(
        response.status(),
        200,
        "the provider is answered before forwarding ends"
    );
    let requests = received(&receiver, 1).await;
    verified_payload(&requests[0]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.received_requests().await.unwrap().len(),
        1,
        "retries are the dispatcher's, on its schedule"
    );
    for _ in 0..50 {
        if function.output().contains("tried again later") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the retry was not logged:\n{}", function.output());
}

/// A 2048-bit RSA key and a self-signed certificate for it, made for these tests (`rsa` makes
/// the key, `rcgen` the certificate), signing as SNS does: PKCS#1 v1.5 over SHA1 or SHA256.
pub struct TestSigner {
    key: rsa::RsaPrivateKey,
    certificate: Vec<u8>,
}

impl TestSigner {
    pub fn new() -> Self {
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let key_pair =
            rcgen::KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec!["sns.amazonaws.com".to_owned()]).unwrap();
        let certificate = params.self_signed(&key_pair).unwrap().pem().into_bytes();
        Self { key, certificate }
    }

    /// The signing certificate, PEM, as SNS's host serves it.
    pub fn certificate_pem(&self) -> Vec<u8> {
        self.certificate.clone()
    }

    fn sign(&self, version: &str, text: &str) -> String {
        use rsa::pkcs1v15::SigningKey;
        use rsa::signature::{SignatureEncoding, Signer};
        let signature = if version == "1" {
            SigningKey::<sha1::Sha1>::new(self.key.clone())
                .sign(text.as_bytes())
                .to_vec()
        } else {
            SigningKey::<rsa::sha2::Sha256>::new(self.key.clone())
                .sign(text.as_bytes())
                .to_vec()
        };
        base64::engine::general_purpose::STANDARD.encode(signature)
    }
}

/// Serves the test certificate at any URL and records every GET (certificates and
/// subscription confirmations).
#[derive(Clone)]
pub struct TestSns {
    certificate: Vec<u8>,
    fetched: Arc<Mutex<Vec<String>>>,
}

impl CertificateSource for TestSns {
    fn fetch<'a>(
        &'a self,
        url: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<u8>, String>> + Send + 'a>>
    {
        self.fetched.lock().unwrap().push(url.to_owned());
        Box::pin(async move { Ok(self.certificate.clone()) })
    }
}

pub const CERT_URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem";

pub fn sns_message(
    signer: &TestSigner,
    version: &str,
    kind: &str,
    message: &str,
    cert_url: &str,
) -> Value {
    let mut fields: Vec<(&str, String)> = vec![
        ("Message", message.to_owned()),
        ("MessageId", crate::support::unique("sns-message")),
    ];
    if kind != "Notification" {
        fields.push((
            "SubscribeURL",
            "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc".into(),
        ));
    }
    fields.push(("Timestamp", "2026-11-21T10:00:00.000Z".into()));
    if kind != "Notification" {
        fields.push(("Token", "abc".into()));
    }
    fields.push((
        "TopicArn",
        "arn:aws:sns:us-east-1:123456789012:ses-events".into(),
    ));
    fields.push(("Type", kind.into()));
    let text: String = fields.iter().map(|(k, v)| format!("{k}\n{v}\n")).collect();
    let mut object: serde_json::Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    object.insert("SignatureVersion".into(), version.into());
    object.insert("Signature".into(), signer.sign(version, &text).into());
    object.insert("SigningCertURL".into(), cert_url.into());
    Value::Object(object)
}

fn sns_app(signer: &TestSigner, receiver: Option<&MockServer>) -> (Arc<App>, TestSns) {
    let mut vars: HashMap<String, String> = HashMap::new();
    if let Some(receiver) = receiver {
        vars.insert("NOTIFY_EVENTS_URL".into(), receiver.uri());
        vars.insert("NOTIFY_EVENTS_SECRET".into(), events_secret());
    }
    sns_app_with(signer, vars)
}

/// An SES webhook with `vars` (a database, the audit key), trusting `signer`'s certificate.
pub fn sns_app_with(signer: &TestSigner, vars: HashMap<String, String>) -> (Arc<App>, TestSns) {
    let sns = TestSns {
        certificate: signer.certificate.clone(),
        fetched: Arc::default(),
    };
    (
        Arc::new(App::new(Config::from_vars(&vars)).with_certificate_source(Box::new(sns.clone()))),
        sns,
    )
}

pub async fn post_sns(app: &Arc<App>, message: &Value) -> (u16, Value) {
    let request = http::Request::post(Route::SesWebhook.path())
        .header("content-type", "text/plain; charset=UTF-8")
        .body(Full::new(bytes::Bytes::from(message.to_string())))
        .unwrap();
    let response = handle(app, Route::SesWebhook, request).await;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

fn ses_event(kind: &str) -> String {
    let mail = json!({"messageId": "ses-msg-1", "timestamp": "2026-11-21T09:59:00.000Z", "destination": ["patient@example.com"]});
    let recipient = json!([{"emailAddress": "patient@example.com"}]);
    let event = match kind {
        "Send" => json!({"eventType": "Send", "mail": mail}),
        "Delivery" => {
            json!({"eventType": "Delivery", "mail": mail, "delivery": {"timestamp": "2026-11-21T10:00:00.000Z", "recipients": ["patient@example.com"]}})
        }
        "HardBounce" => {
            json!({"eventType": "Bounce", "mail": mail, "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": recipient}})
        }
        "SoftBounce" => {
            json!({"eventType": "Bounce", "mail": mail, "bounce": {"bounceType": "Transient", "bounceSubType": "MailboxFull", "bouncedRecipients": recipient}})
        }
        "Complaint" => {
            json!({"eventType": "Complaint", "mail": mail, "complaint": {"complainedRecipients": recipient}})
        }
        "Reject" => {
            json!({"eventType": "Reject", "mail": mail, "reject": {"reason": "Bad content"}})
        }
        "DeliveryDelay" => {
            json!({"eventType": "DeliveryDelay", "mail": mail, "deliveryDelay": {"delayType": "TransientCommunicationFailure", "delayedRecipients": recipient}})
        }
        "RenderingFailure" => {
            json!({"eventType": "Rendering Failure", "mail": mail, "failure": {"errorMessage": "x", "templateName": "t"}})
        }
        other => panic!("{other}"),
    };
    event.to_string()
}

#[tokio::test]
async fn sns_messages_of_both_signature_versions_are_verified_and_their_ses_events_forwarded() {
    let signer = TestSigner::new();
    let receiver = receiver_answering(200).await;
    let (app, sns) = sns_app(&signer, Some(&receiver));
    let cases = [
        ("Send", "sent"),
        ("Delivery", "delivered"),
        ("HardBounce", "bounced"),
        ("SoftBounce", "bounced"),
        ("Complaint", "complained"),
        ("Reject", "failed"),
        ("DeliveryDelay", "delayed"),
        ("RenderingFailure", "failed"),
    ];
    for (i, (ses_kind, _)) in cases.iter().enumerate() {
        let version = if i % 2 == 0 { "1" } else { "2" };
        let message = sns_message(
            &signer,
            version,
            "Notification",
            &ses_event(ses_kind),
            CERT_URL,
        );
        let (status, body) = post_sns(&app, &message).await;
        assert_eq!(
            (status, body["events"].as_u64()),
            (200, Some(1)),
            "{ses_kind} v{version}: {body}"
        );
    }
    let requests = received(&receiver, cases.len()).await;
    // The hard bounce and the complaint also put the patient on the suppression list, which
    // the practice app is told of too (practice events, forwarded with the follow-up).
    let mut kinds: Vec<(String, Option<bool>)> = requests
        .iter()
        .map(verified_payload)
        .filter(|payload| payload["type"].as_str().unwrap().starts_with("message."))
        .map(|payload| {
            (
                payload["data"]["type"].as_str().unwrap().to_owned(),
                payload["data"]["retryable"].as_bool(),
            )
        })
        .collect();
    kinds.sort();
    let mut expected: Vec<(String, Option<bool>)> = vec![
        ("sent".into(), None),
        ("delivered".into(), None),
        ("bounced".into(), Some(false)),
        ("bounced".into(), Some(true)),
        ("complained".into(), Some(false)),
        ("failed".into(), Some(false)),
        ("delayed".into(), Some(true)),
        ("failed".into(), Some(false)),
    ];
    expected.sort();
    assert_eq!(kinds, expected);
    assert_eq!(
        sns.fetched.lock().unwrap().as_slice(),
        [CERT_URL],
        "the certificate is fetched once and cached"
    );
}

#[tokio::test]
async fn a_tampered_sns_message_is_refused() {
    let signer = TestSigner::new();
    let (app, _) = sns_app(&signer, None);
    for version in ["1", "2"] {
        let mut message = sns_message(
            &signer,
            version,
            "Notification",
            &ses_event("Delivery"),
            CERT_URL,
        );
        message["Message"] = ses_event("HardBounce").into();
        let (status, body) = post_sns(&app, &message).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("invalid_signature")),
            "v{version}"
        );
    }
    let mut unknown_version = sns_message(
        &signer,
        "1",
        "Notification",
        &ses_event("Delivery"),
        CERT_URL,
    );
    unknown_version["SignatureVersion"] = "3".into();
    assert_eq!(post_sns(&app, &unknown_version).await.0, 403);
}

#[tokio::test]
async fn a_certificate_from_a_foreign_host_is_never_fetched() {
    let signer = TestSigner::new();
    let (app, sns) = sns_app(&signer, None);
    for url in [
        "https://evil.example.com/SimpleNotificationService-test.pem",
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example.com/cert.pem",
    ] {
        let message = sns_message(&signer, "2", "Notification", &ses_event("Delivery"), url);
        let (status, _) = post_sns(&app, &message).await;
        assert_eq!(status, 403, "{url}");
    }
    assert!(
        sns.fetched.lock().unwrap().is_empty(),
        "a foreign URL was fetched"
    );
}

#[tokio::test]
async fn a_subscription_is_confirmed_only_after_its_signature_is_verified() {
    let signer = TestSigner::new();
    let (app, sns) = sns_app(&signer, None);
    let mut forged = sns_message(
        &signer,
        "2",
        "SubscriptionConfirmation",
        "confirm",
        CERT_URL,
    );
    forged["Token"] = "another-token".into();
    assert_eq!(post_sns(&app, &forged).await.0, 403);
    assert_eq!(
        sns.fetched.lock().unwrap().as_slice(),
        [CERT_URL],
        "an unverified subscription was confirmed"
    );

    let genuine = sns_message(
        &signer,
        "2",
        "SubscriptionConfirmation",
        "confirm",
        CERT_URL,
    );
    let (status, body) = post_sns(&app, &genuine).await;
    assert_eq!((status, body["confirmed"].as_bool()), (200, Some(true)));
    let fetched = sns.fetched.lock().unwrap().clone();
    assert_eq!(
        fetched.last().unwrap(),
        "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc"
    );

    let unsubscribed = sns_message(&signer, "1", "UnsubscribeConfirmation", "bye", CERT_URL);
    assert_eq!(post_sns(&app, &unsubscribed).await.0, 200);
}

#[tokio::test]
async fn sms_ask_twilio_for_status_callbacks_when_the_public_url_is_set() {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"sid": "SM0123456789abcdef0123456789abcdef"})),
        )
        .mount(&twilio)
        .await;
    let mut vars = crate::support::twilio_vars(&twilio.uri());
    vars.insert("NOTIFY_PUBLIC_URL", PUBLIC_URL.into());
    let function = Function::start("send-sms", &crate::support::as_pairs(&vars)).await;
    let (status, _) = function
        .post_json(&json!({"to": "+15551234567", "message": "Hi"}))
        .await;
    assert_eq!(status, 200);
    let body =
        String::from_utf8(twilio.received_requests().await.unwrap()[0].body.clone()).unwrap();
    assert!(
        body.contains("StatusCallback=https%3A%2F%2Fnotify.example.com%2Fapi%2Fwebhooks%2Ftwilio"),
        "{body}"
    );
}

#[tokio::test]
async fn a_verified_callback_moves_the_logged_sms_forward_and_a_late_one_does_not_move_it_back() {
    let _shared = crate::support::POSTGRES.read().await;
    let database = crate::support::fresh_database().await;
    let mut vars = crate::support::twilio_vars(&crate::support::prism_url());
    vars.insert("NOTIFY_PUBLIC_URL", PUBLIC_URL.into());
    vars.insert("DATABASE_URL", database.clone());
    vars.insert("NOTIFY_AUDIT_KEY", crate::support::AUDIT_KEY.into());
    let vars = crate::support::as_pairs(&vars);
    let send = Function::start("send-sms", &vars).await;
    let webhook = Function::start("webhooks-twilio", &vars).await;
    let messages = Function::start("messages", &vars).await;
    let (status, sent) = send
        .post_json(&json!({"to": "+15551234567", "message": "Your appointment is tomorrow."}))
        .await;
    assert_eq!(status, 200, "{sent}");
    // Twilio reports once it has the text; the record is written just after the answer.
    crate::support::recorded(&database, sent["id"].as_str().unwrap()).await;
    let sid = sent["messageId"].as_str().unwrap();
    let url = format!("{PUBLIC_URL}/api/webhooks/twilio");
    for report in ["delivered", "sent"] {
        let params = [
            ("MessageSid", sid),
            ("MessageStatus", report),
            ("To", "+15551234567"),
            ("AccountSid", crate::support::ACCOUNT_SID),
        ];
        let signature = twilio_signature(&url, &params);
        let response = post_form(&webhook, "", &params, Some(&signature)).await;
        assert_eq!(response.status(), 200, "{report}");
    }
    let logged: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/messages/{}",
            messages.base_url,
            sent["id"].as_str().unwrap()
        ))
        .bearer_auth(crate::support::API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = &logged["message"];
    assert_eq!(message["status"], "delivered", "{logged}");
    assert_eq!(message["recipients"][0]["status"], "delivered", "{logged}");
    let events: Vec<&str> = message["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["delivered", "sent"], "{logged}");
}

#[tokio::test]
async fn the_same_report_at_two_instances_is_one_event_and_one_forward() {
    let _shared = crate::support::POSTGRES.read().await;
    let database = crate::support::fresh_database().await;
    let receiver = receiver_answering(204).await;
    let mut vars = crate::support::twilio_vars("http://127.0.0.1:9");
    vars.insert("NOTIFY_PUBLIC_URL", PUBLIC_URL.into());
    vars.insert("NOTIFY_EVENTS_URL", receiver.uri());
    vars.insert("NOTIFY_EVENTS_SECRET", events_secret());
    vars.insert("DATABASE_URL", database);
    vars.insert("NOTIFY_AUDIT_KEY", crate::support::AUDIT_KEY.into());
    let vars = crate::support::as_pairs(&vars);
    let a = Function::start("webhooks-twilio", &vars).await;
    let b = Function::start("webhooks-twilio", &vars).await;
    let signature = twilio_signature(&format!("{PUBLIC_URL}/api/webhooks/twilio"), &DELIVERED);
    for function in [&a, &b, &a] {
        let response = post_form(function, "", &DELIVERED, Some(&signature)).await;
        assert_eq!(response.status(), 200);
    }
    received(&receiver, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let forwarded = receiver.received_requests().await.unwrap_or_default();
    assert_eq!(
        forwarded.len(),
        1,
        "a copy of the report was forwarded again"
    );
}
