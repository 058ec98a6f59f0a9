//! The Postgres store's scheduled sends: kept with their messages in one statement, leased
//! once when due, cancelled or moved.

use std::time::Duration;

use time::OffsetDateTime;
use tokio_postgres::types::{ToSql, Type};

use super::{PostgresStore, Recorded, rfc3339, sql};
use crate::error::Error;
use crate::names::ScheduledRoute;
use crate::store::scheduled::{Change, Changed, ScheduledSend};
use crate::store::types::{Claim, MessageRecord, StoredAnswer};
use crate::store::unavailable;

impl PostgresStore {
    pub(super) async fn schedule_in<'a>(
        &'a self,
        send: &'a ScheduledSend,
        messages: &'a [MessageRecord],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> Result<(), Error> {
        let record = Recorded::new(messages, &[], answer)?;
        let route = send.route.as_str();
        let send_at = rfc3339(Some(send.send_at));
        let mut params = record.params();
        params.extend_from_slice(&[
            (&send.id as &(dyn ToSql + Sync), Type::TEXT),
            (&route, Type::TEXT),
            (&send_at, Type::TEXT),
            (&send.content, Type::BYTEA),
            (&send.caller, Type::TEXT),
            (&send.request_id, Type::TEXT),
            (&send.email_id, Type::TEXT),
            (&send.sms_id, Type::TEXT),
        ]);
        self.query(sql::SCHEDULE, &params).await.map(drop)
    }

    pub(super) async fn due_sends_in(
        &self,
        limit: u16,
        lease: Duration,
    ) -> Result<Vec<ScheduledSend>, Error> {
        let limit = i64::from(limit);
        let lease = lease.as_millis() as i64;
        let rows = self
            .query(
                sql::DUE_SENDS,
                &[(&limit, Type::INT8), (&lease, Type::INT8)],
            )
            .await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in &rows {
            let route: String = row.try_get(1).map_err(unavailable)?;
            let micros: i64 = row.try_get(2).map_err(unavailable)?;
            due.push(ScheduledSend {
                id: row.try_get(0).map_err(unavailable)?,
                route: ScheduledRoute::parse(&route)
                    .ok_or_else(|| unavailable(format!("a scheduled send's route {route:?}")))?,
                send_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
                    .map_err(unavailable)?,
                content: row.try_get(3).map_err(unavailable)?,
                caller: row.try_get(4).map_err(unavailable)?,
                request_id: row.try_get(5).map_err(unavailable)?,
                email_id: row.try_get(6).map_err(unavailable)?,
                sms_id: row.try_get(7).map_err(unavailable)?,
            });
        }
        Ok(due)
    }

    pub(super) async fn change_in<'a>(
        &'a self,
        id: &'a str,
        change: Change,
    ) -> Result<Changed, Error> {
        let send_at = match change {
            Change::Cancel => None,
            Change::MoveTo(at) => rfc3339(Some(at)),
        };
        let rows = self
            .query(sql::CHANGE, &[(&id, Type::TEXT), (&send_at, Type::TEXT)])
            .await?;
        let row = rows
            .first()
            .ok_or_else(|| unavailable("no answer to a change"))?;
        let found: Option<String> = row.try_get(0).map_err(unavailable)?;
        let changed: i64 = row.try_get(2).map_err(unavailable)?;
        Ok(match found {
            None => Changed::NotScheduled,
            Some(_) if changed == 0 => Changed::TooLate,
            Some(id) => Changed::Done {
                id,
                send_at: match change {
                    Change::Cancel => None,
                    Change::MoveTo(at) => Some(at),
                },
            },
        })
    }
}
