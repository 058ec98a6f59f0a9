//! The value types of template data: money shown as money, dates and times as people read
//! them, and the last four digits of a card. Each parses (and so validates) from JSON.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use time::macros::format_description;

/// An amount in US dollars, held in cents so that it is never rounded. Reads `100`, `100.5`,
/// `"1234.50"` or `"$1,234.50"`; shows `$1,234.50`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    cents: u64,
}

/// Larger amounts are a bug in the calling app, not a patient's bill.
const MAX_CENTS: u64 = 10_000_000_000;

impl Money {
    pub fn parse(input: &str) -> Result<Self, String> {
        let cleaned: String = input
            .trim()
            .trim_start_matches('$')
            .chars()
            .filter(|c| *c != ',')
            .collect();
        let invalid = || format!("{input:?} is not an amount of money such as 1234.50");
        let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || fraction.len() > 2
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let whole: u64 = whole.parse().map_err(|_| invalid())?;
        let fraction: u64 = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
        let cents = whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(fraction))
            .filter(|c| *c <= MAX_CENTS)
            .ok_or_else(|| format!("{input:?} is larger than any invoice this API sends"))?;
        Ok(Self { cents })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dollars = (self.cents / 100).to_string();
        let mut grouped = String::with_capacity(dollars.len() + dollars.len() / 3);
        for (i, digit) in dollars.chars().enumerate() {
            if i > 0 && (dollars.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        write!(f, "${grouped}.{:02}", self.cents % 100)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "an amount such as 1234.50 or \"1234.50\"")]
        enum Raw {
            Number(serde_json::Number),
            Text(String),
        }
        let text = match Raw::deserialize(deserializer)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        Money::parse(&text).map_err(de::Error::custom)
    }
}

/// A calendar date, read as `2025-10-28`, shown as `Tuesday, October 28, 2025` (or
/// `Tue, Oct 28` where space is short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(time::Date);

impl Date {
    pub fn parse(input: &str) -> Result<Self, String> {
        time::Date::parse(input.trim(), format_description!("[year]-[month]-[day]"))
            .map(Self)
            .map_err(|_| format!("{input:?} is not a date in the form 2025-10-28"))
    }

    /// `Tue, Oct 28`, for SMS.
    pub fn short(&self) -> String {
        self.0
            .format(format_description!(
                "[weekday repr:short], [month repr:short] [day padding:none]"
            ))
            .unwrap_or_default()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let long = format_description!("[weekday], [month repr:long] [day padding:none], [year]");
        f.write_str(&self.0.format(long).map_err(|_| fmt::Error)?)
    }
}

/// A time of day, read as `14:30`, shown as `2:30 PM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay(time::Time);

impl TimeOfDay {
    pub fn parse(input: &str) -> Result<Self, String> {
        time::Time::parse(input.trim(), format_description!("[hour]:[minute]"))
            .map(Self)
            .map_err(|_| format!("{input:?} is not a 24-hour time in the form 14:30"))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let twelve_hour = format_description!("[hour repr:12 padding:none]:[minute] [period]");
        f.write_str(&self.0.format(twelve_hour).map_err(|_| fmt::Error)?)
    }
}

/// The last four digits of a card or account: all a patient needs to recognise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Last4(String);

impl Last4 {
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        if input.len() == 4 && input.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(input.to_owned()))
        } else {
            Err(format!(
                "{input:?} is not the last four digits of a card, such as \"4242\""
            ))
        }
    }
}

impl fmt::Display for Last4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A link into the practice's portal: https only, so a template never carries a link that
/// could be read or rewritten on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLink(String);

impl PortalLink {
    pub fn parse(input: &str) -> Result<Self, String> {
        match reqwest::Url::parse(input.trim()) {
            Ok(url) if url.scheme() == "https" && url.has_host() => Ok(Self(url.to_string())),
            _ => Err(format!("{input:?} is not an https link")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PortalLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A short line of text such as a name, an invoice number or a place: 1 to 100 characters,
/// no line breaks (they would break a subject line or an SMS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortText(String);

impl ShortText {
    const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        if input.is_empty() {
            Err("must not be blank".into())
        } else if input.chars().count() > Self::MAX_CHARS {
            Err(format!("is longer than {} characters", Self::MAX_CHARS))
        } else if input.chars().any(char::is_control) {
            Err("must be one line, without control characters".into())
        } else {
            Ok(Self(input.to_owned()))
        }
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `Deserialize` through each type's `parse`, so a bad value names what was expected.
macro_rules! deserialize_by_parsing {
    ($($type:ty),*) => {$(
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                <$type>::parse(&text).map_err(de::Error::custom)
            }
        }
    )*};
}
deserialize_by_parsing!(Date, TimeOfDay, Last4, PortalLink, ShortText);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_shown_with_a_dollar_sign_thousands_separators_and_cents() {
        for (input, shown) in [
            ("100", "$100.00"),
            ("100.5", "$100.50"),
            ("1234.5", "$1,234.50"),
            ("$1,234,567.89", "$1,234,567.89"),
            ("0.07", "$0.07"),
        ] {
            assert_eq!(Money::parse(input).unwrap().to_string(), shown, "{input}");
        }
    }

    #[test]
    fn money_reads_json_numbers_and_strings_alike() {
        let from_number: Money = serde_json::from_str("1234.50").unwrap();
        let from_text: Money = serde_json::from_str("\"1234.50\"").unwrap();
        assert_eq!(from_number, from_text);
        assert_eq!(
            serde_json::from_str::<Money>("100").unwrap().to_string(),
            "$100.00"
        );
    }

    #[test]
    fn impossible_amounts_are_refused() {
        for bad in ["", "-5", "1.234", "abc", "1e3", "12.3.4", "99999999999"] {
            assert!(Money::parse(bad).is_err(), "accepted {bad:?}");
        }
        assert!(serde_json::from_str::<Money>("-1").is_err());
        assert!(serde_json::from_str::<Money>("true").is_err());
    }

    #[test]
    fn dates_and_times_are_shown_as_people_read_them() {
        let date = Date::parse("2025-10-28").unwrap();
        assert_eq!(date.to_string(), "Tuesday, October 28, 2025");
        assert_eq!(date.short(), "Tue, Oct 28");
        assert_eq!(TimeOfDay::parse("14:30").unwrap().to_string(), "2:30 PM");
        assert_eq!(TimeOfDay::parse("09:05").unwrap().to_string(), "9:05 AM");
        assert!(Date::parse("10/28/2025").is_err());
        assert!(Date::parse("2025-02-30").is_err());
        assert!(TimeOfDay::parse("25:00").is_err());
    }

    #[test]
    fn last_four_digits_and_portal_links_are_checked() {
        assert_eq!(Last4::parse("4242").unwrap().to_string(), "4242");
        assert!(Last4::parse("42424242").is_err());
        assert!(PortalLink::parse("https://portal.example.com/invoices/1").is_ok());
        assert!(PortalLink::parse("http://portal.example.com").is_err());
        assert!(PortalLink::parse("javascript:alert(1)").is_err());
    }
}
