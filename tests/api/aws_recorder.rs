//! A recording proxy in front of moto: moto checks no signature, so which credentials signed a
//! request to SES, and how many STS exchanges a function made, are read off the requests here.
//! It can also shorten the lifetime STS gives the next credentials, to bring their expiry near.
//! In front of Prism it counts and times what reached Twilio (batches, the pacer).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// One request the function made to AWS, and what came back.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub sts: bool,
    /// The access key in the SigV4 `Authorization` header (`None` for unsigned STS calls).
    pub access_key: Option<String>,
    pub security_token: Option<String>,
    pub body: String,
    pub answer: String,
    /// When it reached the proxy.
    pub at: std::time::Instant,
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    /// STS answers still to be rewritten to expire this many seconds from now.
    short_lived: Vec<i64>,
}

pub struct AwsRecorder {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl AwsRecorder {
    /// Starts a proxy to moto on a free loopback port.
    pub async fn start() -> Self {
        Self::in_front_of(crate::support::moto_url()).await
    }

    /// Starts a proxy to `target` (moto, Prism) on a free loopback port.
    pub async fn in_front_of(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (state, client, target) = (shared.clone(), client.clone(), target.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        relay(request, state.clone(), client.clone(), target.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, state }
    }

    /// The next STS answer's credentials expire `seconds` from now instead of in an hour.
    pub fn shorten_next_sts_answer(&self, seconds: i64) {
        self.state.lock().unwrap().short_lived.push(seconds);
    }

    pub fn sts_calls(&self) -> Vec<Recorded> {
        self.recorded(true)
    }

    pub fn ses_calls(&self) -> Vec<Recorded> {
        self.recorded(false)
    }

    /// Every request relayed, in the order they came.
    pub fn calls(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    fn recorded(&self, sts: bool) -> Vec<Recorded> {
        let state = self.state.lock().unwrap();
        state
            .requests
            .iter()
            .filter(|r| r.sts == sts)
            .cloned()
            .collect()
    }
}

/// The text between `<tag>` and `</tag>` in an STS answer.
pub fn xml_value<'a>(answer: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = answer.find(&open).expect("the tag") + open.len();
    let end = start + answer[start..].find('<').expect("its end");
    &answer[start..end]
}

async fn relay(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
    client: reqwest::Client,
    target: String,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let at = std::time::Instant::now();
    let (parts, body) = request.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body).into_owned();
    let sts = text.contains("Action=AssumeRoleWithWebIdentity");
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let access_key = header("authorization").and_then(|a| {
        let credential = a.split("Credential=").nth(1)?;
        credential.split('/').next().map(str::to_owned)
    });
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut forward = client
        .request(parts.method.clone(), format!("{target}{path}"))
        .body(body);
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST {
            forward = forward.header(name, value);
        }
    }
    let response = forward.send().await.expect("the peer answers");
    let status = response.status();
    let content_type = response.headers().get("content-type").cloned();
    let mut answer = response.text().await.unwrap();
    let mut state = state.lock().unwrap();
    if sts && !state.short_lived.is_empty() {
        let seconds = state.short_lived.remove(0);
        let expiry = time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds);
        let expiry = expiry
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let old = xml_value(&answer, "Expiration").to_owned();
        answer = answer.replace(&old, &expiry);
    }
    state.requests.push(Recorded {
        sts,
        access_key,
        security_token: header("x-amz-security-token"),
        body: text,
        answer: answer.clone(),
        at,
    });
    let mut reply = Response::builder().status(status);
    if let Some(content_type) = content_type {
        reply = reply.header("content-type", content_type);
    }
    Ok(reply.body(Full::new(Bytes::from(answer))).unwrap())
}
