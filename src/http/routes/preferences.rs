//! `GET /api/preferences?email=&phone=` and `PATCH /api/preferences`: a patient's choices per
//! category and channel (the practice's defaults where they made none) and SMS consent.
//! Credentials as for the message log, or the preference page's signed link in `Patient-Link`
//! (the link then names the patient, and only choices can be changed: consent is the
//! practice's to record).

use http::{Method, StatusCode, header};
use schemars::JsonSchema;
use serde::Serialize;

use super::super::query::Query;
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{pipeline, request, response};
use crate::app::{App, ChoiceChange, Patient, PatientChoices, RequestContext};
use crate::config::Branding;
use crate::domain::Caller;
use crate::error::{Error, ErrorCode, FieldError};
use crate::names::{Category, Channel, ChoiceSource};
use crate::requests::{PatientAddresses, PreferencesRequest, patient};

pub const PREFERENCES: Endpoint = Endpoint {
    route: Route::Preferences,
    // Checked by the handler: a patient's link, or a reader's credentials.
    caller_check: None,
    handler: |app, incoming, context| Box::pin(preferences(app, incoming, context)),
};

/// The query parameters of `GET` (the description lists the same).
pub(in crate::http) const PARAMETERS: &[&str] = &["email", "phone"];

/// The header the preference page sends its link's token in (the token never travels in a
/// URL that a log could keep).
pub const PATIENT_LINK: &str = "patient-link";

async fn preferences(
    app: &App,
    incoming: Incoming,
    context: &RequestContext,
) -> Result<Reply, Error> {
    let headers = &incoming.parts.headers;
    let linked = match headers.get(PATIENT_LINK) {
        Some(_) if headers.contains_key(header::AUTHORIZATION) => {
            return Err(Error::new(
                ErrorCode::InvalidAuthorization,
                "Send Patient-Link (the preference page) or Authorization (the practice), not both.",
            ));
        }
        Some(token) => Some(app.page_patient(token.to_str().unwrap_or_default())?),
        None => None,
    };
    let caller = match linked {
        Some(_) => Caller::Patient,
        None => pipeline::check_reader_or_manager(app, &incoming.parts.method, headers)?,
    };
    let context = &RequestContext {
        caller,
        ..context.clone()
    };
    let (patient, choices) = match incoming.parts.method {
        Method::GET => {
            let query = Query::parse(&incoming, PARAMETERS)?;
            let mut problems = Vec::new();
            let patient = match linked {
                Some(patient) => {
                    for field in PARAMETERS.iter().filter(|p| query.get(p).is_some()) {
                        problems.push(FieldError::new(
                            *field,
                            "is not taken with a link: the link names the patient",
                        ));
                    }
                    patient
                }
                None => {
                    let addresses = patient(query.get("email"), query.get("phone"), &mut problems);
                    hashed(app, &addresses)
                }
            };
            if !problems.is_empty() {
                return Err(Error::invalid_fields(problems));
            }
            let choices = app.patient_choices(&patient).await?;
            (patient, choices)
        }
        Method::PATCH => {
            Query::parse(&incoming, &[])?;
            let request: PreferencesRequest = request::json(&incoming)?;
            let (patient, change) = match linked {
                Some(patient) => {
                    let set =
                        request.parse_linked(patient.email.is_some(), patient.phone.is_some())?;
                    let change = ChoiceChange {
                        set,
                        consent: None,
                        source: Some(ChoiceSource::PreferencePage),
                    };
                    (patient, change)
                }
                None => {
                    let change = request.parse()?;
                    let change_set = ChoiceChange {
                        set: change.set,
                        consent: change.consent,
                        source: Some(ChoiceSource::Api),
                    };
                    (hashed(app, &change.patient), change_set)
                }
            };
            let choices = app.change_choices(&patient, change, context).await?;
            (patient, choices)
        }
        ref method => {
            return Err(Error::new(
                ErrorCode::MethodNotAllowed,
                format!("{method} is not answered here: GET or PATCH /api/preferences."),
            ));
        }
    };
    let body = Answer::new(&patient, &choices, &app.config().branding);
    Ok(Reply::from(response::json(
        &context.request_id,
        StatusCode::OK,
        &body,
    )))
}

fn hashed(app: &App, addresses: &PatientAddresses) -> Patient {
    Patient {
        email: addresses
            .email
            .as_ref()
            .map(|a| app.recipient(a.address(), a.masked())),
        phone: addresses
            .phone
            .as_ref()
            .map(|n| app.recipient(n.as_str(), n.masked())),
    }
}

/// A patient's choices, every category on each channel given.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Preferences")]
pub(in crate::http) struct Answer {
    #[schemars(extend("const" = true))]
    success: bool,
    /// The address, masked (absent when none was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    /// The number, masked (absent when none was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    preferences: Vec<Row>,
    /// The phone's consent to texts on file; `null` when none is.
    consent: Option<ConsentJson>,
    /// The practice, as the preference page names it.
    practice: PracticeJson,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "PracticeContact")]
struct PracticeJson {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    support_email: Option<String>,
}

/// One category on one channel.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Preference")]
struct Row {
    category: Category,
    channel: Channel,
    enabled: bool,
    /// A category the patient cannot turn off (one channel stays on).
    required: bool,
    /// Who set it; `null`: the practice's default.
    set_by: Option<ChoiceSource>,
    #[schemars(extend("format" = "date-time"))]
    updated_at: Option<String>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "SmsConsent")]
struct ConsentJson {
    #[schemars(extend("format" = "date-time"))]
    at: String,
    source: String,
    text_version: String,
    #[schemars(extend("format" = "date-time"))]
    recorded_at: String,
}

impl Answer {
    fn new(patient: &Patient, choices: &PatientChoices, practice: &Branding) -> Self {
        use crate::support::timestamp;
        Self {
            success: true,
            email: patient.email.as_ref().map(|r| r.masked.clone()),
            phone: patient.phone.as_ref().map(|r| r.masked.clone()),
            preferences: choices
                .standing
                .iter()
                .map(|s| Row {
                    category: s.category,
                    channel: s.channel,
                    enabled: s.enabled,
                    required: s.category.required(),
                    set_by: s.set_by,
                    updated_at: s.updated_at.map(timestamp),
                })
                .collect(),
            consent: choices.consent.as_ref().map(|c| ConsentJson {
                at: timestamp(c.at),
                source: c.source.clone(),
                text_version: c.text_version.clone(),
                recorded_at: timestamp(c.recorded_at),
            }),
            practice: PracticeJson {
                name: practice.practice_name.clone(),
                phone: practice.phone.clone(),
                support_email: practice.support_email.clone(),
            },
        }
    }
}
