//! `PhoneNumber`: a phone number in E.164 form (`+15551234567`).

/// An E.164 number: `+`, a country code that does not start with 0, at most 15 digits in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses an E.164 number. Spaces, dots, hyphens and parentheses between digits are
    /// tolerated and removed (`+1 (555) 123-4567`), since people copy numbers that way; the
    /// leading `+` and country code are required, because guessing a country would text a
    /// stranger.
    pub fn parse(input: &str) -> Result<Self, String> {
        const HINT: &str = "must be in E.164 format, such as +15551234567";
        let compact: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let digits = compact.strip_prefix('+').ok_or(HINT)?;
        let valid = (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if valid {
            Ok(Self(compact))
        } else {
            Err(HINT.into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `+1******4567`: the country code and the last four digits.
    pub fn masked(&self) -> String {
        let visible_head = 2;
        let visible_tail = 4;
        let hidden = self.0.len().saturating_sub(visible_head + visible_tail);
        format!(
            "{}{}{}",
            &self.0[..visible_head],
            "*".repeat(hidden),
            &self.0[visible_head + hidden..]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_e164_number_parses() {
        assert_eq!(
            PhoneNumber::parse("+15551234567").unwrap().as_str(),
            "+15551234567"
        );
        assert_eq!(
            PhoneNumber::parse("+447700900123").unwrap().as_str(),
            "+447700900123"
        );
    }

    #[test]
    fn common_separators_are_removed() {
        assert_eq!(
            PhoneNumber::parse(" +1 (555) 123-4567 ").unwrap().as_str(),
            "+15551234567"
        );
        assert_eq!(
            PhoneNumber::parse("+44.7700.900123").unwrap().as_str(),
            "+447700900123"
        );
    }

    #[test]
    fn numbers_that_are_not_e164_are_refused() {
        for bad in [
            "",
            "5551234567",
            "15551234567",
            "+",
            "+0123456789",
            "+1555",
            "+1234567890123456",
            "+1555123456a",
            "+1 555 123 4567 ext 9",
            "whatsapp:+15551234567",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn masking_keeps_the_country_code_and_last_four_digits() {
        let number = PhoneNumber::parse("+15551234567").unwrap();
        assert_eq!(number.masked(), "+1******4567");
    }
}
