//! Patients' choices end to end: the real function binaries on one database. A choice made
//! through `PATCH /api/preferences` (or the practice's default) declines the next send of that
//! category on that channel, and says why; a required category keeps a channel on; billing
//! texts carry whether consent was on file, and need it when the practice says so.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::support::{
    API_KEY, AUDIT_KEY, Function, POSTGRES, answer, as_pairs, call, eventually, fresh_database,
    prism_url, twilio_vars,
};

async fn texts(database: &str, extra: &[(&'static str, &str)]) -> (Function, Function, Function) {
    let mut vars = twilio_vars(&prism_url());
    vars.insert("DATABASE_URL", database.to_owned());
    vars.insert("NOTIFY_AUDIT_KEY", AUDIT_KEY.to_owned());
    for (k, v) in extra {
        vars.insert(k, (*v).to_owned());
    }
    let store: HashMap<&'static str, String> = vars
        .iter()
        .filter(|(k, _)| !k.starts_with("TWILIO"))
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    (
        Function::start("send-sms", &as_pairs(&vars)).await,
        Function::start("preferences", &as_pairs(&store)).await,
        Function::start("messages", &as_pairs(&store)).await,
    )
}

const PHONE: &str = "+15551234567";

fn sms(category: &str) -> Value {
    json!({"to": PHONE, "message": "A note from the clinic.", "category": category})
}

#[tokio::test]
async fn a_patients_choice_declines_that_category_on_that_channel_and_the_log_says_why() {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let (send, preferences, messages) = texts(
        &database,
        &[("NOTIFY_PREFERENCE_DEFAULTS", "documents:sms")],
    )
    .await;
    let patch = json!({"phone": PHONE, "preferences": [
        {"category": "care_reminders", "channel": "sms", "enabled": false}
    ]});
    let (status, chosen) = call(
        &preferences,
        reqwest::Method::PATCH,
        "/api/preferences",
        Some(patch),
    )
    .await;
    assert_eq!(status, 200, "{chosen}");
    assert_eq!(chosen["phone"], "+1******4567");
    let row = |category: &str| {
        chosen["preferences"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["category"] == category && r["channel"] == "sms")
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (
            row("care_reminders")["enabled"].as_bool(),
            row("care_reminders")["setBy"].as_str()
        ),
        (Some(false), Some("api"))
    );
    assert_eq!(
        (
            row("documents")["enabled"].as_bool(),
            row("documents")["setBy"].as_str()
        ),
        (Some(false), None)
    );
    assert_eq!(row("billing_alerts")["required"], true);

    let (status, declined) = call(
        &send,
        reqwest::Method::POST,
        "",
        Some(sms("care_reminders")),
    )
    .await;
    assert_eq!(
        (status, declined["code"].as_str(), declined["rule"].as_str()),
        (422, Some("recipient_declined"), Some("patient_preference")),
        "{declined}"
    );
    let (status, declined) = call(&send, reqwest::Method::POST, "", Some(sms("documents"))).await;
    assert_eq!(
        (status, declined["rule"].as_str()),
        (422, Some("practice_default")),
        "{declined}"
    );
    let (status, sent) = call(
        &send,
        reqwest::Method::POST,
        "",
        Some(sms("billing_receipts")),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    let (status, sent) = call(
        &send,
        reqwest::Method::POST,
        "",
        Some(json!({"to": PHONE, "message": "No category."})),
    )
    .await;
    assert_eq!(
        status, 200,
        "a send without a category meets only the suppression list: {sent}"
    );

    let read = || {
        call(
            &messages,
            reqwest::Method::GET,
            "/api/messages?status=declined",
            None,
        )
    };
    let (_, log) = eventually(read, |(_, log)| {
        log["messages"].as_array().unwrap().len() == 2
    })
    .await;
    let reasons: Vec<&str> = log["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["practice_default", "patient_preference"], "{log}");

    // The patient turns documents on: the practice's default no longer decides.
    let patch = json!({"phone": PHONE, "preferences": [{"category": "documents", "channel": "sms", "enabled": true}]});
    assert_eq!(
        call(
            &preferences,
            reqwest::Method::PATCH,
            "/api/preferences",
            Some(patch)
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(&send, reqwest::Method::POST, "", Some(sms("documents")))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn a_required_category_keeps_a_channel_on() {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let (_, preferences, _) = texts(&database, &[]).await;
    let both_off = json!({"email": "ann@example.com", "phone": PHONE, "preferences": [
        {"category": "billing_alerts", "channel": "email", "enabled": false},
        {"category": "billing_alerts", "channel": "sms", "enabled": false},
    ]});
    let (status, refused) = call(
        &preferences,
        reqwest::Method::PATCH,
        "/api/preferences",
        Some(both_off),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("category_required")),
        "{refused}"
    );
    let one_off = json!({"email": "ann@example.com", "phone": PHONE, "preferences": [
        {"category": "billing_alerts", "channel": "sms", "enabled": false},
    ]});
    let (status, chosen) = call(
        &preferences,
        reqwest::Method::PATCH,
        "/api/preferences",
        Some(one_off),
    )
    .await;
    assert_eq!(status, 200, "the patient chooses the channel: {chosen}");
    let (status, read) = call(
        &preferences,
        reqwest::Method::GET,
        "/api/preferences?email=ann@example.com&phone=%2B15551234567",
        None,
    )
    .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["preferences"], chosen["preferences"]);
    let (status, bad) = call(&preferences, reqwest::Method::GET, "/api/preferences", None).await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (400, Some("invalid_request")),
        "{bad}"
    );
}

#[tokio::test]
async fn billing_texts_record_consent_and_need_it_when_the_practice_requires_it() {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let (send, preferences, messages) =
        texts(&database, &[("NOTIFY_SMS_CONSENT", "required")]).await;
    let (status, declined) = call(
        &send,
        reqwest::Method::POST,
        "",
        Some(sms("billing_alerts")),
    )
    .await;
    assert_eq!(
        (status, declined["rule"].as_str()),
        (422, Some("sms_consent_required")),
        "{declined}"
    );
    assert_eq!(
        call(
            &send,
            reqwest::Method::POST,
            "",
            Some(sms("care_reminders"))
        )
        .await
        .0,
        200,
        "only billing texts need it"
    );
    let consent = json!({"phone": PHONE, "consent": {"at": "2026-11-02T10:00:00-05:00", "source": "intake-form", "textVersion": "sms-terms-v3"}});
    let (status, chosen) = call(
        &preferences,
        reqwest::Method::PATCH,
        "/api/preferences",
        Some(consent),
    )
    .await;
    assert_eq!(status, 200, "{chosen}");
    assert_eq!(chosen["consent"]["textVersion"], "sms-terms-v3");
    assert_eq!(chosen["consent"]["at"], "2026-11-02T15:00:00.000000Z");
    let (status, sent) = call(
        &send,
        reqwest::Method::POST,
        "",
        Some(sms("billing_alerts")),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    let path = format!("/api/messages/{}", sent["id"].as_str().unwrap());
    let read = || call(&messages, reqwest::Method::GET, &path, None);
    let (_, logged) = eventually(read, |(status, _)| *status == 200).await;
    assert_eq!(logged["message"]["consentOnFile"], true, "{logged}");
    assert_eq!(logged["message"]["category"], "billing_alerts");
}

/// The URL of the `List-Unsubscribe` header in raw MIME, unfolded.
fn list_unsubscribe(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw)
        .replace("\r\n ", "")
        .replace("\r\n\t", "");
    let line = text.lines().find(|l| l.starts_with("List-Unsubscribe: "))?;
    Some(
        line.trim_start_matches("List-Unsubscribe: <")
            .trim_end_matches('>')
            .to_owned(),
    )
}

#[tokio::test]
async fn one_click_unsubscribe_as_a_mailbox_provider_sends_it_turns_that_category_off() {
    use crate::support::{moto_url, raw_message_in_moto, ses_vars, unique, verify_domain_in_moto};
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let domain = format!("{}.example.com", unique("unsubscribe"));
    verify_domain_in_moto(&domain).await;
    let mut vars = ses_vars(&format!("noreply@{domain}"), &moto_url());
    let links = [
        ("DATABASE_URL", database.clone()),
        ("NOTIFY_AUDIT_KEY", AUDIT_KEY.to_owned()),
        ("NOTIFY_API_KEYS", API_KEY.to_owned()),
        ("NOTIFY_PUBLIC_URL", "https://notify.example.com".to_owned()),
        (
            "NOTIFY_LINK_KEY",
            "a-link-key-for-tests-0123456789abcdef".to_owned(),
        ),
    ];
    vars.extend(links.clone());
    let links: HashMap<&'static str, String> = links.into_iter().collect();
    let notify = Function::start("send-notification", &as_pairs(&vars)).await;
    let unsubscribe = Function::start("unsubscribe", &as_pairs(&links)).await;
    let preferences = Function::start("preferences", &as_pairs(&links)).await;
    let reminder = |template: notify::templates::TemplateName| json!({"template": template.as_str(), "to": {"email": "pat@example.com"}, "data": template.sample()});
    use notify::templates::TemplateName::{AppointmentReminder, PaymentFailed};

    let (status, sent) = call(
        &notify,
        reqwest::Method::POST,
        "",
        Some(reminder(AppointmentReminder)),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    let raw = raw_message_in_moto(sent["email"]["messageId"].as_str().unwrap()).await;
    assert!(
        String::from_utf8_lossy(&raw).contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    );
    let url = list_unsubscribe(&raw).expect("a List-Unsubscribe header");
    let path = url
        .strip_prefix("https://notify.example.com")
        .expect("on the public URL");
    assert!(
        !url.contains("pat@example.com"),
        "the link never holds the address: {url}"
    );

    // A billing alert carries no one-click link: it cannot be turned off.
    let (_, alert) = call(
        &notify,
        reqwest::Method::POST,
        "",
        Some(reminder(PaymentFailed)),
    )
    .await;
    let raw = crate::support::message_in_moto(alert["email"]["messageId"].as_str().unwrap()).await;
    assert!(!raw.to_string().contains("List-Unsubscribe"), "{raw}");

    let reminders_by_email = |body: &Value| {
        body["preferences"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["category"] == "care_reminders" && r["channel"] == "email")
            .map(|r| {
                (
                    r["enabled"].as_bool().unwrap(),
                    r["setBy"].as_str().map(str::to_owned),
                )
            })
            .unwrap()
    };
    // A link scanner's GET changes nothing.
    let page = reqwest::get(format!("{}{path}", unsubscribe.base_url))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(csp, notify::http::pages::PAGE_POLICY);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<form method=\"post\">")
    );
    let read = "/api/preferences?email=pat@example.com";
    let (_, before) = call(&preferences, reqwest::Method::GET, read, None).await;
    assert_eq!(reminders_by_email(&before), (true, None));

    // The mailbox provider's POST: no cookie, no credentials, the RFC 8058 body.
    let one_click = || {
        reqwest::Client::new()
            .post(format!("{}{path}", unsubscribe.base_url))
            .form(&[("List-Unsubscribe", "One-Click")])
            .send()
    };
    for _ in 0..2 {
        let response = one_click().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let (_, after) = call(&preferences, reqwest::Method::GET, read, None).await;
    assert_eq!(
        reminders_by_email(&after),
        (false, Some("unsubscribe_link".to_owned()))
    );
    let changes = unsubscribe
        .audit_events()
        .into_iter()
        .filter(|e| e["event"] == "preference_updated")
        .count();
    assert_eq!(changes, 1, "repeating it changes nothing");

    let (status, declined) = call(
        &notify,
        reqwest::Method::POST,
        "",
        Some(reminder(AppointmentReminder)),
    )
    .await;
    assert_eq!(
        (status, declined["email"]["rule"].as_str()),
        (422, Some("patient_preference")),
        "{declined}"
    );

    // An altered link is refused, by GET and by POST.
    let forged = path.replacen("token=", "token=x", 1);
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let response = reqwest::Client::new()
            .request(method, format!("{}{forged}", unsubscribe.base_url))
            .send()
            .await
            .unwrap();
        let (status, body) = answer(response).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("invalid_link")));
    }
}

/// The preference page's link in a message's text part.
fn preference_link(raw: &[u8]) -> String {
    let message = mail_parser::MessageParser::default().parse(raw).unwrap();
    let text = message.body_text(0).unwrap().into_owned();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("Choose which messages you get: "))
        .unwrap_or_else(|| panic!("no preference link in {text}"));
    line.trim().to_owned()
}

#[tokio::test]
async fn the_preference_link_in_a_notifications_footer_reads_and_changes_that_patients_choices_only()
 {
    use crate::support::{message_in_smtp_sink, smtp_vars};
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let mut vars = smtp_vars("clinic@example.com");
    let links = [
        ("DATABASE_URL", database.clone()),
        ("NOTIFY_AUDIT_KEY", AUDIT_KEY.to_owned()),
        ("NOTIFY_API_KEYS", API_KEY.to_owned()),
        ("NOTIFY_PUBLIC_URL", "https://notify.example.com".to_owned()),
        (
            "NOTIFY_LINK_KEY",
            "a-link-key-for-tests-0123456789abcdef".to_owned(),
        ),
        ("PRACTICE_NAME", "Sunrise Family Clinic".to_owned()),
    ];
    vars.extend(links.clone());
    let links: HashMap<&'static str, String> = links.into_iter().collect();
    let notify = Function::start("send-notification", &as_pairs(&vars)).await;
    let preferences = Function::start("preferences", &as_pairs(&links)).await;
    let template = notify::templates::TemplateName::AppointmentReminder;
    let email = format!("{}@example.com", crate::support::unique("page"));
    let send = json!({"template": template.as_str(), "to": {"email": email, "phone": PHONE}, "data": template.sample()});
    let (status, sent) = call(&notify, reqwest::Method::POST, "", Some(send.clone())).await;
    assert_eq!(status, 200, "{sent}");
    let raw = message_in_smtp_sink(sent["email"]["messageId"].as_str().unwrap()).await;
    let link = preference_link(&raw);
    let token = link
        .strip_prefix("https://notify.example.com/preferences.html#")
        .unwrap_or_else(|| panic!("the page on the public URL, its token in the fragment: {link}"));
    assert!(
        !link.contains(&email) && !link.contains("5551234567"),
        "{link}"
    );
    // The HTML part itself (the text part holds the same words, so the raw message cannot
    // tell them apart), its link escaped as HTML writes it.
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let html = parsed.body_html(0).expect("an HTML part").into_owned();
    assert!(
        html.contains(&format!("href=\"{link}\"")),
        "the HTML footer links it too: {html}"
    );
    assert!(
        html.contains("Choose which messages you get"),
        "the HTML footer links it too"
    );

    let with_link = |method: reqwest::Method, token: &str| {
        reqwest::Client::new()
            .request(method, format!("{}/api/preferences", preferences.base_url))
            .header("Patient-Link", token)
    };
    let read: Value = with_link(reqwest::Method::GET, token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["phone"], "+1******4567", "{read}");
    assert!(read["email"].as_str().unwrap().contains("***"), "{read}");
    assert_eq!(read["practice"]["name"], "Sunrise Family Clinic");
    assert_eq!(
        read["preferences"].as_array().unwrap().len(),
        8,
        "four categories on two channels"
    );

    // The patient turns reminders by text off: the page's change, on record as theirs.
    let change = json!({"preferences": [{"category": "care_reminders", "channel": "sms", "enabled": false}]});
    let changed = with_link(reqwest::Method::PATCH, token)
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    let row = changed["preferences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "care_reminders" && r["channel"] == "sms")
        .unwrap()
        .clone();
    assert_eq!(
        (row["enabled"].as_bool(), row["setBy"].as_str()),
        (Some(false), Some("preference_page"))
    );
    let audit = preferences
        .audit_events()
        .into_iter()
        .find(|e| e["event"] == "preference_updated")
        .expect("an audit line");
    assert_eq!(audit["caller"], "patient", "{audit}");
    let (_, next) = call(&notify, reqwest::Method::POST, "", Some(send)).await;
    assert_eq!(next["sms"]["rule"], "patient_preference", "{next}");
    assert_eq!(next["email"]["success"], true, "{next}");

    // The link names the patient: no other address, no consent, nothing without it.
    let refused = with_link(reqwest::Method::PATCH, token)
        .json(&json!({"email": "someone.else@example.com", "consent": {"at": "2026-12-01T09:00:00Z", "source": "page", "textVersion": "v1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let refused: Value = refused.json().await.unwrap();
    let fields: Vec<&str> = refused["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "consent"], "{refused}");
    let mut forged = token.to_owned();
    forged.insert(3, 'x');
    let forged = with_link(reqwest::Method::GET, &forged)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let forged: Value = forged.json().await.unwrap();
    assert_eq!(forged["code"], "invalid_link");
    let both = with_link(reqwest::Method::GET, token)
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 401);
}
