//! Email (AWS SES v2) and SMS (Twilio) notifications for healthcare practices, served as Vercel
//! functions. The crate is layered, each layer using only those below it (`scripts/check-layers`
//! holds the list):
//!
//! - `http`: the adapter. Routes, the request pipeline, the JSON contract, serving.
//! - `app`: the service. Sends, failover, caps, audit, delivery events, health.
//! - `email`, `sms`, `webhooks`, `access`, `audit`, `store`, `requests`: providers, webhook
//!   verification, the safeguards the service uses, the state that outlives a request and the
//!   send requests as callers write them.
//! - `config`, `templates`, `domain`, `support`, `error`, `names`: the foundations.

// `Error` is the API's answer to a failure, built only on failure paths: its size (the
// misconfiguration, field and failover details it carries) costs nothing measurable there, and
// boxing it would only add an allocation to every refusal.
#![allow(clippy::result_large_err)]

pub mod access;
pub mod app;
pub mod audit;
pub mod config;
pub mod domain;
pub mod email;
pub mod error;
pub mod http;
pub mod names;
pub mod requests;
pub mod sms;
pub mod store;
pub mod support;
pub mod templates;
pub mod webhooks;

pub use app::App;
pub use config::Config;
pub use error::{Error, ErrorCode};

/// mimalloc instead of glibc's allocator: a send makes hundreds of small, short-lived
/// allocations (the SES SDK's request pipeline, headers, JSON), and glibc's malloc and free were
/// over a tenth of a warm send's CPU (BENCHMARKS.md). Its v2 line, built with `no_thp`: v3 set
/// up its arena at start-up for about 1.3 ms more per cold start, and transparent huge pages
/// would grow a small function's resident memory in 2 MiB steps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
