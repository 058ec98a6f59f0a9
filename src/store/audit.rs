//! The audit trail: append-only JSON lines (a send's are written with its record), exported
//! oldest first by page.

use time::OffsetDateTime;

use crate::error::Error;
use crate::support::BoxFuture;

/// The audit trail.
pub trait AuditTrail {
    /// Appends one audit line (a refused webhook).
    fn append_audit<'a>(&'a self, line: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// The audit trail, oldest first, for an export.
    fn audit<'a>(&'a self, query: &'a AuditQuery) -> BoxFuture<'a, Result<AuditPage, Error>>;
}

/// Which audit lines to export: a time range, after a cursor (the last line's id), at most
/// `limit`.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub after: Option<i64>,
    pub limit: u16,
}

/// Audit lines (JSON text) with their ids, and the cursor of the next page if there is one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditPage {
    pub lines: Vec<(i64, String)>,
    pub next: Option<i64>,
}

impl AuditPage {
    /// A page of at most `limit` lines from up to `limit + 1` fetched.
    pub fn of(mut lines: Vec<(i64, String)>, limit: u16) -> Self {
        let more = lines.len() > usize::from(limit);
        lines.truncate(usize::from(limit));
        let next = lines.last().filter(|_| more).map(|(id, _)| *id);
        Self { lines, next }
    }
}
