//! When a send goes: `sendAt` (an RFC 3339 time with an offset, from one minute to 30 days
//! ahead) makes it a scheduled one; `timezone` (the patient's IANA zone) and `urgent` decide
//! whether quiet hours hold it back.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, FieldError};

/// The timing fields as the contract describes them (each send request carries the three).
pub(super) const SEND_AT_DOC: &str = "Send later: an RFC 3339 time with an offset, from one \
    minute to 30 days ahead (202, scheduled); now when absent.";
pub(super) const TIMEZONE_DOC: &str = "The patient's IANA time zone (e.g. America/Chicago), for \
    quiet hours; the practice's (NOTIFY_TIMEZONE) when absent.";
pub(super) const URGENT_DOC: &str = "true: send even inside quiet hours.";

/// The earliest and latest a send may be scheduled, from now.
pub const SCHEDULE_WINDOW: (std::time::Duration, std::time::Duration) = (
    std::time::Duration::from_secs(60),
    std::time::Duration::from_secs(30 * 24 * 3600),
);

/// A request's timing fields, parsed.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    pub send_at: Option<OffsetDateTime>,
    pub zone: Option<jiff::tz::TimeZone>,
    pub urgent: bool,
}

/// A send request's own `sendAt`, `timezone` and `urgent`, as sent.
pub trait Timed {
    fn timing_fields(&self) -> (Option<&str>, Option<&str>, Option<bool>);

    /// The fields checked (every problem named at once).
    fn timing(&self) -> Result<Timing, Error> {
        let (send_at, timezone, urgent) = self.timing_fields();
        timing(send_at, timezone, urgent)
    }
}

/// Each send request carries the three fields under the same names.
macro_rules! timed {
    ($($request:ty),*) => {
        $(impl Timed for $request {
            fn timing_fields(&self) -> (Option<&str>, Option<&str>, Option<bool>) {
                (self.send_at.as_deref(), self.timezone.as_deref(), self.urgent)
            }
        })*
    };
}

timed!(
    super::SendEmailRequest,
    super::SendSmsRequest,
    super::SendNotificationRequest
);

/// `sendAt`, `timezone` and `urgent`, each checked (every problem named at once).
fn timing(
    send_at_field: Option<&str>,
    timezone: Option<&str>,
    urgent: Option<bool>,
) -> Result<Timing, Error> {
    let mut problems = Vec::new();
    let send_at = send_at(send_at_field).unwrap_or_else(|mut error| {
        problems.append(&mut error.details);
        None
    });
    let zone = timezone.and_then(|name| {
        let zone = jiff::tz::TimeZone::get(name).ok();
        if zone.is_none() {
            problems.push(FieldError::new(
                "timezone",
                "must be an IANA time zone such as America/Chicago",
            ));
        }
        zone
    });
    if !problems.is_empty() {
        return Err(Error::invalid_fields(problems));
    }
    Ok(Timing {
        send_at,
        zone,
        urgent: urgent.unwrap_or(false),
    })
}

/// The time a request asks to be sent at, checked against the window; `None` for now.
pub fn send_at(value: Option<&str>) -> Result<Option<OffsetDateTime>, Error> {
    let Some(value) = value else {
        return Ok(None);
    };
    let (earliest, latest) = SCHEDULE_WINDOW;
    let problem = |why: &str| Error::invalid_fields(vec![FieldError::new("sendAt", why)]);
    let at = OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        problem("must be an RFC 3339 time with an offset, such as 2026-12-24T09:00:00-05:00")
    })?;
    let now = OffsetDateTime::now_utc();
    if at < now + earliest || at > now + latest {
        return Err(problem(
            "must be from one minute to 30 days ahead (for now, leave it out)",
        ));
    }
    Ok(Some(at))
}

/// The body of `PATCH /api/messages/{id}`: `{"sendAt": "..."}`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a JSON object with sendAt")]
pub struct RescheduleRequest {
    #[serde(rename = "sendAt")]
    #[schemars(required, with = "String", extend("format" = "date-time"))]
    #[schemars(
        description = "The new time: an RFC 3339 time with an offset, from one minute to 30 days ahead."
    )]
    pub send_at: Option<String>,
}

impl RescheduleRequest {
    /// The new time, which is required.
    pub fn parse(self) -> Result<OffsetDateTime, Error> {
        send_at(self.send_at.as_deref())?.ok_or_else(|| {
            Error::invalid_fields(vec![FieldError::new(
                "sendAt",
                "is required: the new time, from one minute to 30 days ahead",
            )])
        })
    }
}

/// The request as its scheduled run takes it: the same JSON without `sendAt`.
pub fn without_send_at(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut fields)) => {
            fields.remove("sendAt");
            serde_json::to_vec(&fields).unwrap_or_else(|_| body.to_vec())
        }
        _ => body.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ahead(seconds: i64) -> String {
        (OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
            .format(&Rfc3339)
            .unwrap()
    }

    #[test]
    fn send_at_is_a_time_with_an_offset_from_a_minute_to_thirty_days_ahead() {
        assert_eq!(send_at(None).unwrap(), None);
        assert!(send_at(Some(&ahead(3600))).unwrap().is_some());
        for bad in [
            ahead(10),
            ahead(31 * 24 * 3600),
            "tomorrow".into(),
            "2026-12-24T09:00:00".into(),
        ] {
            let error = send_at(Some(&bad)).unwrap_err();
            assert_eq!(error.details[0].field, "sendAt", "{bad}");
        }
    }

    #[test]
    fn the_scheduled_request_is_the_same_json_without_send_at() {
        let body = br#"{"to":"+15551234567","message":"Hi","sendAt":"2026-12-24T09:00:00Z"}"#;
        let kept: serde_json::Value = serde_json::from_slice(&without_send_at(body)).unwrap();
        assert_eq!(
            kept,
            serde_json::json!({"to": "+15551234567", "message": "Hi"})
        );
    }
}
