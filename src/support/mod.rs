//! Small shared pieces every layer may use: ids, the clock's format, and the one outgoing HTTP
//! client.

mod http_client;
mod ids;
mod seal;
mod signed_link;

pub use http_client::HttpClient;
pub use ids::new_id;
pub use seal::Sealer;
pub use signed_link::{LinkClaims, LinkRecipient, LinkSigner, PageClaims, PageMarker};

/// Now, as RFC 3339 in UTC: the time format of the audit trail and of delivery events.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Now, to the microsecond (what Postgres keeps), so that both stores hold the same times.
pub fn now_micros() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1000 * 1000)
        .unwrap_or(now)
}

/// A time as the message log shows it: RFC 3339 in UTC with microseconds (what Postgres
/// keeps), so that both stores write the same text.
pub fn timestamp(time: time::OffsetDateTime) -> String {
    let utc = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.microsecond()
    )
}

/// A boxed future that can cross threads: what the sender traits return, so that a provider's
/// large future is moved once, not copied through every future that awaits it.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A list with at least one item, by type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonEmpty<T> {
    pub first: T,
    pub rest: Vec<T>,
}

impl<T> NonEmpty<T> {
    /// `None` for an empty list.
    pub fn from_vec(mut items: Vec<T>) -> Option<Self> {
        if items.is_empty() {
            return None;
        }
        let first = items.remove(0);
        Some(Self { first, rest: items })
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        std::iter::once(&self.first).chain(self.rest.iter())
    }

    pub fn len(&self) -> usize {
        1 + self.rest.len()
    }

    /// Never true; here because clippy asks for it beside `len`.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn try_map<U, E>(&self, mut f: impl FnMut(&T) -> Result<U, E>) -> Result<NonEmpty<U>, E> {
        Ok(NonEmpty {
            first: f(&self.first)?,
            rest: self.rest.iter().map(f).collect::<Result<_, _>>()?,
        })
    }
}
