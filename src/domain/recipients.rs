//! `Recipients`: who a templated notification goes to.

use super::{EmailAddress, PhoneNumber};

/// An email address, a phone number, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
}
