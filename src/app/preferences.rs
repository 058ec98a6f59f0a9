//! Patients' choices as the service keeps them: per category per channel, read with the
//! practice's defaults filled in, merged on change (a required category keeps one channel on),
//! with SMS consent evidence; every change an audit line written with it.

use serde::Serialize;
use time::OffsetDateTime;

use super::{App, RequestContext};
use crate::audit::{AuditRecipient, PreferenceChange};
use crate::error::{Error, ErrorCode};
use crate::names::{AuditKind, Category, Channel, ChoiceSource};
use crate::store::{Choice, Chosen, Consent};

/// The patient a read or a change is about: an address, a number, or both (each normalised).
#[derive(Debug, Clone, Default)]
pub struct Patient {
    pub email: Option<AuditRecipient>,
    pub phone: Option<AuditRecipient>,
}

impl Patient {
    fn of(&self, channel: Channel) -> Option<&AuditRecipient> {
        match channel {
            Channel::Email => self.email.as_ref(),
            Channel::Sms => self.phone.as_ref(),
        }
    }

    fn channels(&self) -> impl Iterator<Item = (Channel, &AuditRecipient)> {
        [(Channel::Email, &self.email), (Channel::Sms, &self.phone)]
            .into_iter()
            .filter_map(|(channel, r)| r.as_ref().map(|r| (channel, r)))
    }
}

/// One category on one channel for a patient, as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub category: Category,
    pub channel: Channel,
    pub enabled: bool,
    /// Who set it; `None`: nobody, the practice's default holds.
    pub set_by: Option<ChoiceSource>,
    pub updated_at: Option<OffsetDateTime>,
}

/// A patient's choices, every category on each channel given, and the phone's consent.
#[derive(Debug, Clone)]
pub struct PatientChoices {
    pub standing: Vec<Standing>,
    pub consent: Option<Consent>,
}

/// A change asked for: categories turned on or off per channel, and consent to record.
#[derive(Debug, Clone, Default)]
pub struct ChoiceChange {
    pub set: Vec<(Category, Channel, bool)>,
    /// When, where and to which wording the patient consented to texts.
    pub consent: Option<(OffsetDateTime, String, String)>,
    pub source: Option<ChoiceSource>,
}

impl App {
    /// The patient's choices, the practice's defaults where they made none.
    pub async fn patient_choices(&self, patient: &Patient) -> Result<PatientChoices, Error> {
        let chosen = self.store().choices(&keys(patient)).await?;
        Ok(self.standing(patient, &chosen))
    }

    /// Merges `change` into the patient's choices and answers them as they now stand. Turning
    /// every given channel of a required category off is refused (422), as is a choice for a
    /// channel whose address was not given.
    pub async fn change_choices(
        &self,
        patient: &Patient,
        change: ChoiceChange,
        context: &RequestContext,
    ) -> Result<PatientChoices, Error> {
        let now = crate::support::now_micros();
        let source = change.source.unwrap_or(ChoiceSource::Api);
        let current = self.store().choices(&keys(patient)).await?;
        // The choices as they will stand once written: checked now, and answered as they are.
        let mut after = self.standing(patient, &current);
        for (category, channel, enabled) in &change.set {
            if let Some(s) = after
                .standing
                .iter_mut()
                .find(|s| s.category == *category && s.channel == *channel)
            {
                s.enabled = *enabled;
                s.set_by = Some(source);
                s.updated_at = Some(now);
            }
        }
        for category in Category::ALL.iter().filter(|c| c.required()) {
            let on = after
                .standing
                .iter()
                .any(|s| s.category == *category && s.enabled);
            if !on {
                return Err(Error::new(
                    ErrorCode::CategoryRequired,
                    format!("{category} is required: at least one channel stays on."),
                )
                .with_hint("Billing alerts (a failed payment, autopay) must reach the patient; choose the channel instead."));
            }
        }
        let choices: Vec<Choice> = change
            .set
            .iter()
            .filter_map(|(category, channel, enabled)| {
                let recipient = patient.of(*channel)?;
                Some(Choice {
                    channel: *channel,
                    recipient_hash: recipient.hash.clone(),
                    masked: recipient.masked.clone(),
                    category: *category,
                    enabled: *enabled,
                    source,
                    updated_at: now,
                })
            })
            .collect();
        let consent = match (change.consent, &patient.phone) {
            (Some((at, where_, text_version)), Some(phone)) => Some(Consent {
                recipient_hash: phone.hash.clone(),
                masked: phone.masked.clone(),
                at,
                source: where_,
                text_version,
                recorded_at: now,
            }),
            _ => None,
        };
        let line = self.auditor.record_change(&PreferenceChange {
            kind: "audit",
            event: AuditKind::PreferenceUpdated,
            time: crate::support::now_rfc3339(),
            request_id: &context.request_id,
            caller: &context.caller.logged(),
            source,
            recipients: patient.channels().map(|(_, r)| r.clone()).collect(),
            changes: &change.set,
            consent_recorded: consent.is_some(),
        });
        self.store()
            .choose(&choices, consent.as_ref(), &line)
            .await?;
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Changed<'a> {
            source: ChoiceSource,
            recipients: Vec<Recipient<'a>>,
            changes: Vec<Change>,
            consent_recorded: bool,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Recipient<'a> {
            channel: Channel,
            recipient: &'a str,
            recipient_hash: &'a str,
        }
        #[derive(Serialize)]
        struct Change {
            category: Category,
            channel: Channel,
            enabled: bool,
        }
        let fields = Changed {
            source,
            recipients: patient
                .channels()
                .map(|(channel, r)| Recipient {
                    channel,
                    recipient: &r.masked,
                    recipient_hash: &r.hash,
                })
                .collect(),
            changes: change
                .set
                .iter()
                .map(|(category, channel, enabled)| Change {
                    category: *category,
                    channel: *channel,
                    enabled: *enabled,
                })
                .collect(),
            consent_recorded: consent.is_some(),
        };
        let id = format!("evt_{}", crate::support::new_id());
        self.tell_practice("preference.updated", &id, &fields)
            .await?;
        if consent.is_some() {
            after.consent = consent;
        }
        Ok(after)
    }

    fn standing(&self, patient: &Patient, chosen: &Chosen) -> PatientChoices {
        let reach = &self.config.reach;
        let mut standing = Vec::new();
        for category in Category::ALL {
            for (channel, recipient) in patient.channels() {
                let choice = chosen.choice(channel, &recipient.hash, *category);
                standing.push(Standing {
                    category: *category,
                    channel,
                    enabled: choice.map_or(reach.on_by_default(*category, channel), |c| c.enabled),
                    set_by: choice.map(|c| c.source),
                    updated_at: choice.map(|c| c.updated_at),
                });
            }
        }
        let consent = patient
            .phone
            .as_ref()
            .and_then(|phone| chosen.consent(&phone.hash))
            .cloned();
        PatientChoices { standing, consent }
    }
}

/// The (channel, hash) of each address given.
fn keys(patient: &Patient) -> Vec<(Channel, String)> {
    patient
        .channels()
        .map(|(channel, r)| (channel, r.hash.clone()))
        .collect()
}
