//! What the read routes ask of the service: the message log, its counts, delivery events and
//! the audit trail, each one store call (after the sends' records this instance is still
//! writing). Routes never reach the store themselves.

use time::OffsetDateTime;

use super::App;
use crate::error::Error;
use crate::store::{
    AuditPage, AuditQuery, EventPage, MessageFilter, MessagePage, MessageView, Stats,
};

impl App {
    /// A message by our id or the provider's message id, with its delivery events.
    pub async fn message(&self, id: &str) -> Result<Option<MessageView>, Error> {
        self.settled().await;
        self.store().message(id).await
    }

    /// A page of the message log, newest first.
    pub async fn messages(&self, filter: &MessageFilter) -> Result<MessagePage, Error> {
        self.settled().await;
        self.store().messages(filter).await
    }

    /// Makes the store's first connection (and checks the schema) ahead of the first request:
    /// a function starts it while its runtime waits for that request.
    pub async fn connect_store_ahead(&self) {
        self.store().connect_ahead().await;
    }

    /// Counts by channel and status, by template, and by day in the practice's time zone,
    /// over a time range.
    pub async fn stats(
        &self,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
    ) -> Result<Stats, Error> {
        self.settled().await;
        self.store()
            .stats(since, until, self.practice_zone_name())
            .await
    }

    /// Delivery events in order after `after`; `None` when no kept event has that id.
    pub async fn events(
        &self,
        after: Option<&str>,
        limit: u16,
    ) -> Result<Option<EventPage>, Error> {
        self.settled().await;
        self.store().events(after, limit).await
    }

    /// A page of the audit trail, oldest first.
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, Error> {
        self.settled().await;
        self.store().audit(query).await
    }
}
