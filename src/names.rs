//! The names the API gives its providers, channels and modes: in answers, health, logs and the
//! audit trail they are these strings and no others.

use serde::Serialize;

/// Declares a closed set of names, each serialised as its string.
macro_rules! names {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names! {
    /// Who carries a message.
    Provider {
        AwsSes = "aws-ses",
        Smtp = "smtp",
        Twilio = "twilio",
    }
}

names! {
    /// How a message reaches the patient.
    Channel {
        Email = "email",
        Sms = "sms",
    }
}

names! {
    /// What a channel does with a send: hands it to the provider, only logs it (no credentials
    /// at all), or refuses it until its configuration is fixed.
    Mode {
        Live = "live",
        Demo = "demo",
        Misconfigured = "misconfigured",
    }
}
