//! The Postgres store's record of patients' choices and SMS consent (`notify_preferences`,
//! `notify_consent`, migrations/005): read by `notify_chosen`, written in one statement with
//! the change's audit line.

use serde::Serialize;
use tokio_postgres::types::Type;

use super::PostgresStore;
use crate::error::Error;
use crate::names::Channel;
use crate::store::{Choice, Chosen, Consent, Preferences, unavailable};
use crate::support::BoxFuture;

const CHOICES: &str = "SELECT notify_chosen($1::jsonb)";

const CHOOSE: &str = r#"
WITH choices AS (
    INSERT INTO notify_preferences (recipient_hash, channel, category, enabled, masked, source,
        updated_at)
    SELECT c."recipientHash", c.channel, c.category, c.enabled, c.masked, c.source,
        c."updatedAt"
    FROM jsonb_to_recordset($1::jsonb) AS c("recipientHash" text, channel text, category text,
        enabled boolean, masked text, source text, "updatedAt" timestamptz)
    ON CONFLICT (recipient_hash, channel, category) DO UPDATE SET enabled = excluded.enabled,
        masked = excluded.masked, source = excluded.source, updated_at = excluded.updated_at
), consent AS (
    INSERT INTO notify_consent (recipient_hash, masked, at, source, text_version, recorded_at)
    SELECT c."recipientHash", c.masked, c.at, c.source, c."textVersion", c."recordedAt"
    FROM jsonb_to_record($2::jsonb) AS c("recipientHash" text, masked text, at timestamptz,
        source text, "textVersion" text, "recordedAt" timestamptz)
    WHERE $2::jsonb IS NOT NULL
    ON CONFLICT (recipient_hash) DO UPDATE SET masked = excluded.masked, at = excluded.at,
        source = excluded.source, text_version = excluded.text_version,
        recorded_at = excluded.recorded_at
), audit AS (
    INSERT INTO notify_audit (event, line) VALUES ($3::jsonb->>'event', $3::jsonb)
)
SELECT 1"#;

impl Preferences for PostgresStore {
    fn choices<'a>(
        &'a self,
        recipients: &'a [(Channel, String)],
    ) -> BoxFuture<'a, Result<Chosen, Error>> {
        Box::pin(async move {
            #[derive(Serialize)]
            struct Recipient<'r> {
                channel: Channel,
                hash: &'r str,
            }
            let recipients: Vec<Recipient> = recipients
                .iter()
                .map(|(channel, hash)| Recipient {
                    channel: *channel,
                    hash,
                })
                .collect();
            let json = serde_json::to_string(&recipients).map_err(unavailable)?;
            let chosen: Option<Chosen> = self.json(CHOICES, &[(&json, Type::TEXT)]).await?;
            Ok(chosen.unwrap_or_default())
        })
    }

    fn choose<'a>(
        &'a self,
        choices: &'a [Choice],
        consent: Option<&'a Consent>,
        audit: &'a str,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let choices = serde_json::to_string(choices).map_err(unavailable)?;
            let consent = consent
                .map(serde_json::to_string)
                .transpose()
                .map_err(unavailable)?;
            self.query(
                CHOOSE,
                &[
                    (&choices, Type::TEXT),
                    (&consent, Type::TEXT),
                    (&audit, Type::TEXT),
                ],
            )
            .await
            .map(drop)
        })
    }
}
