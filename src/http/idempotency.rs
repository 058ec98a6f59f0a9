//! The `Idempotency-Key` header of the sending routes: checked, and tied to a hash of the
//! route and the canonical body, so that the same key with another request is told apart.

use ring::digest;

use super::route::{Incoming, Route};
use crate::app::{Idempotency, RequestContext};
use crate::error::{Error, ErrorCode};

/// The request's context with its key, if it sent one; a malformed key is a 400.
pub(super) fn with_key(
    route: Route,
    incoming: &Incoming,
    context: &RequestContext,
) -> Result<RequestContext, Error> {
    let Some(value) = incoming.parts.headers.get("idempotency-key") else {
        return Ok(context.clone());
    };
    let key = value
        .to_str()
        .ok()
        .filter(|key| {
            (1..=255).contains(&key.len()) && key.bytes().all(|b| (0x20..=0x7e).contains(&b))
        })
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidIdempotencyKey,
                "The Idempotency-Key header must be 1 to 255 printable ASCII characters.",
            )
            .with_hint("A UUID made by the caller for each logical send is a good key.")
        })?;
    // JSON is compared as its value (keys sorted, no whitespace), so a retry that serialises the
    // same request differently is still the same request.
    let canonical = serde_json::from_slice::<serde_json::Value>(&incoming.body)
        .ok()
        .and_then(|value| serde_json::to_vec(&value).ok())
        .unwrap_or_else(|| incoming.body.to_vec());
    let mut hash = digest::Context::new(&digest::SHA256);
    hash.update(route.path().as_bytes());
    hash.update(b"\n");
    hash.update(&canonical);
    Ok(RequestContext {
        idempotency: Some(Idempotency {
            key: key.to_owned(),
            request_hash: hex::encode(hash.finish()),
        }),
        ..context.clone()
    })
}
