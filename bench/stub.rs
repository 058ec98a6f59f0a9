//! Benchmark stub: answers SES v2 `SendEmail`, STS `AssumeRoleWithWebIdentity`, Twilio
//! `Messages.json` and the events receiver (`/events`) at once, so that a benchmark measures the functions, not an emulator. Listens on
//! 127.0.0.1:$PORT.

use std::convert::Infallible;

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};

/// Temporary credentials that expire long after any benchmark ends.
const STS_ANSWER: &str = "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIABENCHMARKSTUB00</AccessKeyId><SecretAccessKey>bench-temporary-secret</SecretAccessKey><SessionToken>bench-session-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>";

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    // Read the whole body, as a real provider would.
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let (status, body) = if path == "/v2/email/outbound-emails" {
        (
            StatusCode::OK,
            r#"{"MessageId":"0100018b-bench-stub-0000"}"#,
        )
    } else if String::from_utf8_lossy(&body).contains("Action=AssumeRoleWithWebIdentity") {
        (StatusCode::OK, STS_ANSWER)
    } else if path.ends_with("/Messages.json") {
        (
            StatusCode::CREATED,
            r#"{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}"#,
        )
    } else if path == "/events" {
        // The practice app's events receiver (the dispatcher's benchmark), accepting each.
        (StatusCode::OK, "{}")
    } else {
        (StatusCode::NOT_FOUND, r#"{"message":"not stubbed"}"#)
    };
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, hyper::service::service_fn(answer))
                .await;
        });
    }
}
