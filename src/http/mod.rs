//! The HTTP adapter: the routes, the request pipeline every request goes through, the JSON
//! answers (the requests' shapes are `crate::requests`), and the two ways to serve them (one Vercel function per
//! route, or every route on one local port for `cargo run`). Vercel specifics live here only.

mod health;
mod idempotency;
pub mod openapi;
pub mod pages;
mod pipeline;
mod query;
mod request;
mod response;
mod route;
pub mod routes;
mod serve;
#[cfg(test)]
mod tests;

pub use pipeline::handle;
pub use request::MAX_BODY_BYTES;
pub use route::{Endpoint, Route};
pub use serve::{serve_all, serve_function};
pub use vercel_runtime::ResponseBody;
