//! `EmailAddress`: one mailbox, bare (`ann@example.com`) or named (`Ann Lee <ann@example.com>`).

use base64::Engine;

/// A mailbox SES will accept: an ASCII address with a dotted domain, and an optional display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    display_name: Option<String>,
    address: String,
}

const MAX_ADDRESS_CHARS: usize = 254;
const MAX_DISPLAY_NAME_CHARS: usize = 100;

impl EmailAddress {
    /// Parses `addr@host` or `Name <addr@host>`; the error is a sentence about what is wrong.
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        if input.is_empty() {
            return Err("must be an email address, such as patient@example.com".into());
        }
        if input.chars().any(char::is_control) {
            return Err("must not contain line breaks or control characters".into());
        }
        let (display_name, address) = match input.strip_suffix('>') {
            Some(rest) => {
                let (name, address) = rest
                    .rsplit_once('<')
                    .ok_or("has a '>' without a matching '<'")?;
                let name = name.trim().trim_matches('"').trim();
                ((!name.is_empty()).then(|| name.to_owned()), address.trim())
            }
            None => (None, input),
        };
        if let Some(name) = &display_name {
            if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
                return Err(format!(
                    "display name is longer than {MAX_DISPLAY_NAME_CHARS} characters"
                ));
            }
            if name.contains(['<', '>', '"', '\\']) {
                return Err("display name must not contain <, >, quotes or backslashes".into());
            }
        }
        if !address.is_ascii() {
            return Err(format!(
                "'{address}' has non-ASCII characters, which SES does not accept in an address"
            ));
        }
        if address.len() > MAX_ADDRESS_CHARS {
            return Err(format!(
                "address is longer than {MAX_ADDRESS_CHARS} characters"
            ));
        }
        let options = email_address::Options::default()
            .with_required_tld()
            .without_domain_literal()
            .without_display_text();
        email_address::EmailAddress::parse_with_options(address, options)
            .map_err(|e| format!("'{address}' is not a valid email address ({e})"))?;
        Ok(Self {
            display_name,
            address: address.to_owned(),
        })
    }

    /// The display name, `Ann Lee` in `Ann Lee <ann@example.com>`.
    pub fn display_name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain)
    }

    /// The bare address, `ann@example.com`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The form for a mail header: the display name quoted, and RFC 2047-encoded when it is not
    /// ASCII, because SES rejects raw non-ASCII names.
    pub fn to_header_value(&self) -> String {
        match &self.display_name {
            None => self.address.clone(),
            Some(name) if name.is_ascii() => format!("\"{name}\" <{}>", self.address),
            Some(name) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(name);
                format!("=?UTF-8?B?{encoded}?= <{}>", self.address)
            }
        }
    }

    /// `j***@example.com`: enough for a person to recognise a log line, not enough to identify
    /// the patient.
    pub fn masked(&self) -> String {
        let (local, domain) = self.address.split_once('@').unwrap_or(("", &self.address));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_address_parses_without_a_display_name() {
        let email = EmailAddress::parse("  ann@example.com ").unwrap();
        assert_eq!(email.address(), "ann@example.com");
        assert_eq!(email.to_header_value(), "ann@example.com");
    }

    #[test]
    fn the_name_angle_bracket_form_keeps_the_name() {
        let email = EmailAddress::parse("Ann Lee <ann@example.com>").unwrap();
        assert_eq!(email.address(), "ann@example.com");
        assert_eq!(email.to_header_value(), "\"Ann Lee\" <ann@example.com>");
        let quoted = EmailAddress::parse("\"Lee, Ann\" <ann@example.com>").unwrap();
        assert_eq!(quoted.to_header_value(), "\"Lee, Ann\" <ann@example.com>");
    }

    #[test]
    fn a_non_ascii_display_name_is_encoded_for_the_header() {
        let email = EmailAddress::parse("José <jose@example.com>").unwrap();
        assert_eq!(
            email.to_header_value(),
            "=?UTF-8?B?Sm9zw6k=?= <jose@example.com>"
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "ann@[127.0.0.1]",
            "ann@exa mple.com",
            "Ann <ann@example.com",
            "Ann ann@example.com>",
            "ann@example.com\r\nBcc: x@example.com",
            "anñ@example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn overlong_addresses_and_names_are_refused() {
        let long_local = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long_local).is_err());
        let long_name = format!("{} <ann@example.com>", "N".repeat(101));
        assert!(EmailAddress::parse(&long_name).is_err());
    }

    #[test]
    fn masking_keeps_only_the_first_letter_and_the_domain() {
        let email = EmailAddress::parse("Jane Doe <jane.doe@example.com>").unwrap();
        assert_eq!(email.masked(), "j***@example.com");
    }
}
