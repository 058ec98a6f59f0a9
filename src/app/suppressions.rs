//! The suppression list as the service keeps it: entries added by hand, by a provider's report
//! (a hard bounce, a complaint, a number that opted out or cannot take texts) and by a patient's
//! own reply; lifted by hand (a complaint only with `force`) or, for a STOP, only by the
//! patient's START. Every change is an audit line, written with it.

use super::channel::Senders;
use super::{App, RequestContext};
use crate::audit::{AuditRecipient, SuppressionChange};
use crate::domain::DeliveryEvent;
use crate::domain::EmailAddress;
use crate::error::{Error, ErrorCode, FieldError};
use crate::names::{
    AuditKind, Category, Channel, EventKind, ProviderListing, SuppressionReason, SuppressionSource,
};
use crate::store::{RecipientView, Suppressed, Suppression, SuppressionFilter, SuppressionPage};
use crate::support::new_id;
use crate::webhooks::OptWords;

/// An entry to add: everything but its id and times, which the service and the store give it.
#[derive(Debug, Clone)]
pub struct NewSuppression {
    pub channel: Channel,
    pub recipient: AuditRecipient,
    pub scope: Option<Category>,
    pub reason: SuppressionReason,
    pub source: SuppressionSource,
    pub inferred: bool,
    pub message_id: Option<String>,
}

impl App {
    /// A page of the list, newest first.
    pub async fn suppressions(&self, filter: &SuppressionFilter) -> Result<SuppressionPage, Error> {
        self.store().suppressions(filter).await
    }

    /// An entry by id, in force or lifted.
    pub async fn suppression(&self, id: &str) -> Result<Option<Suppression>, Error> {
        self.store().suppression(id).await
    }

    /// Adds an entry (unless one is in force for the recipient, channel and scope), with its
    /// audit line.
    pub async fn suppress(
        &self,
        new: NewSuppression,
        context: &RequestContext,
    ) -> Result<Suppressed, Error> {
        let entry = Suppression {
            id: format!("sup_{}", new_id()),
            channel: new.channel,
            recipient_hash: new.recipient.hash.clone(),
            masked: new.recipient.masked.clone(),
            scope: new.scope,
            reason: new.reason,
            source: new.source,
            inferred: new.inferred,
            message_id: new.message_id,
            created_at: crate::support::now_micros(),
            lifted_at: None,
        };
        let line = self.audit_change(AuditKind::SuppressionAdded, &entry, false, context);
        let suppressed = self.store().suppress(&entry, &line).await?;
        if suppressed.added {
            tracing::info!(id = %suppressed.entry.id, channel = %entry.channel, reason = %entry.reason, "added a recipient to the suppression list");
        }
        // Told even when it was there already: the first telling may have failed.
        self.tell_suppression("suppression.added", &suppressed.entry)
            .await?;
        Ok(suppressed)
    }

    /// Lifts the entry `id` for an API caller: a patient's STOP is never lifted this way (only
    /// their START lifts it), and a complaint only with `force`. An entry lifted already is
    /// answered as it is.
    ///
    /// With the entry's address (an email entry's), the address is also removed from SES's
    /// account-level list, which would otherwise go on dropping mail to it without a word.
    pub async fn lift_suppression(
        &self,
        id: &str,
        force: bool,
        address: Option<&EmailAddress>,
        context: &RequestContext,
    ) -> Result<(Suppression, Option<ProviderListing>), Error> {
        let Some(entry) = self.store().suppression(id).await? else {
            return Err(Error::new(
                ErrorCode::SuppressionNotFound,
                "No entry of the suppression list has this id.",
            ));
        };
        let address = match (entry.channel, address) {
            (_, None) => None,
            (Channel::Email, Some(a))
                if self.recipient_hash(a.address()) == entry.recipient_hash =>
            {
                Some(a)
            }
            _ => {
                return Err(Error::invalid_fields(vec![FieldError::new(
                    "email",
                    "is not the address this entry suppresses",
                )]));
            }
        };
        if entry.lifted_at.is_some() {
            self.tell_suppression("suppression.lifted", &entry).await?;
            let listing = self.forget_at_provider(entry.channel, address).await;
            return Ok((entry, listing));
        }
        match entry.reason {
            SuppressionReason::SmsStop => {
                return Err(Error::new(
                    ErrorCode::LiftRequiresPatient,
                    "The patient texted STOP: only the patient can opt back in, by texting START.",
                ));
            }
            SuppressionReason::Complaint if !force => {
                return Err(Error::new(
                    ErrorCode::LiftRequiresForce,
                    "The patient marked an email as spam: lifting it needs \"force\": true.",
                )
                .with_hint("Lift it only with the patient's word that they want these emails; complaints count against the sending account."));
            }
            _ => {}
        }
        let lifted = self.lift(entry, force, context).await?;
        let listing = self.forget_at_provider(lifted.channel, address).await;
        Ok((lifted, listing))
    }

    /// Removes `address` from the email providers' own suppression lists (SES keeps one).
    async fn forget_at_provider(
        &self,
        channel: Channel,
        address: Option<&EmailAddress>,
    ) -> Option<ProviderListing> {
        if channel != Channel::Email {
            return None;
        }
        let (Some(address), Senders::Live(providers)) = (address, self.email()) else {
            return Some(ProviderListing::NotChecked);
        };
        let mut listing = ProviderListing::NotChecked;
        for provider in providers.iter() {
            match provider.forget_suppressed(address).await {
                Ok(Some(true)) => listing = ProviderListing::Removed,
                Ok(Some(false)) if listing == ProviderListing::NotChecked => {
                    listing = ProviderListing::NotListed
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(code = %error.code, "a provider's suppression list was not changed");
                    return Some(ProviderListing::NotChecked);
                }
            }
        }
        Some(listing)
    }

    async fn lift(
        &self,
        entry: Suppression,
        forced: bool,
        context: &RequestContext,
    ) -> Result<Suppression, Error> {
        let line = self.audit_change(AuditKind::SuppressionLifted, &entry, forced, context);
        let lifted = match self.store().lift(&entry.id, &line).await? {
            Some(lifted) => {
                tracing::info!(id = %lifted.id, "lifted an entry of the suppression list");
                lifted
            }
            // Lifted meanwhile by another request: read it as it is now.
            None => self.store().suppression(&entry.id).await?.unwrap_or(entry),
        };
        self.tell_suppression("suppression.lifted", &lifted).await?;
        Ok(lifted)
    }

    /// Adds the entries a verified provider report calls for: a hard bounce (or SES's own
    /// list), a complaint, an SMS opt-out, a number that cannot take texts. A transient bounce
    /// is no reason.
    pub(super) async fn suppress_from_events(
        &self,
        events: &[DeliveryEvent],
        context: &RequestContext,
    ) -> Result<(), Error> {
        for event in events {
            let (Some(reason), Some(hash)) = (event_reason(event), &event.recipient_hash) else {
                continue;
            };
            let new = NewSuppression {
                channel: event.channel,
                recipient: AuditRecipient {
                    hash: hash.clone(),
                    masked: event.recipient_masked.clone().unwrap_or_default(),
                },
                scope: None,
                reason,
                source: SuppressionSource::ProviderEvent,
                inferred: false,
                message_id: self.message_id_of(event).await,
            };
            self.suppress(new, context).await?;
        }
        Ok(())
    }

    /// Our id of the message an event is about, if the log holds it.
    async fn message_id_of(&self, event: &DeliveryEvent) -> Option<String> {
        let message = self.store().message(&event.provider_message_id).await;
        message.ok().flatten().map(|m| m.id)
    }

    /// A patient's reply that opts out (a STOP keyword, or plainer words, marked inferred) or
    /// back in (START, UNSTOP, YES lift their STOP).
    pub(super) async fn receive_opt_words(
        &self,
        from: &str,
        masked: String,
        words: OptWords,
        context: &RequestContext,
    ) -> Result<(), Error> {
        let recipient = self.recipient(from, masked);
        match words {
            OptWords::Out { inferred } => {
                let new = NewSuppression {
                    channel: Channel::Sms,
                    recipient,
                    scope: None,
                    reason: SuppressionReason::SmsStop,
                    source: SuppressionSource::InboundMessage,
                    inferred,
                    message_id: None,
                };
                self.suppress(new, context).await.map(drop)
            }
            OptWords::In => {
                let filter = SuppressionFilter {
                    channel: Some(Channel::Sms),
                    reason: Some(SuppressionReason::SmsStop),
                    recipient_hash: Some(recipient.hash),
                    active: Some(true),
                    limit: 10,
                    ..SuppressionFilter::default()
                };
                for entry in self.store().suppressions(&filter).await?.entries {
                    self.lift(entry, false, context).await?;
                }
                Ok(())
            }
        }
    }

    /// Twilio's answer to a send that the number opted out (21610) or cannot take texts
    /// (21614) puts it on the list. The send has failed either way, so a store failure here is
    /// logged, not answered; the next send's answer adds it again.
    pub(super) async fn suppress_refused_number(
        &self,
        error: &Error,
        recipient: &RecipientView,
        message_id: &str,
        context: &RequestContext,
    ) {
        let reason = match error.provider_code.as_deref() {
            Some("21610") => SuppressionReason::SmsStop,
            Some("21614") => SuppressionReason::InvalidRecipient,
            _ => return,
        };
        let new = NewSuppression {
            channel: Channel::Sms,
            recipient: AuditRecipient {
                hash: recipient.hash.clone(),
                masked: recipient.masked.clone(),
            },
            scope: None,
            reason,
            source: SuppressionSource::ProviderEvent,
            inferred: false,
            message_id: Some(message_id.to_owned()),
        };
        if let Err(failed) = self.suppress(new, context).await {
            tracing::error!(code = %failed.code.as_str(), "a number Twilio refused could not be added to the suppression list");
        }
    }

    fn audit_change(
        &self,
        event: AuditKind,
        entry: &Suppression,
        forced: bool,
        context: &RequestContext,
    ) -> String {
        self.auditor.record_change(&SuppressionChange {
            kind: "audit",
            event,
            time: crate::support::now_rfc3339(),
            request_id: &context.request_id,
            caller: &context.caller.logged(),
            id: &entry.id,
            channel: entry.channel,
            recipient: AuditRecipient {
                hash: entry.recipient_hash.clone(),
                masked: entry.masked.clone(),
            },
            scope: entry.scope,
            reason: entry.reason,
            source: entry.source,
            inferred: entry.inferred,
            message_id: entry.message_id.as_deref(),
            forced,
        })
    }
}

/// Why a provider's report puts its recipient on the list, if it does.
fn event_reason(event: &DeliveryEvent) -> Option<SuppressionReason> {
    let code = event.error_code.as_deref().unwrap_or("");
    match (event.channel, event.kind) {
        (Channel::Email, EventKind::Bounced) if event.retryable == Some(false) => {
            Some(if code.ends_with("OnAccountSuppressionList") {
                SuppressionReason::ProviderSuppressed
            } else {
                SuppressionReason::HardBounce
            })
        }
        (Channel::Email, EventKind::Complained) => Some(SuppressionReason::Complaint),
        (Channel::Sms, EventKind::OptedOut) => Some(SuppressionReason::SmsStop),
        (Channel::Sms, EventKind::Failed) if matches!(code, "21614" | "30006") => {
            Some(SuppressionReason::InvalidRecipient)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Provider;

    fn event(
        channel: Channel,
        kind: EventKind,
        code: Option<&str>,
        retryable: Option<bool>,
    ) -> DeliveryEvent {
        DeliveryEvent {
            id: "evt".into(),
            kind,
            channel,
            provider: match channel {
                Channel::Email => Provider::AwsSes,
                Channel::Sms => Provider::Twilio,
            },
            provider_message_id: "p-1".into(),
            recipient_hash: Some("ab".repeat(32)),
            time: "2026-12-06T10:00:00Z".into(),
            error_code: code.map(str::to_owned),
            retryable,
            recipient_masked: Some("p***@example.com".into()),
            batch_id: None,
        }
    }

    #[test]
    fn what_a_provider_report_puts_on_the_list_and_what_it_does_not() {
        use Channel::{Email, Sms};
        use EventKind::{Bounced, Complained, Delivered, Failed, OptedOut};
        use SuppressionReason as R;
        let cases = [
            (
                event(Email, Bounced, Some("Permanent:General"), Some(false)),
                Some(R::HardBounce),
            ),
            (
                event(
                    Email,
                    Bounced,
                    Some("Permanent:OnAccountSuppressionList"),
                    Some(false),
                ),
                Some(R::ProviderSuppressed),
            ),
            (
                event(Email, Bounced, Some("Transient:MailboxFull"), Some(true)),
                None,
            ),
            (event(Email, Complained, None, None), Some(R::Complaint)),
            (event(Email, Delivered, None, None), None),
            (
                event(Sms, OptedOut, Some("21610"), Some(false)),
                Some(R::SmsStop),
            ),
            (
                event(Sms, Failed, Some("21614"), Some(false)),
                Some(R::InvalidRecipient),
            ),
            (
                event(Sms, Failed, Some("30006"), Some(false)),
                Some(R::InvalidRecipient),
            ),
            (event(Sms, Failed, Some("30003"), Some(true)), None),
            (event(Sms, Delivered, None, None), None),
        ];
        for (event, reason) in cases {
            assert_eq!(
                event_reason(&event),
                reason,
                "{:?} {:?}",
                event.kind,
                event.error_code
            );
        }
    }
}
