//! `Sent`: what a channel answers when a message was accepted.

use crate::error::{Attempt, DeclinedRecipient, SuppressedRecipient};
use crate::names::Provider;

/// A message accepted by a provider (with its id) or logged by demo mode (without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Our id for the message in the message log, set by the service.
    pub id: Option<String>,
    /// The provider's id for the message.
    pub message_id: Option<String>,
    pub demo: bool,
    /// The provider that took the message (none in demo mode).
    pub provider: Option<Provider>,
    /// Providers tried before it, which failed in a way that let the next one be tried.
    pub failed_over: Vec<Attempt>,
    /// Recipients the suppression list kept it from (it went to the others).
    pub suppressed: Vec<SuppressedRecipient>,
    /// Recipients a choice kept it from.
    pub declined: Vec<DeclinedRecipient>,
}

impl Sent {
    pub fn live(message_id: impl Into<String>) -> Self {
        Self {
            id: None,
            message_id: Some(message_id.into()),
            demo: false,
            provider: None,
            failed_over: Vec::new(),
            suppressed: Vec::new(),
            declined: Vec::new(),
        }
    }

    pub fn demo() -> Self {
        Self {
            id: None,
            message_id: None,
            demo: true,
            provider: None,
            failed_over: Vec::new(),
            suppressed: Vec::new(),
            declined: Vec::new(),
        }
    }
}
