//! The memory store's message log: records written (a scheduled one's replaced under its id),
//! read by id or filter, newest first, and counted.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::audit::append;
use super::{MAX_MESSAGES, MemoryStore, State, Stored};
use crate::error::Error;
use crate::names::MessageStatus;
use crate::store::log::DayCount;
use crate::store::log::page;
use crate::store::{
    Claim, MessageFilter, MessageLog, MessagePage, MessageRecord, MessageView, Stats, StoredAnswer,
};
use crate::support::{BoxFuture, timestamp};

impl MessageLog for MemoryStore {
    fn record<'a>(
        &'a self,
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answers: &'a [(&'a Claim, &'a StoredAnswer)],
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut state = self.state();
            for line in audit {
                append(&mut state, now, line);
            }
            keep(&mut state, messages, answers);
            Ok(())
        })
    }

    fn message<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<MessageView>, Error>> {
        Box::pin(async move {
            let state = self.state();
            let found = state
                .messages
                .iter()
                .rev()
                .find(|m| m.view.id == id || m.view.provider_message_id.as_deref() == Some(id));
            Ok(found.map(|m| {
                let mut view = m.view.clone();
                // Forwarding moves on in the outbox's rows; the audit lines are the trail's.
                for event in view.events.get_or_insert_with(Vec::new) {
                    if let Some(row) = state.events.iter().find(|row| row.id == event.id) {
                        event.forward = row.forward;
                        event.attempts = row.attempts;
                    }
                }
                view.audit = Some(
                    (state.audit.iter())
                        .filter_map(|(_, _, line)| serde_json::from_str(line).ok())
                        .filter(|line: &serde_json::Value| line["id"] == view.id.as_str())
                        .collect(),
                );
                view
            }))
        })
    }

    fn messages<'a>(
        &'a self,
        filter: &'a MessageFilter,
    ) -> BoxFuture<'a, Result<MessagePage, Error>> {
        Box::pin(async move {
            let state = self.state();
            let mut newest_first: Vec<&Stored> = state
                .messages
                .iter()
                .filter(|m| matches(m, filter))
                .collect();
            newest_first.sort_by(|a, b| {
                (b.created_at, b.view.id.as_str()).cmp(&(a.created_at, a.view.id.as_str()))
            });
            let views = newest_first
                .into_iter()
                .take(usize::from(filter.limit) + 1)
                .map(|m| MessageView {
                    events: None,
                    ..m.view.clone()
                })
                .collect();
            Ok(page(views, filter.limit))
        })
    }

    fn stats<'a>(
        &'a self,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
        zone: &'a str,
    ) -> BoxFuture<'a, Result<Stats, Error>> {
        Box::pin(async move {
            let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
            let state = self.state();
            let mut stats = Stats::default();
            let mut days: BTreeMap<(String, &str), DayCount> = BTreeMap::new();
            let in_range = state.messages.iter().filter(|m| {
                since.is_none_or(|t| m.created_at >= t) && until.is_none_or(|t| m.created_at < t)
            });
            for message in in_range {
                let view = &message.view;
                stats.total += 1;
                *stats
                    .by_channel
                    .entry(view.channel.as_str().to_owned())
                    .or_default()
                    .entry(view.status.as_str().to_owned())
                    .or_default() += 1;
                if let Some(template) = view.template {
                    *stats
                        .by_template
                        .entry(template.as_str().to_owned())
                        .or_default() += 1;
                }
                let day = jiff::Timestamp::from_second(message.created_at.unix_timestamp())
                    .map(|t| t.to_zoned(zone.clone()).date().to_string())
                    .unwrap_or_default();
                days.entry((day.clone(), view.channel.as_str()))
                    .or_insert_with(|| DayCount::new(day, view.channel))
                    .count(view.status, view.provider_message_id.is_some());
            }
            stats.days = days.into_values().collect();
            Ok(stats)
        })
    }
}

/// Writes `messages` (replacing a scheduled one's record under the same id) and the answers
/// kept for replays.
pub(super) fn keep(
    state: &mut State,
    messages: &[MessageRecord],
    answers: &[(&Claim, &StoredAnswer)],
) {
    for record in messages {
        let existing = state.messages.iter_mut().find(|m| m.view.id == record.id);
        if let Some(message) = existing {
            let view = &mut message.view;
            view.provider = record.provider;
            view.provider_message_id = record.provider_message_id.clone();
            view.status = record.status;
            view.error_code = record.error_code.map(|c| c.as_str().to_owned());
            view.category = record.category.or(view.category);
            view.reason = record.reason.map(str::to_owned);
            view.consent_on_file = record.consent_on_file;
            view.fallback_of = record.fallback_of.clone().or(view.fallback_of.take());
            view.batch_id = record.batch_id.clone().or(view.batch_id.take());
            view.updated_at = timestamp(record.created_at);
            view.recipients = record.recipients.clone();
            message.rank = record.status.rank();
            message.recipient_ranks = record.recipients.iter().map(|r| r.status.rank()).collect();
            continue;
        }
        let created_at = record.created_at;
        if let Some(original) = &record.fallback_of {
            let original = state.messages.iter_mut().find(|m| &m.view.id == original);
            if let Some(original) = original {
                original.view.fallback = Some(record.id.clone());
            }
        }
        state.messages.push_back(Stored {
            view: view_of(record, created_at),
            created_at,
            rank: record.status.rank(),
            recipient_ranks: record.recipients.iter().map(|r| r.status.rank()).collect(),
        });
    }
    while state.messages.len() > MAX_MESSAGES {
        state.messages.pop_front();
    }
    for (claim, answer) in answers {
        if let Some(row) = state
            .claims
            .get_mut(&(claim.scope.clone(), claim.key.clone()))
        {
            row.answer = Some((*answer).clone());
        }
    }
}

fn matches(message: &Stored, filter: &MessageFilter) -> bool {
    let view = &message.view;
    filter.channel.is_none_or(|c| view.channel == c)
        && filter.status.is_none_or(|s| view.status == s)
        && filter.template.is_none_or(|t| view.template == Some(t))
        && filter
            .recipient_hash
            .as_deref()
            .is_none_or(|h| view.recipients.iter().any(|r| r.hash == h))
        && filter
            .batch
            .as_deref()
            .is_none_or(|b| view.batch_id.as_deref() == Some(b))
        && filter.category.is_none_or(|c| view.category == Some(c))
        && (!filter.ever_failed || ever_failed(view))
        && filter
            .error_code
            .is_none_or(|c| view.error_code.as_deref() == Some(c.as_str()))
        && filter
            .idempotency_key
            .as_deref()
            .is_none_or(|k| view.idempotency_key.as_deref() == Some(k))
        && filter
            .provider_message_id
            .as_deref()
            .is_none_or(|p| view.provider_message_id.as_deref() == Some(p))
        && filter.since.is_none_or(|t| message.created_at >= t)
        && filter.until.is_none_or(|t| message.created_at < t)
        && filter
            .cursor
            .as_ref()
            .is_none_or(|c| (message.created_at, view.id.as_str()) < (c.created_at, c.id.as_str()))
}

/// Whether a message failed or bounced, now or in any of its reports.
fn ever_failed(view: &MessageView) -> bool {
    let failing = |status| matches!(status, MessageStatus::Failed | MessageStatus::Bounced);
    failing(view.status)
        || view
            .events
            .iter()
            .flatten()
            .any(|event| failing(event.kind))
}

fn view_of(record: &MessageRecord, created_at: OffsetDateTime) -> MessageView {
    MessageView {
        id: record.id.clone(),
        channel: record.channel,
        template: record.template,
        provider: record.provider,
        provider_message_id: record.provider_message_id.clone(),
        status: record.status,
        error_code: record.error_code.map(|c| c.as_str().to_owned()),
        category: record.category,
        reason: record.reason.map(str::to_owned),
        consent_on_file: record.consent_on_file,
        fallback_of: record.fallback_of.clone(),
        fallback: None,
        batch_id: record.batch_id.clone(),
        caller: record.caller.clone(),
        request_id: record.request_id.clone(),
        idempotency_key: record.idempotency_key.clone(),
        created_at: timestamp(created_at),
        updated_at: timestamp(created_at),
        recipients: record.recipients.clone(),
        events: Some(Vec::new()),
        audit: None,
    }
}
