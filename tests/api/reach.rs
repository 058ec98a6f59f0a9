//! The suppression list end to end: the real function binaries on one database, SES in moto,
//! Twilio in Prism, signed SNS messages and Twilio webhooks. What one instance learns (a bounce,
//! a STOP) keeps the next send at another from going; the patient's START and staff's lift let
//! it go again.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::instances::emails_from;
use crate::support::{
    API_KEY, AUDIT_KEY, Function, POSTGRES, answer, as_pairs, call, eventually, fresh_database,
    moto_url, prism_url, recorded, ses_vars, twilio_vars, unique, verify_domain_in_moto,
};
use crate::webhooks::{
    CERT_URL, PUBLIC_URL, TestSigner, post_form, post_sns, sns_app_with, sns_message,
    twilio_signature,
};

async fn send(function: &Function, body: &Value) -> (u16, Value) {
    call(function, reqwest::Method::POST, "", Some(body.clone())).await
}

/// `method` on the suppressions function at `path` below `/api/suppressions`.
async fn suppressions(
    function: &Function,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    call(function, method, &format!("/api/suppressions{path}"), body).await
}

fn stored(database: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("DATABASE_URL", database.to_owned()),
        ("NOTIFY_AUDIT_KEY", AUDIT_KEY.to_owned()),
        ("NOTIFY_API_KEYS", API_KEY.to_owned()),
    ])
}

fn bounce(kind: &str, sub: &str, message_id: &str, to: &str) -> String {
    json!({
        "eventType": "Bounce",
        "mail": {"messageId": message_id, "timestamp": "2026-12-06T10:00:00.000Z", "destination": [to]},
        "bounce": {"bounceType": kind, "bounceSubType": sub, "bouncedRecipients": [{"emailAddress": to}]},
    })
    .to_string()
}

#[tokio::test]
async fn a_hard_bounce_received_by_one_instance_stops_the_next_email_at_another_without_calling_ses()
 {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let domain = format!("{}.example.com", unique("reach"));
    verify_domain_in_moto(&domain).await;
    let sender = format!("noreply@{domain}");
    let mut vars = ses_vars(&sender, &moto_url());
    vars.extend(stored(&database));
    let (a, b) = (
        Function::start("send-email", &as_pairs(&vars)).await,
        Function::start("send-email", &as_pairs(&vars)).await,
    );
    let list = Function::start("suppressions", &as_pairs(&stored(&database))).await;
    let email = json!({"to": "Patient@Example.com", "subject": "Your receipt", "body": "Paid."});
    let (status, first) = send(&a, &email).await;
    assert_eq!(status, 200, "{first}");

    // SES reports a transient bounce, then a permanent one, to another instance.
    let signer = TestSigner::new();
    let vars: HashMap<String, String> = stored(&database)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let (webhook, _) = sns_app_with(&signer, vars);
    let provider_id = first["messageId"].as_str().unwrap();
    for (kind, sub) in [("Transient", "MailboxFull"), ("Permanent", "General")] {
        let report = bounce(kind, sub, provider_id, "patient@example.com");
        let message = sns_message(&signer, "2", "Notification", &report, CERT_URL);
        let (status, body) = post_sns(&webhook, &message).await;
        assert_eq!(status, 200, "{body}");
        if kind == "Transient" {
            let (status, body) = send(&b, &email).await;
            assert_eq!(status, 200, "a transient bounce is no reason: {body}");
        }
    }
    assert_eq!(emails_from(&sender).await, 2);

    let (status, refused) = send(&b, &email).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["code"], "recipient_suppressed");
    assert_eq!(refused["reason"], "hard_bounce");
    assert!(
        refused["since"].as_str().unwrap().ends_with('Z'),
        "{refused}"
    );
    let id = refused["suppressionId"].as_str().unwrap().to_owned();
    assert_eq!(emails_from(&sender).await, 2, "SES was not called");

    let (status, page) = suppressions(
        &list,
        reqwest::Method::GET,
        "?recipient=patient@example.com",
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let entry = &page["suppressions"][0];
    assert_eq!(page["suppressions"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(
        (
            entry["id"].as_str(),
            entry["reason"].as_str(),
            entry["source"].as_str()
        ),
        (
            Some(id.as_str()),
            Some("hard_bounce"),
            Some("provider_event")
        )
    );
    assert_eq!(entry["recipient"], "p***@example.com");
    assert_eq!(
        entry["messageId"], first["id"],
        "the entry names the message that bounced"
    );
    assert!(!page.to_string().contains("patient@example.com"));

    // Staff lift it; the next send goes.
    let (status, lifted) =
        suppressions(&list, reqwest::Method::DELETE, &format!("/{id}"), None).await;
    assert_eq!(status, 200, "{lifted}");
    assert!(lifted["suppression"]["liftedAt"].is_string(), "{lifted}");
    let (status, body) = send(&a, &email).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(emails_from(&sender).await, 3);
}

#[tokio::test]
async fn a_complaint_and_ses_own_suppression_list_each_put_the_address_on_the_list_with_its_reason()
{
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let domain = format!("{}.example.com", unique("complaint"));
    verify_domain_in_moto(&domain).await;
    let sender = format!("noreply@{domain}");
    let mut vars = ses_vars(&sender, &moto_url());
    vars.extend(stored(&database));
    let function = Function::start("send-email", &as_pairs(&vars)).await;
    let list = Function::start("suppressions", &as_pairs(&stored(&database))).await;
    let signer = TestSigner::new();
    let webhook_vars: HashMap<String, String> = stored(&database)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let (webhook, _) = sns_app_with(&signer, webhook_vars);
    let email = |to: &str| json!({"to": to, "subject": "Your receipt", "body": "Paid."});
    let complained = "complains@example.com";
    let listed_at_ses = "listed@example.com";

    let (_, first) = send(&function, &email(complained)).await;
    let complaint = json!({
        "eventType": "Complaint",
        "mail": {"messageId": first["messageId"], "timestamp": "2026-12-06T10:00:00.000Z", "destination": [complained]},
        "complaint": {"complainedRecipients": [{"emailAddress": complained}], "timestamp": "2026-12-06T10:05:00.000Z", "complaintFeedbackType": "abuse"},
    });
    let (_, second) = send(&function, &email(listed_at_ses)).await;
    let dropped = bounce(
        "Permanent",
        "OnAccountSuppressionList",
        second["messageId"].as_str().unwrap(),
        listed_at_ses,
    );
    for report in [complaint.to_string(), dropped] {
        let message = sns_message(&signer, "2", "Notification", &report, CERT_URL);
        let (status, body) = post_sns(&webhook, &message).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(emails_from(&sender).await, 2);

    for (to, reason) in [
        (complained, "complaint"),
        (listed_at_ses, "provider_suppressed"),
    ] {
        let (status, refused) = send(&function, &email(to)).await;
        assert_eq!(
            (status, refused["reason"].as_str()),
            (422, Some(reason)),
            "{refused}"
        );
        let (_, page) = suppressions(
            &list,
            reqwest::Method::GET,
            &format!("?recipient={to}"),
            None,
        )
        .await;
        assert_eq!(page["suppressions"][0]["reason"], reason, "{page}");
        assert_eq!(
            page["suppressions"][0]["source"], "provider_event",
            "{page}"
        );
    }
    assert_eq!(emails_from(&sender).await, 2, "SES was not called again");

    // A complaint is lifted only with force: the patient said the mail was unwanted.
    let (_, refused) = send(&function, &email(complained)).await;
    let id = refused["suppressionId"].as_str().unwrap();
    let (status, body) =
        suppressions(&list, reqwest::Method::DELETE, &format!("/{id}"), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("lift_requires_force")),
        "{body}"
    );
}

#[tokio::test]
async fn twilios_status_callbacks_for_an_opted_out_a_landline_and_a_non_mobile_number_suppress_each()
 {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let mut vars = twilio_vars(&prism_url());
    vars.extend(stored(&database));
    vars.insert("NOTIFY_PUBLIC_URL", PUBLIC_URL.into());
    let webhook = Function::start("webhooks-twilio", &as_pairs(&vars)).await;
    let sms = Function::start("send-sms", &as_pairs(&vars)).await;
    let list = Function::start("suppressions", &as_pairs(&stored(&database))).await;
    let url = format!("{PUBLIC_URL}/api/webhooks/twilio");
    let cases = [
        ("+15551230001", "21610", "sms_stop"),
        ("+15551230002", "30006", "invalid_recipient"),
        ("+15551230003", "21614", "invalid_recipient"),
        ("+15551230004", "30003", ""),
    ];
    for (n, (to, code, _)) in cases.iter().enumerate() {
        let text = json!({"to": to, "message": "Your appointment is tomorrow."});
        assert_eq!(send(&sms, &text).await.0, 200);
        let sid = format!("SM{n:032}");
        let callback = [
            ("MessageSid", sid.as_str()),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", code),
            ("To", to),
            ("From", "+15550001111"),
        ];
        let response = post_form(
            &webhook,
            "",
            &callback,
            Some(&twilio_signature(&url, &callback)),
        )
        .await;
        assert_eq!(response.status(), 200, "{code}");
    }
    for (to, code, reason) in cases {
        let text = json!({"to": to, "message": "Your appointment is tomorrow."});
        let (status, answer) = send(&sms, &text).await;
        if reason.is_empty() {
            assert_eq!(
                status, 200,
                "{code} (unreachable handset) is no reason: {answer}"
            );
            continue;
        }
        assert_eq!(
            (status, answer["reason"].as_str()),
            (422, Some(reason)),
            "{code}: {answer}"
        );
        let encoded = to.replace('+', "%2B");
        let (_, page) = suppressions(
            &list,
            reqwest::Method::GET,
            &format!("?recipient={encoded}"),
            None,
        )
        .await;
        assert_eq!(
            page["suppressions"][0]["source"], "provider_event",
            "{page}"
        );
    }
}

const STOP_WORDS: &str = "Please stop texting me";

#[tokio::test]
async fn a_patients_stop_in_plain_words_stops_texts_until_they_text_start() {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let mut vars = twilio_vars(&prism_url());
    vars.extend(stored(&database));
    vars.insert("NOTIFY_PUBLIC_URL", PUBLIC_URL.into());
    let webhook = Function::start("webhooks-twilio", &as_pairs(&vars)).await;
    let sms = Function::start("send-sms", &as_pairs(&vars)).await;
    let list = Function::start("suppressions", &as_pairs(&stored(&database))).await;
    let text = json!({"to": "+15551234567", "message": "Your appointment is tomorrow."});
    assert_eq!(send(&sms, &text).await.0, 200);

    let inbound = |body: &'static str, sid: &'static str| {
        [
            ("MessageSid", sid),
            ("SmsStatus", "received"),
            ("From", "+15551234567"),
            ("To", "+15550001111"),
            ("Body", body),
        ]
    };
    let url = format!("{PUBLIC_URL}/api/webhooks/twilio");
    let stop = inbound(STOP_WORDS, "SM00000000000000000000000000000001");
    let response = post_form(&webhook, "", &stop, Some(&twilio_signature(&url, &stop))).await;
    assert_eq!(response.status(), 200);

    let (status, refused) = send(&sms, &text).await;
    assert_eq!(
        (status, refused["reason"].as_str()),
        (422, Some("sms_stop")),
        "{refused}"
    );
    let id = refused["suppressionId"].as_str().unwrap().to_owned();
    let (_, one) = suppressions(&list, reqwest::Method::GET, &format!("/{id}"), None).await;
    let entry = &one["suppression"];
    assert_eq!(
        (
            entry["source"].as_str(),
            entry["inferred"].as_bool(),
            entry["recipient"].as_str()
        ),
        (Some("inbound_message"), Some(true), Some("+1******4567")),
        "{one}"
    );
    let (_, review) = suppressions(&list, reqwest::Method::GET, "?inferred=true", None).await;
    assert_eq!(review["suppressions"][0]["id"], id.as_str(), "{review}");
    let (_, keywords) = suppressions(&list, reqwest::Method::GET, "?inferred=false", None).await;
    assert_eq!(
        keywords["suppressions"].as_array().unwrap().len(),
        0,
        "{keywords}"
    );
    let (status, kept) =
        suppressions(&list, reqwest::Method::DELETE, &format!("/{id}"), None).await;
    assert_eq!(
        (status, kept["code"].as_str()),
        (409, Some("lift_requires_patient")),
        "{kept}"
    );

    let start = inbound("START", "SM00000000000000000000000000000002");
    let response = post_form(&webhook, "", &start, Some(&twilio_signature(&url, &start))).await;
    assert_eq!(response.status(), 200);
    let (status, body) = send(&sms, &text).await;
    assert_eq!(status, 200, "{body}");
    let (_, one) = suppressions(&list, reqwest::Method::GET, &format!("/{id}"), None).await;
    assert!(one["suppression"]["liftedAt"].is_string(), "{one}");

    // The practice app is told both, in order, by the events API (and its webhook).
    let events = Function::start("events", &as_pairs(&stored(&database))).await;
    let page = crate::support::practice_events(&events, "suppression.").await;
    let told: Vec<(&str, &str)> = page
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["data"]["suppressionId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        told,
        [
            ("suppression.added", id.as_str()),
            ("suppression.lifted", id.as_str())
        ],
        "{page:?}"
    );
}

#[tokio::test]
async fn an_email_to_several_goes_to_the_others_and_a_notification_goes_on_its_other_channel() {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let domain = format!("{}.example.com", unique("several"));
    verify_domain_in_moto(&domain).await;
    let sender = format!("noreply@{domain}");
    let mut vars = ses_vars(&sender, &moto_url());
    vars.extend(twilio_vars(&prism_url()));
    vars.extend(stored(&database));
    let email = Function::start("send-email", &as_pairs(&vars)).await;
    let notification = Function::start("send-notification", &as_pairs(&vars)).await;
    let messages = Function::start("messages", &as_pairs(&stored(&database))).await;
    let list = Function::start("suppressions", &as_pairs(&stored(&database))).await;
    for to in ["bo@example.com", "+15557654321"] {
        let (status, added) = suppressions(
            &list,
            reqwest::Method::POST,
            "",
            Some(json!({"to": to, "reason": "unsubscribed"})),
        )
        .await;
        assert_eq!(status, 201, "{added}");
        assert_eq!(added["suppression"]["source"], "api");
    }
    let (status, again) = suppressions(
        &list,
        reqwest::Method::POST,
        "",
        Some(json!({"to": "BO@example.com"})),
    )
    .await;
    assert_eq!(status, 200, "already in force: {again}");

    let body = json!({"to": ["ann@example.com", "bo@example.com"], "subject": "Open hours", "body": "We open at 9.", "category": "documents"});
    let (status, sent) = send(&email, &body).await;
    assert_eq!(status, 200, "{sent}");
    recorded(&database, sent["id"].as_str().unwrap()).await;
    assert_eq!(sent["suppressed"][0]["to"], "b***@example.com", "{sent}");
    assert_eq!(sent["suppressed"][0]["reason"], "unsubscribed");
    let moto = crate::support::message_in_moto(sent["messageId"].as_str().unwrap()).await;
    assert_eq!(
        moto["destinations"]["ToAddresses"],
        json!(["ann@example.com"]),
        "{moto}"
    );
    let (_, logged) = answer(
        reqwest::Client::new()
            .get(format!(
                "{}/api/messages/{}",
                messages.base_url,
                sent["id"].as_str().unwrap()
            ))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let statuses: Vec<&str> = logged["message"]["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["sent", "suppressed"], "{logged}");

    let reminder = json!({
        "template": "appointmentReminder",
        "to": {"email": "ann@example.com", "phone": "+15557654321"},
        "data": notify::templates::TemplateName::AppointmentReminder.sample(),
    });
    let (status, outcome) = send(&notification, &reminder).await;
    assert_eq!(status, 207, "{outcome}");
    assert_eq!(outcome["email"]["success"], true, "{outcome}");
    assert_eq!(outcome["sms"]["code"], "recipient_suppressed", "{outcome}");
    assert_eq!(outcome["sms"]["reason"], "unsubscribed", "{outcome}");
    let read = || async {
        answer(
            reqwest::Client::new()
                .get(format!(
                    "{}/api/messages?status=suppressed",
                    messages.base_url
                ))
                .bearer_auth(API_KEY)
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let (_, log) = eventually(read, |(_, log)| {
        !log["messages"].as_array().unwrap().is_empty()
    })
    .await;
    let logged = log["messages"].as_array().unwrap();
    assert_eq!(logged.len(), 1, "{log}");
    let row = &logged[0];
    assert_eq!(
        (
            row["channel"].as_str(),
            row["template"].as_str(),
            row["category"].as_str(),
            row["reason"].as_str(),
            row["errorCode"].as_str()
        ),
        (
            Some("sms"),
            Some("appointmentReminder"),
            Some("care_reminders"),
            Some("unsubscribed"),
            Some("recipient_suppressed")
        ),
        "{log}"
    );
}

#[tokio::test]
async fn past_the_bounce_hold_line_optional_emails_wait_and_billing_alerts_still_go() {
    use notify::names::{Channel, EventKind, Provider};
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    // 250 emails sent a moment ago, 12 of them hard-bounced (4.8%: past the 4% hold line).
    let store = crate::store::postgres_store(&database);
    let now = time::OffsetDateTime::now_utc();
    let sent: Vec<_> = (0..250)
        .map(|i| notify::store::MessageRecord {
            created_at: now,
            ..crate::store::record(
                &format!("msg_{i}"),
                Channel::Email,
                &format!("SES{i}"),
                None,
                &format!("h{i}"),
                0,
            )
        })
        .collect();
    store.record(&sent, &[], &[]).await.unwrap();
    for i in 0..12 {
        let bounce = notify::domain::DeliveryEvent {
            channel: Channel::Email,
            provider: Provider::AwsSes,
            retryable: Some(false),
            ..crate::store::event(
                &format!("evt-{i}"),
                EventKind::Bounced,
                &format!("SES{i}"),
                &format!("h{i}"),
            )
        };
        crate::store::apply(store.as_ref(), &bounce, "{}", false).await;
    }

    let secret = "a-cron-secret-for-the-guard-test";
    let mut vars = stored(&database);
    vars.insert("CRON_SECRET", secret.to_owned());
    let dispatcher = Function::start("cron-dispatch", &as_pairs(&vars)).await;
    crate::support::dispatch(&dispatcher, secret).await;
    let health = Function::start("health", &as_pairs(&stored(&database))).await;
    let (_, report) = health.get().await;
    let guard = &report["reach"]["reputation"];
    assert_eq!(guard["state"], "held", "{report}");
    assert_eq!(guard["day"]["emails"], 250);
    assert_eq!(guard["day"]["bounceRate"], 4.8);
    assert!(
        dispatcher
            .audit_events()
            .iter()
            .any(|e| e["event"] == "reputation_changed" && e["state"] == "held")
    );

    let domain = format!("{}.example.com", unique("guard"));
    verify_domain_in_moto(&domain).await;
    let sender = format!("noreply@{domain}");
    let mut vars = ses_vars(&sender, &moto_url());
    vars.extend(stored(&database));
    let email = Function::start("send-email", &as_pairs(&vars)).await;
    let body = |category: Option<&str>| {
        let mut body =
            json!({"to": "pat@example.com", "subject": "From the clinic", "body": "Hello."});
        if let Some(category) = category {
            body["category"] = category.into();
        }
        body
    };
    let (status, held) = send(&email, &body(Some("care_reminders"))).await;
    assert_eq!(
        (status, held["code"].as_str()),
        (503, Some("sending_held")),
        "{held}"
    );
    assert!(
        held["error"].as_str().unwrap().contains("4.80% bounced"),
        "{held}"
    );
    assert_eq!(emails_from(&sender).await, 0);
    for category in [Some("billing_alerts"), None] {
        let (status, sent) = send(&email, &body(category)).await;
        assert_eq!(status, 200, "{category:?}: {sent}");
    }
    assert_eq!(emails_from(&sender).await, 2);
}

#[tokio::test]
async fn lifting_an_email_entry_with_its_address_removes_it_from_ses_own_list_too() {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    // moto serves no account-level suppression list: an in-process stand-in for that call.
    let ses = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path_regex("^/v2/email/suppression/addresses/listed"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&ses)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex("^/v2/email/suppression/addresses/"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("x-amzn-ErrorType", "NotFoundException")
                .set_body_string(r#"{"message":"Email address not on the list"}"#),
        )
        .mount(&ses)
        .await;
    let mut vars = ses_vars("noreply@clinic.example.com", &ses.uri());
    vars.extend(stored(&database));
    let list = Function::start("suppressions", &as_pairs(&vars)).await;
    let mut ids = Vec::new();
    for to in ["listed@example.com", "unlisted@example.com"] {
        let (status, added) =
            suppressions(&list, reqwest::Method::POST, "", Some(json!({"to": to}))).await;
        assert_eq!(status, 201, "{added}");
        ids.push(added["suppression"]["id"].as_str().unwrap().to_owned());
    }
    let lift = |id: String, email: &'static str| {
        let list = &list;
        async move {
            let path = format!("/{id}");
            suppressions(
                list,
                reqwest::Method::DELETE,
                &path,
                Some(json!({"email": email})),
            )
            .await
        }
    };
    let (status, wrong) = lift(ids[0].clone(), "someone@example.com").await;
    assert_eq!(
        (status, wrong["details"][0]["field"].as_str()),
        (400, Some("email")),
        "{wrong}"
    );
    let (status, removed) = lift(ids[0].clone(), "listed@example.com").await;
    assert_eq!(
        (status, removed["providerList"].as_str()),
        (200, Some("removed")),
        "{removed}"
    );
    let (status, unlisted) = lift(ids[1].clone(), "unlisted@example.com").await;
    assert_eq!(
        (status, unlisted["providerList"].as_str()),
        (200, Some("not_listed")),
        "{unlisted}"
    );
    let calls = ses.received_requests().await.unwrap();
    assert_eq!(
        calls.len(),
        2,
        "one call per lift, none for the wrong address"
    );
    assert!(
        calls[0].url.path().contains("listed%40example.com"),
        "{}",
        calls[0].url
    );
}
