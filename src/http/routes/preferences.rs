//! `GET /api/preferences?email=&phone=` and `PATCH /api/preferences`: a patient's choices per
//! category and channel (the practice's defaults where they made none) and SMS consent.
//! Credentials as for the message log.

use http::{Method, StatusCode};
use schemars::JsonSchema;
use serde::Serialize;

use super::super::query::Query;
use super::super::route::{Endpoint, Incoming, Reply, Route};
use super::super::{pipeline, request, response};
use crate::app::{App, ChoiceChange, Patient, PatientChoices, RequestContext};
use crate::error::{Error, ErrorCode};
use crate::names::{Category, Channel, ChoiceSource};
use crate::requests::{PatientAddresses, PreferencesRequest, patient};

pub const PREFERENCES: Endpoint = Endpoint {
    route: Route::Preferences,
    caller_check: Some(pipeline::check_reader),
    handler: |app, incoming, context| Box::pin(preferences(app, incoming, context)),
};

/// The query parameters of `GET` (the description lists the same).
pub(in crate::http) const PARAMETERS: &[&str] = &["email", "phone"];

async fn preferences(
    app: &App,
    incoming: Incoming,
    context: &RequestContext,
) -> Result<Reply, Error> {
    let (addresses, choices) = match incoming.parts.method {
        Method::GET => {
            let query = Query::parse(&incoming, PARAMETERS)?;
            let mut problems = Vec::new();
            let addresses = patient(query.get("email"), query.get("phone"), &mut problems);
            if !problems.is_empty() {
                return Err(Error::invalid_fields(problems));
            }
            let choices = app.patient_choices(&hashed(app, &addresses)).await?;
            (addresses, choices)
        }
        Method::PATCH => {
            Query::parse(&incoming, &[])?;
            let request: PreferencesRequest = request::json(&incoming)?;
            let change = request.parse()?;
            let patient = hashed(app, &change.patient);
            let change_set = ChoiceChange {
                set: change.set,
                consent: change.consent,
                source: Some(ChoiceSource::Api),
            };
            let choices = app.change_choices(&patient, change_set, context).await?;
            (change.patient, choices)
        }
        ref method => {
            return Err(Error::new(
                ErrorCode::MethodNotAllowed,
                format!("{method} is not answered here: GET or PATCH /api/preferences."),
            ));
        }
    };
    let body = Answer::new(&addresses, &choices);
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
    fn new(addresses: &PatientAddresses, choices: &PatientChoices) -> Self {
        use crate::support::timestamp;
        Self {
            success: true,
            email: addresses.email.as_ref().map(|a| a.masked()),
            phone: addresses.phone.as_ref().map(|n| n.masked()),
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
        }
    }
}
