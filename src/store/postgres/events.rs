//! The Postgres store's delivery events: kept once in commit order with their audit line,
//! leased for forwarding (`FOR UPDATE SKIP LOCKED`), settled, and paged.

use std::time::Duration;

use tokio_postgres::types::{Json, Type};

use super::{PostgresStore, sql};
use crate::error::Error;
use crate::names::MessageStatus;
use crate::store::outbox::{Applied, EventPage, FIRST_ATTEMPT_LEASE, NewEvent, Outgoing, Settled};
use crate::store::unavailable;

impl PostgresStore {
    pub(super) async fn apply_event_in<'a>(&'a self, new: NewEvent<'a>) -> Result<Applied, Error> {
        // An unknown kind still keeps its event and audit line, ranked never to move the
        // status.
        let (status, rank) = match MessageStatus::parse(new.event.kind) {
            Some(status) => (status.as_str(), i16::from(status.rank())),
            None => (new.event.kind, 0),
        };
        let lease = FIRST_ATTEMPT_LEASE.as_millis() as i32;
        let rows = self
            .query(
                sql::APPLY_EVENT,
                &[
                    (&new.payload, Type::TEXT),
                    (&status, Type::TEXT),
                    (&rank, Type::INT2),
                    (&new.audit, Type::TEXT),
                    (&new.forward, Type::BOOL),
                    (&lease, Type::INT4),
                ],
            )
            .await?;
        let fate: String = rows
            .first()
            .and_then(|row| row.try_get(0).ok())
            .unwrap_or_default();
        match fate.as_str() {
            "copy" => Ok(Applied::Copy),
            "kept" => Ok(Applied::Kept),
            "claimed" => Ok(Applied::Claimed),
            other => Err(unavailable(format!(
                "notify_apply_event answered {other:?}"
            ))),
        }
    }

    pub(super) async fn due_events_in(
        &self,
        limit: u16,
        lease: Duration,
    ) -> Result<Vec<Outgoing>, Error> {
        let limit = i64::from(limit);
        let lease = lease.as_millis() as i64;
        let rows = self
            .query(
                sql::DUE_EVENTS,
                &[(&limit, Type::INT8), (&lease, Type::INT8)],
            )
            .await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in &rows {
            let attempts: i16 = row.try_get(2).map_err(unavailable)?;
            due.push(Outgoing {
                id: row.try_get(0).map_err(unavailable)?,
                payload: row.try_get(1).map_err(unavailable)?,
                attempts: attempts.max(0) as u16,
            });
        }
        // The lease came in the table's order; attempts go in the events' order.
        Ok(due)
    }

    pub(super) async fn settle_in<'a>(&'a self, settled: &'a [Settled]) -> Result<(), Error> {
        if settled.is_empty() {
            return Ok(());
        }
        let settled = serde_json::to_string(settled).map_err(unavailable)?;
        self.query(sql::SETTLE, &[(&settled, Type::TEXT)])
            .await
            .map(drop)
    }

    pub(super) async fn events_in<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: u16,
    ) -> Result<Option<EventPage>, Error> {
        // The event `after` comes first, then `limit` more and one to tell if others follow.
        let fetch = i64::from(limit) + 1 + i64::from(after.is_some());
        let rows = self
            .query(sql::EVENTS, &[(&after, Type::TEXT), (&fetch, Type::INT8)])
            .await?;
        let mut events = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let id: String = row.try_get(0).map_err(unavailable)?;
            if i == 0
                && let Some(after) = after
            {
                if id != after {
                    return Ok(None);
                }
                continue;
            }
            let Json(payload) = row
                .try_get::<_, Json<serde_json::Value>>(1)
                .map_err(unavailable)?;
            events.push(payload);
        }
        if after.is_some() && rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(EventPage::of(events, limit)))
    }
}
