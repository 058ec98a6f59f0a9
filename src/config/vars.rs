//! The environment as a map, and the few readers every setting is read with: a bounded
//! number, a secret, an http(s) URL. Each problem is noted by the variable's name, never its
//! value.

use std::collections::HashMap;

use super::Secret;
use crate::error::FieldError;

/// The environment as a map, with blank values treated as unset (dashboards leave those).
pub(super) struct Vars<'a>(pub(super) &'a HashMap<String, String>);

impl Vars<'_> {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

/// A whole number in `range`, or `default` with a problem noted when it is not one.
pub(super) fn read_number(
    vars: &Vars,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    invalid: &mut Vec<FieldError>,
) -> u64 {
    match vars.get(name).map(str::parse::<u64>) {
        None => default,
        Some(Ok(n)) if range.contains(&n) => n,
        Some(_) => {
            invalid.push(FieldError::new(
                name,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            ));
            default
        }
    }
}

/// A secret of at least `min_len` characters; a shorter one is refused (and not used).
pub(super) fn read_secret(
    vars: &Vars,
    name: &'static str,
    min_len: usize,
    invalid: &mut Vec<FieldError>,
) -> Option<Secret> {
    let value = vars.get(name)?;
    if value.len() < min_len {
        invalid.push(FieldError::new(
            name,
            format!("must be at least {min_len} characters; it is not used"),
        ));
        return None;
    }
    Some(Secret::new(value))
}

/// An https URL (http only on this host, for local development), without a trailing slash.
pub(super) fn secure_url(
    name: &'static str,
    value: &str,
    invalid: &mut Vec<FieldError>,
) -> Option<String> {
    match reqwest::Url::parse(value) {
        Ok(url)
            if url.has_host()
                && (url.scheme() == "https"
                    || (url.scheme() == "http" && url.host_str().is_some_and(is_local_host))) =>
        {
            Some(value.trim_end_matches('/').to_owned())
        }
        _ => {
            invalid.push(FieldError::new(name, "must be an https URL"));
            None
        }
    }
}

/// An http(s) URL without its trailing slash, or a problem noted against `name`.
pub(super) fn check_url(
    name: &'static str,
    value: &str,
    invalid: &mut Vec<FieldError>,
) -> Option<String> {
    match reqwest::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
            Some(value.trim_end_matches('/').to_owned())
        }
        _ => {
            invalid.push(FieldError::new(name, "must be an http or https URL"));
            None
        }
    }
}

/// `localhost`, a loopback address, or a private-network address: where an unencrypted
/// relay is a deliberate set-up rather than an accident.
pub(super) fn is_local_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00,
        Err(_) => false,
    }
}
