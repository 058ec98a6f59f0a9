//! Quiet hours: `NOTIFY_QUIET_HOURS` (e.g. `21:00-08:00`) in `NOTIFY_TIMEZONE` (an IANA zone,
//! default `America/New_York`), for SMS, and for email too with `NOTIFY_QUIET_HOURS_EMAIL=1`.

use super::vars::Vars;
use crate::domain::QuietHours;
use crate::error::FieldError;

pub const DEFAULT_TIMEZONE: &str = "America/New_York";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietConfig {
    /// `None`: no quiet hours (the default).
    pub window: Option<QuietHours>,
    /// The practice's zone, used when a request names none. Looked up in the time-zone
    /// database when first needed (`App::practice_zone`, and health), so that functions which
    /// never send (templates, preview, openapi) do not link the database.
    pub zone_name: String,
    pub email: bool,
}

pub(super) fn read_quiet(vars: &Vars, invalid: &mut Vec<FieldError>) -> QuietConfig {
    let window = vars.get("NOTIFY_QUIET_HOURS").and_then(|text| {
        let window = QuietHours::parse(text);
        if window.is_none() {
            invalid.push(FieldError::new(
                "NOTIFY_QUIET_HOURS",
                "must be a window of 24-hour times such as 21:00-08:00; no quiet hours are kept",
            ));
        }
        window
    });
    QuietConfig {
        window,
        zone_name: vars
            .get("NOTIFY_TIMEZONE")
            .unwrap_or(DEFAULT_TIMEZONE)
            .to_owned(),
        email: vars
            .get("NOTIFY_QUIET_HOURS_EMAIL")
            .is_some_and(|v| v == "1" || v == "true"),
    }
}
