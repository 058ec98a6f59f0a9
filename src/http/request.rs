//! Reading a request: the body, once and bounded, and JSON with errors a caller can act on.

use bytes::Bytes;
use http::header;
use http_body_util::{BodyExt, Limited};
use serde::de::DeserializeOwned;

use super::route::Incoming;
use crate::error::{Error, ErrorCode};

/// Vercel refuses request bodies over 4.5 MB; the same limit applies locally, so a request
/// that works with `cargo run` works when deployed.
pub const MAX_BODY_BYTES: usize = 4_718_592;

/// The body, at most `MAX_BODY_BYTES` (refused from the declared length when there is one).
pub async fn read_body<B>(headers: &http::HeaderMap, body: B) -> Result<Bytes, Error>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let collected = Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large()
            } else {
                Error::new(
                    ErrorCode::UnreadableBody,
                    "The request body could not be read completely.",
                )
            }
        })?;
    Ok(collected.to_bytes())
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
