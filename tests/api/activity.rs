//! What the activity page reads: a message's story (its scheduling under quiet hours, its
//! attempts, the replays of its send), the log's CSV export and the counts per day, through the
//! local server on PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{AUDIT_KEY, Function, POSTGRES, answer, fresh_database};

const KEY: &str = "activity-api-key-0123456789";

async fn ask(
    server: &Function,
    method: Method,
    path: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", server.base_url))
        .bearer_auth(KEY);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_message_tells_its_story_and_the_log_exports_and_counts_by_day() {
    let _db = POSTGRES.read().await;
    let database = fresh_database().await;
    // Quiet hours from an hour ago to two hours ahead in the practice's zone: the text waits
    // for the window's end, whatever the time of day the test runs at.
    let hour = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("America/Chicago").unwrap())
        .hour();
    let quiet = format!("{:02}:00-{:02}:00", (hour + 23) % 24, (hour + 2) % 24);
    let server = Function::start_dev_server(&[
        ("DATABASE_URL", &database),
        ("NOTIFY_API_KEYS", KEY),
        ("NOTIFY_AUDIT_KEY", AUDIT_KEY),
        (
            "NOTIFY_STORE_KEY",
            "c3RvcmUta2V5LWZvci10aGUtYWN0aXZpdHktdGVzdHM=",
        ),
        ("NOTIFY_QUIET_HOURS", &quiet),
        ("NOTIFY_TIMEZONE", "America/Chicago"),
    ])
    .await;
    let text = json!({"to": "+15550107777", "message": "Your invoice is ready."});
    let (status, first) = answer(
        ask(
            &server,
            Method::POST,
            "/api/send-sms",
            Some(text.clone()),
            Some("inv-1"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 202, "{first}");
    // A replay answers the first request's body (its requestId too).
    let again: Value = ask(
        &server,
        Method::POST,
        "/api/send-sms",
        Some(text),
        Some("inv-1"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(again["id"], first["id"]);
    let id = first["id"].as_str().unwrap();

    let (status, one) = answer(
        ask(
            &server,
            Method::GET,
            &format!("/api/messages/{id}"),
            None,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{one}");
    let trail = &one["message"]["trail"];
    assert_eq!(trail["scheduled"][0]["quietHours"], true, "{trail}");
    let at = |v: &Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert_eq!(at(&trail["scheduled"][0]["sendAt"]), at(&first["sendAt"]));
    assert_eq!(trail["replays"].as_array().unwrap().len(), 1, "{trail}");
    assert_eq!(trail["replays"][0]["caller"], one["message"]["caller"]);

    // An email goes at once (quiet hours leave email alone): its attempt, logged in demo mode.
    let email = json!({"to": "=cmd@example.com", "subject": "Hi", "body": "Hello"});
    let (status, sent) =
        answer(ask(&server, Method::POST, "/api/send-email", Some(email), None).await).await;
    assert_eq!(status, 200, "{sent}");
    let (_, one) = answer(
        ask(
            &server,
            Method::GET,
            &format!("/api/messages/{}", sent["id"].as_str().unwrap()),
            None,
            None,
        )
        .await,
    )
    .await;
    let attempts = &one["message"]["trail"]["attempts"];
    assert_eq!(
        (
            attempts[0]["outcome"].as_str(),
            attempts[0]["provider"].as_str()
        ),
        (Some("logged"), Some("aws-ses")),
        "{attempts}"
    );

    // The export: the header and both messages, the masked address that starts with = kept
    // as text.
    let response = ask(&server, Method::GET, "/api/messages?format=csv", None, None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("messages.csv")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].contains("\"'=***@example.com\""), "{csv}");
    assert!(lines[2].contains("\"'+1******7777\""), "{csv}");

    // A bad format is refused, not ignored.
    let (status, refused) = answer(
        ask(
            &server,
            Method::GET,
            "/api/messages?format=xlsx",
            None,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, refused["details"][0]["field"].as_str()),
        (400, Some("format"))
    );

    let (_, stats) =
        answer(ask(&server, Method::GET, "/api/messages/stats", None, None).await).await;
    assert_eq!(stats["zone"], "America/Chicago");
    let days = stats["days"].as_array().unwrap();
    assert_eq!(days.len(), 2, "{stats}");
    assert_eq!(stats["lines"]["bounceReview"], 5.0);
}
