//! `Sent`: what a channel answers when a message was accepted.

/// A message accepted by a provider (with its id) or logged by demo mode (without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: Option<String>,
    pub demo: bool,
    /// The provider that took the message (none in demo mode).
    pub provider: Option<&'static str>,
    /// Providers tried before it, which failed in a way that let the next one be tried.
    pub failed_over: Vec<Attempt>,
}

/// One provider that was tried and failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attempt {
    pub provider: &'static str,
    pub code: &'static str,
}

impl Sent {
    pub fn live(message_id: impl Into<String>) -> Self {
        Self {
            message_id: Some(message_id.into()),
            demo: false,
            provider: None,
            failed_over: Vec::new(),
        }
    }

    pub fn demo() -> Self {
        Self {
            message_id: None,
            demo: true,
            provider: None,
            failed_over: Vec::new(),
        }
    }
}

/// What a demo sender "sent", newest last, bounded so that a long-running dev server stays small.
#[derive(Debug)]
pub struct Outbox<T> {
    messages: std::sync::Mutex<std::collections::VecDeque<T>>,
}

impl<T> Default for Outbox<T> {
    fn default() -> Self {
        Self {
            messages: Default::default(),
        }
    }
}

impl<T: Clone> Outbox<T> {
    const CAPACITY: usize = 100;

    pub fn push(&self, message: &T) {
        if let Ok(mut messages) = self.messages.lock() {
            if messages.len() == Self::CAPACITY {
                messages.pop_front();
            }
            messages.push_back(message.clone());
        }
    }

    pub fn messages(&self) -> Vec<T> {
        self.messages
            .lock()
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    }
}
