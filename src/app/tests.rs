//! `App` with stub providers (as lettre's stub transport: each records what it was given and
//! answers an outcome chosen by the test): failover order, the may-fail-over rule, recipient
//! caps and the audit event, with no emulator.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::{App, Idempotency, RequestContext, Senders, Sending};
use crate::config::Config;
use crate::domain::{EmailAddress, EmailMessage, PhoneNumber, Sent, SmsMessage};
use crate::email::EmailSender;
use crate::error::{Error, ErrorCode};
use crate::names::Provider;
use crate::sms::SmsSender;
use crate::store::StoredAnswer;
use crate::support::{BoxFuture, NonEmpty};

/// Sends as the HTTP layer does, keeping `"first"` as the answer for replays.
trait Sends {
    async fn mail(&self, message: &EmailMessage, context: &RequestContext) -> Result<Sent, Error>;
    async fn text(&self, message: &SmsMessage, context: &RequestContext) -> Result<Sent, Error>;
}

impl App {
    /// The outcome once its record is written, with `"first"` as the answer kept.
    async fn kept(&self, sending: Sending<Result<Sent, Error>>) -> Result<Sent, Error> {
        match sending {
            Sending::Done(result, unrecorded) => {
                let answer = StoredAnswer {
                    status: 200,
                    body: "first".into(),
                };
                let answer = unrecorded.keeps_answer().then_some(answer);
                self.record(unrecorded, answer).await?;
                result
            }
            Sending::Replay(answer) => panic!("replayed {answer:?}"),
        }
    }
}

impl Sends for App {
    async fn mail(&self, message: &EmailMessage, context: &RequestContext) -> Result<Sent, Error> {
        self.kept(self.send_email(message, context).await?).await
    }

    async fn text(&self, message: &SmsMessage, context: &RequestContext) -> Result<Sent, Error> {
        self.kept(self.send_sms(message, context).await?).await
    }
}

/// Records each message and answers the next scripted outcome (then `Sent` for any more).
#[derive(Debug)]
struct Stub<M> {
    provider: Provider,
    outcomes: Mutex<VecDeque<Result<Sent, Error>>>,
    sent: Arc<Mutex<Vec<M>>>,
}

impl<M: Clone> Stub<M> {
    fn new(provider: Provider, outcomes: Vec<Result<Sent, Error>>) -> (Self, Arc<Mutex<Vec<M>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let stub = Self {
            provider,
            outcomes: Mutex::new(outcomes.into()),
            sent: Arc::clone(&sent),
        };
        (stub, sent)
    }

    fn answer(&self, message: &M) -> Result<Sent, Error> {
        self.sent.lock().unwrap().push(message.clone());
        let next = self.outcomes.lock().unwrap().pop_front();
        next.unwrap_or_else(|| Ok(Sent::live(format!("{}-id", self.provider))))
    }
}

impl EmailSender for Stub<EmailMessage> {
    fn provider(&self) -> Provider {
        self.provider
    }

    fn send<'a>(&'a self, message: &'a EmailMessage) -> BoxFuture<'a, Result<Sent, Error>> {
        Box::pin(std::future::ready(self.answer(message)))
    }
}

impl SmsSender for Stub<SmsMessage> {
    fn provider(&self) -> Provider {
        self.provider
    }

    fn send<'a>(&'a self, message: &'a SmsMessage) -> BoxFuture<'a, Result<Sent, Error>> {
        Box::pin(std::future::ready(self.answer(message)))
    }
}

fn error(code: ErrorCode) -> Error {
    Error::new(code, "stub failure")
}

type Sink = Arc<Mutex<Vec<Value>>>;

/// An app whose email goes to `email` providers in order and whose SMS goes to one stub, with
/// its audit trail recorded.
fn app(
    vars: &[(&str, &str)],
    email: Vec<Stub<EmailMessage>>,
    sms: Stub<SmsMessage>,
) -> (App, Sink) {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut app = App::new(Config::from_vars(&vars));
    let email = email
        .into_iter()
        .map(|s| Box::new(s) as Box<dyn EmailSender>)
        .collect();
    let email = Senders::Live(NonEmpty::from_vec(email).expect("at least one email stub"));
    let sms = Senders::Live(NonEmpty {
        first: Box::new(sms) as Box<dyn SmsSender>,
        rest: Vec::new(),
    });
    let sink = Sink::default();
    app.auditor.recorded = Some(Arc::clone(&sink));
    (app.with_senders(email, sms), sink)
}

fn email_to(addresses: &[&str]) -> EmailMessage {
    EmailMessage {
        to: addresses
            .iter()
            .map(|a| EmailAddress::parse(a).unwrap())
            .collect(),
        subject: "Your invoice".into(),
        text: Some("A private body".into()),
        html: None,
        reply_to: Vec::new(),
        attachments: Vec::new(),
        category: None,
        list_unsubscribe: None,
    }
}

fn sms_to(number: &str) -> SmsMessage {
    SmsMessage {
        to: PhoneNumber::parse(number).unwrap(),
        body: "A private text".into(),
        category: None,
    }
}

fn unused_sms() -> Stub<SmsMessage> {
    Stub::new(Provider::Twilio, Vec::new()).0
}

#[tokio::test]
async fn a_provider_down_fails_over_to_the_next_which_is_named_with_the_one_that_failed() {
    let (ses, ses_sent) = Stub::new(
        Provider::AwsSes,
        vec![Err(error(ErrorCode::ProviderUnreachable))],
    );
    let (smtp, smtp_sent) = Stub::new(Provider::Smtp, Vec::new());
    let (app, _) = app(&[], vec![ses, smtp], unused_sms());
    let sent = app
        .mail(&email_to(&["pat@example.com"]), &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(sent.provider, Some(Provider::Smtp));
    assert_eq!(sent.failed_over.len(), 1);
    assert_eq!(
        (sent.failed_over[0].provider, sent.failed_over[0].code),
        (Provider::AwsSes, ErrorCode::ProviderUnreachable)
    );
    assert_eq!(ses_sent.lock().unwrap().len(), 1);
    assert_eq!(smtp_sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_rejected_message_or_an_unknown_acceptance_never_fails_over() {
    for first in [
        error(ErrorCode::MessageRejected),
        error(ErrorCode::ProviderTimeout).with_acceptance_unknown(),
    ] {
        let code = first.code;
        let (ses, _) = Stub::new(Provider::AwsSes, vec![Err(first)]);
        let (smtp, smtp_sent) = Stub::new(Provider::Smtp, Vec::new());
        let (app, _) = app(&[], vec![ses, smtp], unused_sms());
        let failed = app
            .mail(&email_to(&["pat@example.com"]), &RequestContext::new())
            .await
            .unwrap_err();
        assert_eq!(
            (failed.code, failed.provider),
            (code, Some(Provider::AwsSes))
        );
        assert!(
            smtp_sent.lock().unwrap().is_empty(),
            "{code} was failed over"
        );
    }
}

#[tokio::test]
async fn when_every_provider_fails_the_last_error_is_answered_with_the_earlier_attempts() {
    let (ses, _) = Stub::new(
        Provider::AwsSes,
        vec![Err(error(ErrorCode::ProviderThrottled))],
    );
    let (smtp, _) = Stub::new(
        Provider::Smtp,
        vec![Err(error(ErrorCode::ProviderAuthFailed))],
    );
    let (app, _) = app(&[], vec![ses, smtp], unused_sms());
    let failed = app
        .mail(&email_to(&["pat@example.com"]), &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(failed.code, ErrorCode::ProviderAuthFailed);
    assert_eq!(failed.provider, Some(Provider::Smtp));
    assert_eq!(failed.attempts[0].provider, Provider::AwsSes);
}

#[tokio::test]
async fn a_recipient_over_the_hourly_sms_cap_is_refused_before_the_provider_is_asked() {
    let (twilio, twilio_sent) = Stub::new(Provider::Twilio, Vec::new());
    let (ses, _) = Stub::new(Provider::AwsSes, Vec::new());
    let (app, _) = app(
        &[("NOTIFY_SMS_PER_RECIPIENT_PER_HOUR", "2")],
        vec![ses],
        twilio,
    );
    let context = RequestContext::new();
    for _ in 0..2 {
        app.text(&sms_to("+15551234567"), &context).await.unwrap();
    }
    let capped = app
        .text(&sms_to("+15551234567"), &context)
        .await
        .unwrap_err();
    assert_eq!(capped.code, ErrorCode::RecipientRateLimited);
    assert_eq!(twilio_sent.lock().unwrap().len(), 2);
    assert!(app.text(&sms_to("+15557654321"), &context).await.is_ok());
}

#[tokio::test]
async fn one_capped_recipient_of_an_email_stops_the_whole_email() {
    let (ses, ses_sent) = Stub::new(Provider::AwsSes, Vec::new());
    let (app, _) = app(
        &[("NOTIFY_EMAILS_PER_RECIPIENT_PER_HOUR", "1")],
        vec![ses],
        unused_sms(),
    );
    let context = RequestContext::new();
    app.mail(&email_to(&["a@example.com"]), &context)
        .await
        .unwrap();
    let capped = app
        .mail(&email_to(&["b@example.com", "a@example.com"]), &context)
        .await
        .unwrap_err();
    assert_eq!(capped.code, ErrorCode::RecipientRateLimited);
    assert_eq!(ses_sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_audit_event_names_the_attempt_and_masks_the_recipient_without_any_content() {
    let (ses, _) = Stub::new(
        Provider::AwsSes,
        vec![Err(error(ErrorCode::ProviderUnreachable))],
    );
    let (smtp, _) = Stub::new(Provider::Smtp, Vec::new());
    let (app, audit) = app(
        &[("NOTIFY_AUDIT_KEY", "an-audit-key-of-at-least-32-characters")],
        vec![ses, smtp],
        unused_sms(),
    );
    let context = RequestContext {
        request_id: "req-1".into(),
        ..RequestContext::new()
    };
    app.mail(&email_to(&["patient@example.com"]), &context)
        .await
        .unwrap();
    let events = audit.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["event"], "send_attempt");
    assert_eq!(event["request_id"], "req-1");
    assert_eq!(
        (event["channel"].as_str(), event["provider"].as_str()),
        (Some("email"), Some("smtp"))
    );
    assert_eq!(
        (event["mode"].as_str(), event["outcome"].as_str()),
        (Some("live"), Some("sent"))
    );
    assert_eq!(event["message_id"], "smtp-id");
    assert_eq!(event["failed_over"][0]["provider"], "aws-ses");
    assert_eq!(event["failed_over"][0]["code"], "provider_unreachable");
    assert_eq!(event["recipients"][0]["hash"].as_str().unwrap().len(), 64);
    let line = event.to_string();
    for private in ["patient@example.com", "Your invoice", "A private body"] {
        assert!(!line.contains(private), "{private} is in the audit event");
    }
}

#[tokio::test]
async fn a_failed_sms_is_audited_with_its_code_and_status() {
    let (twilio, _) = Stub::new(
        Provider::Twilio,
        vec![Err(error(ErrorCode::RecipientOptedOut))],
    );
    let (ses, _) = Stub::new(Provider::AwsSes, Vec::new());
    let (app, audit) = app(&[], vec![ses], twilio);
    let failed = app
        .text(&sms_to("+15551234567"), &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(failed.provider, Some(Provider::Twilio));
    let event = audit.lock().unwrap()[0].clone();
    assert_eq!(event["outcome"], "failed");
    assert_eq!(event["error_code"], "recipient_opted_out");
    assert_eq!(event["status"], 422);
    assert!(!event.to_string().contains("5551234567"));
}

#[tokio::test]
async fn a_retry_with_the_same_key_is_answered_from_the_first_without_sending_again() {
    let (twilio, twilio_sent) = Stub::new(Provider::Twilio, Vec::new());
    let (ses, _) = Stub::new(Provider::AwsSes, Vec::new());
    let (app, audit) = app(&[], vec![ses], twilio);
    let context = RequestContext {
        idempotency: Some(Idempotency {
            key: "retry-1".into(),
            request_hash: "hash-a".into(),
        }),
        ..RequestContext::new()
    };
    let first = app.text(&sms_to("+15551234567"), &context).await.unwrap();
    assert!(first.id.as_deref().is_some_and(|id| id.starts_with("msg_")));
    let again = app
        .send_sms(&sms_to("+15551234567"), &context)
        .await
        .unwrap();
    assert!(
        matches!(&again, Sending::Replay(answer) if answer.body == "first"),
        "{again:?}"
    );
    assert_eq!(twilio_sent.lock().unwrap().len(), 1);
    assert_eq!(
        audit.lock().unwrap().len(),
        1,
        "a replay is not a send attempt"
    );
    let other = RequestContext {
        idempotency: Some(Idempotency {
            key: "retry-1".into(),
            request_hash: "hash-b".into(),
        }),
        ..RequestContext::new()
    };
    let reused = app.text(&sms_to("+15551234567"), &other).await.unwrap_err();
    assert_eq!(reused.code, ErrorCode::IdempotencyKeyReused);
}

#[tokio::test]
async fn every_attempt_is_in_the_message_log_with_its_recipients_masked_and_hashed() {
    let (twilio, _) = Stub::new(
        Provider::Twilio,
        vec![Err(error(ErrorCode::RecipientOptedOut))],
    );
    let (ses, _) = Stub::new(Provider::AwsSes, Vec::new());
    let (app, _) = app(&[], vec![ses], twilio);
    let sent = app
        .mail(&email_to(&["pat@example.com"]), &RequestContext::new())
        .await
        .unwrap();
    app.text(&sms_to("+15551234567"), &RequestContext::new())
        .await
        .unwrap_err();
    let logged = app
        .store()
        .message(sent.id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(logged.status.as_str(), "sent");
    assert_eq!(logged.provider_message_id.as_deref(), Some("aws-ses-id"));
    assert_eq!(
        logged.recipients[0].hash,
        app.recipient_hash("pat@example.com")
    );
    assert!(!format!("{logged:?}").contains("pat@example.com"));
    let by_provider_id = app.store().message("aws-ses-id").await.unwrap().unwrap();
    assert_eq!(by_provider_id.id, logged.id);
    let filter = crate::store::MessageFilter {
        status: Some(crate::names::MessageStatus::Failed),
        limit: 10,
        ..Default::default()
    };
    let failed = app.store().messages(&filter).await.unwrap().messages;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error_code.as_deref(), Some("recipient_opted_out"));
}

#[tokio::test]
async fn a_dispatch_with_nothing_to_do_reports_itself_idle_and_one_that_sent_does_not() {
    let app = App::new(Config::from_vars(&HashMap::new()));
    let idle = app.dispatch().await.unwrap();
    assert!(idle.is_idle(), "{idle:?}");
    let sent = super::Dispatched {
        scheduled_sent: 1,
        ..idle
    };
    assert!(!sent.is_idle());
}
