//! Where SES's credentials come from, through the real `send-email` binary: a role assumed with
//! Vercel's OIDC token at moto's STS (counted and checked by a recording proxy), STS refusals,
//! and aws-config's default chain off Vercel (and never on it).

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::aws_recorder::{AwsRecorder, xml_value};
use crate::support::{API_KEY, Function, unique, verify_domain_in_moto};

const ROLE: &str = "arn:aws:iam::123456789012:role/notify-ses";

/// A JWT shaped like Vercel's OIDC token, expiring `seconds` from now (STS, not this API,
/// checks its signature).
fn oidc_token(seconds: i64) -> String {
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + seconds;
    let claims = json!({
        "iss": "https://oidc.vercel.com/clinic-team",
        "aud": "https://vercel.com/clinic-team",
        "sub": "owner:clinic-team:project:notify:environment:production",
        "exp": exp,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"not-vercel's-key"),
    )
    .unwrap()
}

/// A verified sender at moto, and the variables of a deployed function using `ROLE`, with
/// SES and STS reached at `aws` (the recorder, or a fake STS).
async fn role_vars(aws: &str, sts: &str) -> Vec<(&'static str, String)> {
    let domain = format!("{}.example.com", unique("oidc"));
    verify_domain_in_moto(&domain).await;
    vec![
        ("VERCEL", "1".into()),
        ("AWS_ROLE_ARN", ROLE.into()),
        ("AWS_SES_FROM_EMAIL", format!("noreply@{domain}")),
        ("AWS_ENDPOINT_URL_SESV2", aws.into()),
        ("AWS_ENDPOINT_URL_STS", sts.into()),
        ("NOTIFY_API_KEYS", API_KEY.into()),
    ]
}

async fn start(vars: &[(&'static str, String)]) -> Function {
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Function::start("send-email", &pairs).await
}

/// A send as Vercel delivers it, with the invocation's OIDC token when there is one.
async fn send(function: &Function, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(&function.base_url)
        .bearer_auth(API_KEY)
        .json(&json!({
            "to": "patient@example.com",
            "subject": "Your statement is ready",
            "body": "Sign in to the portal to see it."
        }));
    if let Some(token) = token {
        request = request.header("x-vercel-oidc-token", token);
    }
    crate::support::answer(request.send().await.unwrap()).await
}

/// A `503 provider_auth_failed` whose message says `says`.
fn assert_auth_failed(status: u16, body: &Value, says: &str) {
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("provider_auth_failed")),
        "{body}"
    );
    let message = body["error"].as_str().unwrap();
    assert!(message.contains(says), "{message}");
}

async fn credential_source(vars: &[(&'static str, String)]) -> Value {
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, health) = Function::start("health", &pairs).await.get().await;
    health["channels"]["email"]["providers"][0].clone()
}

#[tokio::test]
async fn a_deployed_send_assumes_the_role_with_the_requests_oidc_token_and_reuses_the_credentials()
{
    let recorder = AwsRecorder::start().await;
    let vars = role_vars(&recorder.url, &recorder.url).await;
    let ses = credential_source(&vars).await;
    assert_eq!(
        (ses["mode"].as_str(), ses["credentialSource"].as_str()),
        (Some("live"), Some("vercel-oidc"))
    );
    let function = start(&vars).await;
    assert!(
        recorder.sts_calls().is_empty(),
        "no STS call before the first send"
    );

    let token = oidc_token(3600);
    let (status, body) = send(&function, Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    let sts = recorder.sts_calls();
    assert_eq!(sts.len(), 1);
    assert!(
        sts[0]
            .body
            .contains(&format!("WebIdentityToken={}", token.replace('=', "%3D")))
    );
    assert!(
        sts[0]
            .body
            .contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fnotify-ses")
    );
    let key = xml_value(&sts[0].answer, "AccessKeyId");
    let session = xml_value(&sts[0].answer, "SessionToken");
    assert!(key.starts_with("ASIA"));

    let (status, body) = send(&function, Some(&oidc_token(3600))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(recorder.sts_calls().len(), 1, "the credentials are reused");
    let ses_calls = recorder.ses_calls();
    assert_eq!(ses_calls.len(), 2);
    for call in ses_calls {
        assert_eq!(call.access_key.as_deref(), Some(key));
        assert_eq!(call.security_token.as_deref(), Some(session));
    }
}

#[tokio::test]
async fn credentials_near_their_expiry_are_refreshed_once_for_sends_that_arrive_together() {
    let recorder = AwsRecorder::start().await;
    let function = start(&role_vars(&recorder.url, &recorder.url).await).await;
    // Thirty seconds left: inside the minute before expiry in which they are replaced.
    recorder.shorten_next_sts_answer(30);
    let (status, body) = send(&function, Some(&oidc_token(3600))).await;
    assert_eq!(status, 200, "{body}");
    let first = xml_value(&recorder.sts_calls()[0].answer, "AccessKeyId").to_owned();

    let token = oidc_token(3600);
    let sends = (0..5).map(|_| send(&function, Some(&token)));
    for (status, body) in futures_util::future::join_all(sends).await {
        assert_eq!(status, 200, "{body}");
    }
    let sts = recorder.sts_calls();
    assert_eq!(sts.len(), 2, "exactly one refresh");
    let second = xml_value(&sts[1].answer, "AccessKeyId").to_owned();
    assert_ne!(first, second);
    let signed: Vec<_> = recorder
        .ses_calls()
        .into_iter()
        .map(|c| c.access_key.unwrap())
        .collect();
    assert_eq!(signed[0], first);
    assert!(signed[1..].iter().all(|k| *k == second), "{signed:?}");

    let (status, _) = send(&function, Some(&token)).await;
    assert_eq!((status, recorder.sts_calls().len()), (200, 2));
}

#[tokio::test]
async fn an_sts_refusal_is_a_503_whose_hint_names_the_role_and_its_trust_policy() {
    let sts = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=AssumeRoleWithWebIdentity"))
        .respond_with(ResponseTemplate::new(403).set_body_raw(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>r-1</RequestId></ErrorResponse>",
            "text/xml",
        ))
        .mount(&sts)
        .await;
    let recorder = AwsRecorder::start().await;
    let function = start(&role_vars(&recorder.url, &sts.uri()).await).await;

    let token = oidc_token(3600);
    let (status, body) = send(&function, Some(&token)).await;
    assert_auth_failed(status, &body, ROLE);
    assert_eq!(body["providerCode"], "AccessDenied");
    let hint = body["hint"].as_str().unwrap();
    assert!(
        hint.contains(ROLE) && hint.contains("trust policy"),
        "{hint}"
    );
    assert!(recorder.ses_calls().is_empty(), "nothing reached SES");
    assert!(!body.to_string().contains(&token), "no token in the answer");
    assert!(!function.output().contains(&token), "no token in the logs");
}

#[tokio::test]
async fn a_missing_or_expired_oidc_token_says_which_and_calls_no_sts() {
    let recorder = AwsRecorder::start().await;
    let function = start(&role_vars(&recorder.url, &recorder.url).await).await;

    let (status, body) = send(&function, None).await;
    assert_auth_failed(status, &body, "No Vercel OIDC token");
    assert!(body["hint"].as_str().unwrap().contains("OIDC Federation"));

    let (status, body) = send(&function, Some(&oidc_token(-60))).await;
    assert_auth_failed(status, &body, "expired");
    assert!(recorder.sts_calls().is_empty() && recorder.ses_calls().is_empty());

    let (status, body) = send(&function, Some(&oidc_token(3600))).await;
    assert_eq!(status, 200, "a fresh token recovers at once: {body}");
}

/// Off Vercel with only a sender: the standard chain, instance metadata switched off.
async fn chain_vars(aws: &str, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let domain = format!("{}.example.com", unique("chain"));
    verify_domain_in_moto(&domain).await;
    let mut vars = vec![
        ("AWS_SES_FROM_EMAIL", format!("noreply@{domain}")),
        ("AWS_ENDPOINT_URL_SESV2", aws.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_CONFIG_FILE", "/nonexistent/aws-config".to_owned()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials".to_owned(),
        ),
        ("NOTIFY_API_KEYS", API_KEY.to_owned()),
    ];
    for (name, value) in extra {
        vars.retain(|(n, _)| n != name);
        vars.push((name, value.clone()));
    }
    vars
}

#[tokio::test]
async fn off_vercel_the_default_chain_signs_with_the_standard_variables_or_a_profile_file() {
    let recorder = AwsRecorder::start().await;
    let standard = chain_vars(
        &recorder.url,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIASTANDARDVARS".into()),
            ("AWS_SECRET_ACCESS_KEY", "standard-secret".into()),
        ],
    )
    .await;
    assert_eq!(
        credential_source(&standard).await["credentialSource"],
        "default-chain"
    );
    let (status, body) = send(&start(&standard).await, None).await;
    assert_eq!(status, 200, "{body}");

    let profile = std::env::temp_dir().join(format!("{}.credentials", unique("aws")));
    std::fs::write(
        &profile,
        "[default]\naws_access_key_id = AKIAFROMPROFILE\naws_secret_access_key = profile-secret\n",
    )
    .unwrap();
    let from_file = chain_vars(
        &recorder.url,
        &[("AWS_SHARED_CREDENTIALS_FILE", profile.display().to_string())],
    )
    .await;
    let (status, body) = send(&start(&from_file).await, None).await;
    assert_eq!(status, 200, "{body}");

    let signed: Vec<_> = recorder
        .ses_calls()
        .into_iter()
        .map(|c| c.access_key.unwrap())
        .collect();
    assert_eq!(signed, ["AKIASTANDARDVARS", "AKIAFROMPROFILE"]);
    assert!(recorder.sts_calls().is_empty());
}

#[tokio::test]
async fn off_vercel_with_nothing_in_the_chain_a_send_is_a_clear_503() {
    let recorder = AwsRecorder::start().await;
    let function = start(&chain_vars(&recorder.url, &[]).await).await;
    let (status, body) = send(&function, None).await;
    assert_auth_failed(status, &body, "standard chain");
    assert!(recorder.ses_calls().is_empty());
}

#[tokio::test]
async fn on_vercel_the_standard_aws_variables_are_ignored_and_both_ways_are_named() {
    let recorder = AwsRecorder::start().await;
    let vars = chain_vars(
        &recorder.url,
        &[
            ("VERCEL", "1".into()),
            ("AWS_ACCESS_KEY_ID", "ASIAVERCELSOWN".into()),
            ("AWS_SECRET_ACCESS_KEY", "vercels-own".into()),
            ("AWS_SESSION_TOKEN", "vercels-own".into()),
        ],
    )
    .await;
    let ses = credential_source(&vars).await;
    assert_eq!(ses["mode"], "misconfigured");
    assert!(ses.get("credentialSource").is_none());
    assert_eq!(
        ses["missing"],
        json!([
            "AWS_ROLE_ARN (Vercel OIDC) or AWS_SES_ACCESS_KEY_ID and AWS_SES_SECRET_ACCESS_KEY"
        ])
    );
    let (status, body) = send(&start(&vars).await, None).await;
    assert_eq!(status, 503, "{body}");
    assert!(recorder.ses_calls().is_empty() && recorder.sts_calls().is_empty());
}
