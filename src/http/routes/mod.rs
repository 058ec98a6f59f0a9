//! One file per group of routes; each route is an [`Endpoint`] constant that its function
//! binary under `api/` serves. A new route goes here, in [`Route`](super::Route), and in `api/`.

pub(in crate::http) mod audit;
mod batch;
mod batch_answers;
mod batches;
mod dispatch;
mod docs;
pub(in crate::http) mod events;
mod health;
mod message_csv;
mod message_json;
mod message_trail;
pub(in crate::http) mod messages;
pub(in crate::http) mod preferences;
mod send_answers;
mod sends;
pub(in crate::http) mod suppressions;
pub(in crate::http) mod unsubscribe;
mod webhooks;

pub use audit::AUDIT;
pub use batch::BATCH;
pub use batches::BATCHES;
pub use dispatch::DISPATCH;
pub use docs::{OPENAPI, PREVIEW, TEMPLATES};
pub use events::EVENTS;
pub use health::HEALTH;
pub use messages::{MESSAGE_STATS, MESSAGES};
pub use preferences::PREFERENCES;
pub use sends::{SEND_EMAIL, SEND_NOTIFICATION, SEND_SMS};
pub use suppressions::SUPPRESSIONS;
pub use unsubscribe::UNSUBSCRIBE;
pub use webhooks::{SES_WEBHOOK, TWILIO_WEBHOOK};

/// What the OpenAPI description takes from the routes: their answers' types and their query
/// parameters.
pub(super) mod contract {
    pub(in crate::http) use super::batch_answers::{
        BatchBody, BatchPage, CancelledBody as BatchCancelled,
    };
    pub(in crate::http) use super::dispatch::DispatchAnswer;
    pub(in crate::http) use super::docs::{AllParts, SmsPreview, Templates};
    pub(in crate::http) use super::events::Page as EventPage;
    pub(in crate::http) use super::health::HealthAnswer;
    pub(in crate::http) use super::messages::{Cancelled, One, Page, StatsBody};
    pub(in crate::http) use super::preferences::Answer as PreferencesAnswer;
    pub(in crate::http) use super::send_answers::{NotificationBody, ScheduledBody, SentBody};
    pub(in crate::http) use super::suppressions::{One as OneSuppression, Page as SuppressionPage};
    pub(in crate::http) use super::webhooks::SnsAnswer;
    pub(in crate::http) use super::{audit, events, messages, suppressions};
    #[cfg(test)]
    pub(in crate::http) use super::{preferences, unsubscribe};
}

#[allow(unused_imports)]
use super::Endpoint;
