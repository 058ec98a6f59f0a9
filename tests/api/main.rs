//! The integration tests, one binary (each test crate would relink the SES SDK): the real
//! function binaries driven over HTTP, against the emulators `scripts/test` starts.

mod activity;
mod aws_recorder;
mod batches;
mod choices;
mod contract;
mod credentials;
mod demo_functions;
mod failover;
mod fallback;
mod faults;
mod instances;
mod live_ses;
mod live_twilio;
mod notifications;
mod outbox;
mod permissions;
mod reach;
mod scheduled;
mod security;
mod store;
mod support;
mod tls;
mod webhooks;
