//! The pipeline and request reading, through `handle` on a demo app.

use super::*;
use crate::App;
use crate::config::Config;
use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Full};

fn demo_app() -> std::sync::Arc<App> {
    std::sync::Arc::new(App::new(Config::from_vars(&Default::default())))
}

fn post(route: Route, body: &str) -> Request<Full<Bytes>> {
    Request::post(route.path())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

async fn answer(
    app: &std::sync::Arc<App>,
    route: Route,
    request: Request<Full<Bytes>>,
) -> (u16, serde_json::Value) {
    let response = handle(app, route, request).await;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[test]
fn routes_are_found_by_path_with_or_without_a_trailing_slash() {
    assert_eq!(Route::from_path("/api/send-email"), Some(Route::SendEmail));
    assert_eq!(Route::from_path("/api/health/"), Some(Route::Health));
    assert_eq!(Route::from_path("/api/nothing"), None);
}

#[tokio::test]
async fn wrong_json_types_name_the_field_and_its_index() {
    let (status, body) = answer(
        &demo_app(),
        Route::SendEmail,
        post(
            Route::SendEmail,
            r#"{"to": ["a@example.com", 5], "subject": "s", "body": "b"}"#,
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid_request");
    assert_eq!(body["details"][0]["field"], "to");
}

#[tokio::test]
async fn unknown_fields_are_refused_by_name() {
    let (status, body) = answer(
        &demo_app(),
        Route::SendSms,
        post(
            Route::SendSms,
            r#"{"to": "+15551234567", "message": "Hi", "from": "+15550000000"}"#,
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["details"][0]["field"], "from");
}

#[tokio::test]
async fn malformed_and_trailing_json_are_invalid_json() {
    for text in [
        r#"{"to": "#,
        r#"{"to": "+15551234567", "message": "Hi"} extra"#,
        "",
        "[1]",
    ] {
        let (status, body) = answer(&demo_app(), Route::SendSms, post(Route::SendSms, text)).await;
        assert_eq!(status, 400, "{text}");
        assert!(
            body["code"] == "invalid_json" || body["code"] == "invalid_request",
            "{text}: {body}"
        );
    }
}

#[tokio::test]
async fn a_body_over_the_limit_without_a_declared_length_is_413() {
    let body = format!(
        r#"{{"to": "+15551234567", "message": "{}"}}"#,
        "x".repeat(MAX_BODY_BYTES)
    );
    let request = Request::post("/api/send-sms")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    assert!(request.headers().get(header::CONTENT_LENGTH).is_none());
    let (status, body) = answer(&demo_app(), Route::SendSms, request).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}

#[tokio::test]
async fn a_non_json_content_type_is_415_with_a_hint() {
    let request = Request::post("/api/send-sms")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(
            b"to=%2B15551234567&message=Hi",
        )))
        .unwrap();
    let (status, body) = answer(&demo_app(), Route::SendSms, request).await;
    assert_eq!(status, 415);
    assert!(body["hint"].as_str().unwrap().contains("application/json"));
}
