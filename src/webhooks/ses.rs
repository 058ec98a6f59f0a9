//! SES events (event publishing's `eventType` or a notification's `notificationType`), as SNS
//! delivers them, turned into delivery events: one per recipient each concerns.

use serde::Deserialize;

use super::event_id;
use crate::domain::{DeliveryEvent, EmailAddress};
use crate::names::{Channel, EventKind, Provider};

/// An SES event as SES publishes it (event publishing's `eventType`, or a notification's
/// `notificationType`), with the parts that say what happened to whom.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesEvent {
    event_type: Option<String>,
    notification_type: Option<String>,
    #[serde(default)]
    mail: Mail,
    delivery: Option<Delivery>,
    bounce: Option<Bounce>,
    complaint: Option<Complaint>,
    reject: Option<Reject>,
    delivery_delay: Option<DeliveryDelay>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Mail {
    message_id: String,
    timestamp: String,
    destination: Vec<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    timestamp: Option<String>,
    #[serde(default)]
    recipients: Vec<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: Option<String>,
    bounce_sub_type: Option<String>,
    #[serde(default)]
    bounced_recipients: Vec<Addressed>,
    timestamp: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    #[serde(default)]
    complained_recipients: Vec<Addressed>,
    complaint_feedback_type: Option<String>,
    timestamp: Option<String>,
}

#[derive(Deserialize)]
struct Reject {
    reason: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryDelay {
    delay_type: Option<String>,
    #[serde(default)]
    delayed_recipients: Vec<Addressed>,
    timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Addressed {
    email_address: String,
}

fn addresses(list: Vec<Addressed>) -> Vec<String> {
    list.into_iter().map(|a| a.email_address).collect()
}

/// What one SES event says: its normalised type, the recipients it concerns, when, and for
/// failures the reason and whether sending again could succeed.
struct Outcome {
    kind: EventKind,
    recipients: Vec<String>,
    time: Option<String>,
    error_code: Option<String>,
    retryable: Option<bool>,
}

/// The delivery events of one SES event: one per recipient it concerns.
pub fn ses_events(
    sns_message_id: &str,
    ses_json: &str,
    recipient_hash: impl Fn(&str) -> String,
) -> Result<Vec<DeliveryEvent>, String> {
    let event: SesEvent =
        serde_json::from_str(ses_json).map_err(|e| format!("the SES event is not one: {e}"))?;
    let kind = event
        .event_type
        .as_deref()
        .or(event.notification_type.as_deref())
        .ok_or("no eventType")?;
    let mail = event.mail;
    let outcome = |kind, recipients, time, error_code, retryable| Outcome {
        kind,
        recipients,
        time,
        error_code,
        retryable,
    };
    let outcome = match kind {
        "Send" => outcome(EventKind::Sent, mail.destination, None, None, None),
        "Delivery" => {
            let delivery = event.delivery.unwrap_or_default();
            outcome(
                EventKind::Delivered,
                delivery.recipients,
                delivery.timestamp,
                None,
                None,
            )
        }
        "Bounce" => {
            let bounce = event.bounce.unwrap_or_default();
            let hard = bounce.bounce_type.as_deref() == Some("Permanent");
            let subtype = bounce
                .bounce_sub_type
                .map(|sub| format!("{}:{sub}", bounce.bounce_type.as_deref().unwrap_or("")));
            outcome(
                EventKind::Bounced,
                addresses(bounce.bounced_recipients),
                bounce.timestamp,
                subtype,
                Some(!hard),
            )
        }
        "Complaint" => {
            let complaint = event.complaint.unwrap_or_default();
            outcome(
                EventKind::Complained,
                addresses(complaint.complained_recipients),
                complaint.timestamp,
                complaint.complaint_feedback_type,
                Some(false),
            )
        }
        "Reject" => outcome(
            EventKind::Failed,
            mail.destination,
            None,
            event.reject.and_then(|r| r.reason),
            Some(false),
        ),
        "DeliveryDelay" => {
            let delay = event.delivery_delay.unwrap_or_default();
            outcome(
                EventKind::Delayed,
                addresses(delay.delayed_recipients),
                delay.timestamp,
                delay.delay_type,
                Some(true),
            )
        }
        "Rendering Failure" => outcome(
            EventKind::Failed,
            mail.destination,
            None,
            Some("RenderingFailure".to_owned()),
            Some(false),
        ),
        // Engagement events say nothing about delivery; they are accepted and not forwarded.
        "Open" | "Click" | "Subscription" => return Ok(Vec::new()),
        other => return Err(format!("unknown SES event type {other:?}")),
    };
    let time = outcome.time.unwrap_or(mail.timestamp);
    let recipients = if outcome.recipients.is_empty() {
        vec![String::new()]
    } else {
        outcome.recipients
    };
    Ok(recipients
        .iter()
        .map(|recipient| DeliveryEvent {
            id: event_id(&["ses", sns_message_id, outcome.kind.as_str(), recipient]),
            kind: outcome.kind,
            channel: Channel::Email,
            provider: Provider::AwsSes,
            provider_message_id: mail.message_id.clone(),
            recipient_hash: (!recipient.is_empty()).then(|| recipient_hash(recipient)),
            time: time.clone(),
            error_code: outcome.error_code.clone(),
            retryable: outcome.retryable,
            recipient_masked: EmailAddress::parse(recipient).ok().map(|a| a.masked()),
            batch_id: None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn ses(event: Value) -> Vec<DeliveryEvent> {
        ses_events("sns-1", &event.to_string(), |r| format!("hash({r})")).unwrap()
    }

    fn mail() -> Value {
        json!({"messageId": "ses-1", "timestamp": "2026-01-01T00:00:00.000Z", "destination": ["a@example.com"]})
    }

    #[test]
    fn each_ses_event_type_is_normalised() {
        let cases = [
            (
                json!({"eventType": "Send", "mail": mail()}),
                EventKind::Sent,
                None,
            ),
            (
                json!({"eventType": "Delivery", "mail": mail(), "delivery": {"timestamp": "2026-01-01T00:00:01.000Z", "recipients": ["a@example.com"]}}),
                EventKind::Delivered,
                None,
            ),
            (
                json!({"eventType": "Bounce", "mail": mail(), "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": [{"emailAddress": "a@example.com"}]}}),
                EventKind::Bounced,
                Some(false),
            ),
            (
                json!({"eventType": "Bounce", "mail": mail(), "bounce": {"bounceType": "Transient", "bounceSubType": "MailboxFull", "bouncedRecipients": [{"emailAddress": "a@example.com"}]}}),
                EventKind::Bounced,
                Some(true),
            ),
            (
                json!({"eventType": "Complaint", "mail": mail(), "complaint": {"complainedRecipients": [{"emailAddress": "a@example.com"}], "complaintFeedbackType": "abuse"}}),
                EventKind::Complained,
                Some(false),
            ),
            (
                json!({"eventType": "Reject", "mail": mail(), "reject": {"reason": "Bad content"}}),
                EventKind::Failed,
                Some(false),
            ),
            (
                json!({"eventType": "DeliveryDelay", "mail": mail(), "deliveryDelay": {"delayType": "MailboxFull", "delayedRecipients": [{"emailAddress": "a@example.com"}]}}),
                EventKind::Delayed,
                Some(true),
            ),
            (
                json!({"eventType": "Rendering Failure", "mail": mail(), "failure": {"errorMessage": "x"}}),
                EventKind::Failed,
                Some(false),
            ),
            (
                json!({"notificationType": "Bounce", "mail": mail(), "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "a@example.com"}]}}),
                EventKind::Bounced,
                Some(false),
            ),
        ];
        for (event, kind, retryable) in cases {
            let events = ses(event.clone());
            assert_eq!(events.len(), 1, "{event}");
            let e = &events[0];
            assert_eq!((e.kind, e.retryable), (kind, retryable), "{event}");
            assert_eq!(
                (e.channel, e.provider, e.provider_message_id.as_str()),
                (Channel::Email, Provider::AwsSes, "ses-1")
            );
            assert_eq!(e.recipient_hash.as_deref(), Some("hash(a@example.com)"));
        }
        let bounced = ses(
            json!({"eventType": "Bounce", "mail": mail(), "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": [{"emailAddress": "a@example.com"}]}}),
        );
        assert_eq!(bounced[0].error_code.as_deref(), Some("Permanent:General"));
    }

    #[test]
    fn engagement_events_are_ignored_and_unknown_ones_refused() {
        assert!(
            ses_events("x", r#"{"eventType": "Open", "mail": {}}"#, |r| r
                .to_owned())
            .unwrap()
            .is_empty()
        );
        assert!(
            ses_events("x", r#"{"eventType": "Teleport", "mail": {}}"#, |r| r
                .to_owned())
            .is_err()
        );
        assert!(ses_events("x", "not json", |r| r.to_owned()).is_err());
    }
}
