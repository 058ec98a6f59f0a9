//! Twilio status callbacks: `X-Twilio-Signature` verification (HMAC-SHA1 over the URL Twilio
//! called and the sorted form parameters, keyed by the auth token) and the statuses as events.

use base64::Engine;
use ring::hmac;

use super::event_id;
use crate::domain::{DeliveryEvent, PhoneNumber};
use crate::names::{Channel, EventKind, Provider};

/// Whether `signature` is Twilio's signature of `url` and `params`. Twilio may have signed the
/// URL with or without the scheme's default port, so both forms are tried; comparison is in
/// constant time.
pub fn twilio_signature_is_valid(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let parameters: String = sorted.iter().map(|(k, v)| format!("{k}{v}")).collect();
    url_variants(url)
        .iter()
        .any(|url| hmac::verify(&key, format!("{url}{parameters}").as_bytes(), &signature).is_ok())
}

/// The URL as given, without its default port, and with it.
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    if let Ok(parsed) = reqwest::Url::parse(url) {
        // `Url` drops a default port, so its text is the form without one.
        let without = parsed.to_string();
        if let (Some(port), Some(host)) = (parsed.port_or_known_default(), parsed.host_str()) {
            let with = without.replacen(&format!("://{host}"), &format!("://{host}:{port}"), 1);
            variants.push(with);
        }
        variants.push(without);
    }
    variants
}

/// The event a verified status callback (or an inbound STOP) reports; `None` for statuses that
/// say nothing new (`queued`, `accepted`, `sending`, a plain inbound message).
pub fn twilio_event(
    params: &[(String, String)],
    recipient_hash: impl Fn(&str) -> String,
    now: String,
) -> Option<DeliveryEvent> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let sid = get("MessageSid").or_else(|| get("SmsSid"))?;
    let error_code = get("ErrorCode")
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let (kind, recipient) = if get("OptOutType").is_some_and(|t| t.eq_ignore_ascii_case("STOP")) {
        // An inbound STOP: the patient is the sender.
        (EventKind::OptedOut, get("From"))
    } else {
        let kind = match get("MessageStatus").or_else(|| get("SmsStatus"))? {
            "sent" => EventKind::Sent,
            "delivered" => EventKind::Delivered,
            "read" => EventKind::Read,
            "undelivered" | "failed" if error_code.as_deref() == Some("21610") => {
                EventKind::OptedOut
            }
            "undelivered" | "failed" => EventKind::Failed,
            _ => return None,
        };
        (kind, get("To"))
    };
    let retryable = match kind {
        EventKind::Failed => Some(twilio_error_is_retryable(error_code.as_deref())),
        EventKind::OptedOut => Some(false),
        _ => None,
    };
    Some(DeliveryEvent {
        id: event_id(&["twilio", sid, kind.as_str()]),
        kind,
        channel: Channel::Sms,
        provider: Provider::Twilio,
        provider_message_id: sid.to_owned(),
        recipient_hash: recipient.map(recipient_hash),
        time: now,
        error_code,
        retryable,
        recipient_masked: recipient
            .and_then(|r| PhoneNumber::parse(r).ok())
            .map(|n| n.masked()),
        batch_id: None,
    })
}

/// Twilio's delivery errors: 30003 (handset unreachable), 30001 (queue overflow) and 30008
/// (unknown) may clear up; 30005 (unknown number), 30006 (landline), 30004 (blocked) and the
/// carrier and content refusals never will.
fn twilio_error_is_retryable(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("30001" | "30003" | "30008" | "30009" | "30017") | None
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Twilio's published example (its webhook-security documentation and SDK test suites).
    const EXAMPLE_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const EXAMPLE_SIGNATURE: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

    fn example_params() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    #[test]
    fn twilios_published_example_verifies() {
        assert!(twilio_signature_is_valid(
            "12345",
            EXAMPLE_URL,
            &example_params(),
            EXAMPLE_SIGNATURE
        ));
    }

    #[test]
    fn a_forged_signature_a_changed_parameter_and_a_wrong_url_are_refused() {
        assert!(!twilio_signature_is_valid(
            "12345",
            EXAMPLE_URL,
            &example_params(),
            "Zm9yZ2VkIHNpZ25hdHVyZQ=="
        ));
        assert!(!twilio_signature_is_valid(
            "12345",
            EXAMPLE_URL,
            &example_params(),
            "not base64!"
        ));
        let mut changed = example_params();
        changed[2].1 = "9999".into();
        assert!(!twilio_signature_is_valid(
            "12345",
            EXAMPLE_URL,
            &changed,
            EXAMPLE_SIGNATURE
        ));
        assert!(!twilio_signature_is_valid(
            "12345",
            "https://mycompany.com/other.php?foo=1&bar=2",
            &example_params(),
            EXAMPLE_SIGNATURE
        ));
        assert!(!twilio_signature_is_valid(
            "54321",
            EXAMPLE_URL,
            &example_params(),
            EXAMPLE_SIGNATURE
        ));
    }

    #[test]
    fn the_signature_holds_whether_or_not_the_default_port_is_written() {
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert!(twilio_signature_is_valid(
            "12345",
            with_port,
            &example_params(),
            EXAMPLE_SIGNATURE
        ));
    }

    fn event(pairs: &[(&str, &str)]) -> Option<DeliveryEvent> {
        twilio_event(
            &params(pairs),
            |r| format!("hash({r})"),
            "2026-01-01T00:00:00Z".into(),
        )
    }

    #[test]
    fn statuses_become_events_with_retry_advice() {
        let delivered = event(&[
            ("MessageSid", "SM1"),
            ("MessageStatus", "delivered"),
            ("To", "+15551234567"),
        ])
        .unwrap();
        assert_eq!(
            (delivered.kind, delivered.retryable),
            (EventKind::Delivered, None)
        );
        assert_eq!(
            delivered.recipient_hash.as_deref(),
            Some("hash(+15551234567)")
        );
        let unreachable = event(&[
            ("MessageSid", "SM1"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30003"),
        ])
        .unwrap();
        assert_eq!(
            (unreachable.kind, unreachable.retryable),
            (EventKind::Failed, Some(true))
        );
        for code in ["30005", "30006"] {
            let never = event(&[
                ("MessageSid", "SM1"),
                ("MessageStatus", "failed"),
                ("ErrorCode", code),
            ])
            .unwrap();
            assert_eq!(never.retryable, Some(false), "{code}");
        }
        assert!(event(&[("MessageSid", "SM1"), ("MessageStatus", "queued")]).is_none());
    }

    #[test]
    fn a_stop_reply_is_an_opt_out_of_the_sender() {
        let stop = event(&[
            ("MessageSid", "SM9"),
            ("From", "+15551234567"),
            ("Body", "STOP"),
            ("OptOutType", "STOP"),
        ])
        .unwrap();
        assert_eq!(
            (stop.kind, stop.retryable),
            (EventKind::OptedOut, Some(false))
        );
        assert_eq!(stop.recipient_hash.as_deref(), Some("hash(+15551234567)"));
    }

    #[test]
    fn the_same_report_gets_the_same_id() {
        let a = event(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")]).unwrap();
        let b = event(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")]).unwrap();
        let c = event(&[("MessageSid", "SM1"), ("MessageStatus", "sent")]).unwrap();
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
    }
}
