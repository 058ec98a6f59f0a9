//! Who a message is withheld from, as admission read it: a recipient on the suppression list,
//! one whose choice (or, without one, the practice's default) has the message's category off on
//! the channel, and a billing text's phone without consent on file when the practice requires
//! it. Suppression comes first: it is the stronger reason.

use super::admit::{Admitted, Planned};
use crate::audit::AuditRecipient;
use crate::config::{ReachConfig, SmsConsent};
use crate::error::{DeclinedRecipient, SuppressedRecipient};
use crate::names::{Category, Channel, DeclineRule};
use crate::store::{Chosen, Suppression};

/// Why one recipient is left out.
#[derive(Debug, Clone)]
pub(super) enum Withheld {
    Suppressed(SuppressedRecipient),
    Declined(DeclinedRecipient),
}

impl Admitted {
    /// Each recipient's reason to be left out (`None`: it goes), in the order given.
    pub fn withheld(
        &self,
        channel: Channel,
        recipients: &[AuditRecipient],
    ) -> Vec<Option<Withheld>> {
        recipients
            .iter()
            .map(|r| {
                if let Some(s) = self.suppression(channel, &r.hash) {
                    return Some(Withheld::Suppressed(SuppressedRecipient {
                        to: r.masked.clone(),
                        reason: s.reason,
                        since: crate::support::timestamp(s.created_at),
                        suppression_id: s.id.clone(),
                    }));
                }
                self.decline(channel, &r.hash).map(|rule| {
                    Withheld::Declined(DeclinedRecipient {
                        to: r.masked.clone(),
                        rule,
                    })
                })
            })
            .collect()
    }

    /// The suppression that keeps the recipient `hash` from being sent to on `channel`.
    pub fn suppression(&self, channel: Channel, hash: &str) -> Option<&Suppression> {
        self.store
            .suppressed
            .iter()
            .find(|s| s.channel == channel && s.recipient_hash == hash)
    }

    /// The rule that declines the recipient `hash` on `channel`.
    pub fn decline(&self, channel: Channel, hash: &str) -> Option<DeclineRule> {
        self.declines
            .iter()
            .find(|(c, h, _)| *c == channel && h == hash)
            .map(|(_, _, rule)| *rule)
    }

    /// Whether the phone `hash` has consent to texts on file.
    pub fn consent_on_file(&self, hash: &str) -> bool {
        self.store.chosen.consent(hash).is_some()
    }
}

/// The recipients a choice declines: the patient's own for the category and channel, else the
/// practice's default; then, for a billing text when consent is required, a phone without it.
pub(super) fn declines(
    reach: &ReachConfig,
    planned: &[Planned<'_>],
    chosen: &Chosen,
) -> Vec<(Channel, String, DeclineRule)> {
    let mut declines = Vec::new();
    for plan in planned {
        let Some(category) = plan.category else {
            continue;
        };
        for recipient in plan.recipients {
            let hash = recipient.hash.as_str();
            let rule = match chosen.choice(plan.channel, hash, category) {
                Some(choice) if !choice.enabled => Some(DeclineRule::PatientPreference),
                Some(_) => None,
                None if !reach.on_by_default(category, plan.channel) => {
                    Some(DeclineRule::PracticeDefault)
                }
                None => None,
            };
            let consent_missing = plan.channel == Channel::Sms
                && is_billing(category)
                && reach.sms_consent == SmsConsent::Required
                && chosen.consent(hash).is_none();
            let rule = rule.or(consent_missing.then_some(DeclineRule::SmsConsentRequired));
            if let Some(rule) = rule {
                declines.push((plan.channel, recipient.hash.clone(), rule));
            }
        }
    }
    declines
}

/// Billing texts are not covered by the TCPA's healthcare exemption: their consent is recorded
/// (and required with `NOTIFY_SMS_CONSENT=required`).
pub(super) fn is_billing(category: Category) -> bool {
    matches!(
        category,
        Category::BillingAlerts | Category::BillingReceipts
    )
}
