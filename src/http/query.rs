//! Query strings of the read routes: each parameter at most once and each one the route
//! knows (an unknown one is a 400 naming it, never silently dropped), parsed or named.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::route::Incoming;
use crate::error::{Error, FieldError};

/// The query's parameters, each at most once and each one this route knows.
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub(super) fn parse(incoming: &Incoming, known: &[&str]) -> Result<Self, Error> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(incoming.parts.uri.query().unwrap_or("")).map_err(|e| {
                Error::invalid_fields(vec![FieldError::new("query", e.to_string())])
            })?;
        let mut problems = Vec::new();
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !known.contains(&name.as_str()) {
                problems.push(FieldError::new(
                    name.clone(),
                    format!(
                        "is not a parameter of this route; it takes {}",
                        known.join(", ")
                    ),
                ));
            } else if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
                problems.push(FieldError::new(name.clone(), "is given more than once"));
            }
        }
        if problems.is_empty() {
            Ok(Self(pairs))
        } else {
            Err(Error::invalid_fields(problems))
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The parameter parsed by `parse`, or a problem naming it.
    pub(super) fn parsed<T>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
        expected: &str,
        problems: &mut Vec<FieldError>,
    ) -> Option<T> {
        let value = self.get(name)?;
        let parsed = parse(value);
        if parsed.is_none() {
            problems.push(FieldError::new(name, format!("must be {expected}")));
        }
        parsed
    }
}

/// An RFC 3339 time with an offset.
pub(super) fn time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}
