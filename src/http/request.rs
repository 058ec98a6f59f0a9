//! Reading a request: the body, once and bounded, and JSON with errors a caller can act on.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use super::route::Incoming;
use crate::error::{Error, ErrorCode};

/// Vercel refuses request bodies over 4.5 MB; the same limit applies locally, so a request
/// that works with `cargo run` works when deployed.
pub const MAX_BODY_BYTES: usize = 4_718_592;

/// The 413 for a body over the limit is answered at once, and the rest of the body is then
/// read and dropped, up to this many bytes in all and for at most `DRAIN_TIME`: a client that
/// writes its whole body before reading (Python's `urllib`, many HTTP libraries) would
/// otherwise get a broken pipe instead of the answer. (On Vercel the platform refuses such
/// bodies before the function runs.)
const DRAIN_BYTES: usize = 4 * MAX_BODY_BYTES;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The body, at most `MAX_BODY_BYTES`.
pub async fn read_body<B>(headers: &http::HeaderMap, body: B) -> Result<Bytes, Error>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut body = Box::pin(body);
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        tokio::spawn(drain(body, 0));
        return Err(too_large());
    }
    let mut bytes = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            Error::new(
                ErrorCode::UnreadableBody,
                "The request body could not be read completely.",
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > MAX_BODY_BYTES {
                tokio::spawn(drain(body, bytes.len() + data.len()));
                return Err(too_large());
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes.freeze())
}

/// Reads and drops what is left of `body`, within the drain bounds.
async fn drain<B>(mut body: std::pin::Pin<Box<B>>, mut read: usize)
where
    B: hyper::body::Body<Data = Bytes>,
{
    let rest = async {
        while read < DRAIN_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, rest).await;
}

fn too_large() -> Error {
    Error::new(
        ErrorCode::PayloadTooLarge,
        format!("The request body is larger than {MAX_BODY_BYTES} bytes (4.5 MB)."),
    )
}

/// The body as JSON `T`; a body declared as anything but JSON is a 415.
pub fn json<T: DeserializeOwned>(incoming: &Incoming) -> Result<T, Error> {
    let content_type = incoming
        .parts
        .headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_ascii_lowercase());
    if let Some(content_type) = content_type {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(Error::new(
                ErrorCode::UnsupportedMediaType,
                format!("The body must be JSON, but it was sent as {essence:?}."),
            )
            .with_hint("Send the header Content-Type: application/json."));
        }
    }
    parse_json(&incoming.body)
}

/// Parses `bytes` as `T`: JSON syntax errors are `invalid_json`, wrong types and unknown fields
/// are `invalid_request` naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::new(
            ErrorCode::InvalidJson,
            "The request body is empty: send a JSON object.",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        if error.inner().classify() == serde_json::error::Category::Data {
            Error::from_serde("", error)
        } else {
            invalid_json(error.inner())
        }
    })?;
    deserializer.end().map_err(|e| invalid_json(&e))?;
    Ok(value)
}

fn invalid_json(error: &serde_json::Error) -> Error {
    Error::new(
        ErrorCode::InvalidJson,
        format!("The request body is not valid JSON: {error}."),
    )
}
