//! Quiet hours: a daily window of local time (`21:00-08:00`, across midnight or not) in which
//! no patient is texted, and when a message that would fall in it goes instead.

use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::TimeZone;

/// A daily window `[start, end)` of wall-clock time; `start > end` spans midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: Time,
    pub end: Time,
}

impl QuietHours {
    /// `HH:MM-HH:MM`, 24-hour; an empty window (`08:00-08:00`) is refused.
    pub fn parse(text: &str) -> Option<Self> {
        let (start, end) = text.trim().split_once('-')?;
        let time = |t: &str| {
            let (h, m) = t.trim().split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
        };
        let (start, end) = (time(start)?, time(end)?);
        (start != end).then_some(Self { start, end })
    }

    /// When a message due at `at` may go in `zone`: `None` when `at` is outside the window,
    /// else the window's end (the first instant at or after that wall-clock time; on a day
    /// the clocks skip it, the instant the day resumes).
    pub fn deferral(&self, at: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        let local = at.to_zoned(zone.clone());
        let now = local.time();
        let inside = if self.start < self.end {
            self.start <= now && now < self.end
        } else {
            now >= self.start || now < self.end
        };
        if !inside {
            return None;
        }
        let mut day = local.date();
        if now >= self.end {
            day = day.tomorrow().ok()?;
        }
        let end = day.to_datetime(self.end).to_zoned(zone.clone()).ok()?;
        Some(end.timestamp())
    }
}

impl std::fmt::Display for QuietHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start.hour(),
            self.start.minute(),
            self.end.hour(),
            self.end.minute()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn deferral(window: &str, zone: &str, when: &str) -> Option<String> {
        let zone = TimeZone::get(zone).unwrap();
        QuietHours::parse(window)
            .unwrap()
            .deferral(at(when), &zone)
            .map(|t| t.to_string())
    }

    #[test]
    fn windows_parse_as_hh_mm_pairs_and_print_back() {
        assert_eq!(
            QuietHours::parse("21:00-08:00").unwrap().to_string(),
            "21:00-08:00"
        );
        assert_eq!(
            QuietHours::parse(" 13:30 - 14:15 ").unwrap().to_string(),
            "13:30-14:15"
        );
        for bad in [
            "21-8",
            "21:00",
            "25:00-08:00",
            "08:00-08:00",
            "9:00-17:00",
            "",
        ] {
            assert_eq!(QuietHours::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_message_inside_the_window_goes_at_its_end_in_the_patients_zone() {
        let cases = [
            // New York in winter (UTC-5): 22:30 is quiet until 08:00 the next morning.
            (
                "21:00-08:00",
                "America/New_York",
                "2026-01-15T03:30:00Z",
                Some("2026-01-15T13:00:00Z"),
            ),
            // 07:59 the same morning: until 08:00.
            (
                "21:00-08:00",
                "America/New_York",
                "2026-01-15T12:59:00Z",
                Some("2026-01-15T13:00:00Z"),
            ),
            // 08:00 and 20:59 are outside.
            (
                "21:00-08:00",
                "America/New_York",
                "2026-01-15T13:00:00Z",
                None,
            ),
            (
                "21:00-08:00",
                "America/New_York",
                "2026-01-16T01:59:00Z",
                None,
            ),
            // The same instant is daytime in Los Angeles (19:30) and quiet in New York (22:30).
            (
                "21:00-08:00",
                "America/Los_Angeles",
                "2026-01-15T03:30:00Z",
                None,
            ),
            // A window inside one day.
            (
                "12:00-13:00",
                "Europe/Paris",
                "2026-06-01T10:30:00Z",
                Some("2026-06-01T11:00:00Z"),
            ),
        ];
        for (window, zone, when, expected) in cases {
            assert_eq!(
                deferral(window, zone, when).as_deref(),
                expected,
                "{window} {zone} {when}"
            );
        }
    }

    #[test]
    fn the_end_is_right_on_both_daylight_saving_change_days() {
        let cases = [
            // 2026-03-08, New York springs forward at 02:00 (EST -5 to EDT -4): 01:00 EST is
            // quiet until 08:00 EDT, 12:00Z (not 13:00Z).
            (
                "21:00-08:00",
                "2026-03-08T06:00:00Z",
                Some("2026-03-08T12:00:00Z"),
            ),
            // The evening before the change (22:00 EST): until 08:00 EDT.
            (
                "21:00-08:00",
                "2026-03-08T03:00:00Z",
                Some("2026-03-08T12:00:00Z"),
            ),
            // 2026-11-01, New York falls back at 02:00 (EDT -4 to EST -5): 01:30 EDT (the first
            // one) is quiet until 08:00 EST, 13:00Z.
            (
                "21:00-08:00",
                "2026-11-01T05:30:00Z",
                Some("2026-11-01T13:00:00Z"),
            ),
            // 01:30 EST (the second one, an hour later): the same end.
            (
                "21:00-08:00",
                "2026-11-01T06:30:00Z",
                Some("2026-11-01T13:00:00Z"),
            ),
            // A window ending at 02:30, a time that does not exist on spring-forward day: it
            // ends when the day resumes, 03:30 EDT (07:30Z).
            (
                "01:00-02:30",
                "2026-03-08T06:30:00Z",
                Some("2026-03-08T07:30:00Z"),
            ),
        ];
        for (window, when, expected) in cases {
            assert_eq!(
                deferral(window, "America/New_York", when).as_deref(),
                expected,
                "{window} {when}"
            );
        }
    }
}
