//! reqwest as the SES SDK's HTTP client, so the process holds one HTTP/TLS stack (reqwest +
//! rustls + bundled roots) and one connection pool for both providers, instead of the SDK's
//! own hyper client that loads the system certificate store when it is built.

use aws_sdk_sesv2::config::SharedHttpClient;
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;

#[derive(Debug, Clone)]
struct ReqwestConnector {
    client: reqwest::Client,
    read_timeout: Option<std::time::Duration>,
}

/// An SDK HTTP client that sends through `client`. The SDK's read timeout is applied to each
/// request; the connect timeout belongs to `client` itself.
pub fn http_client(client: reqwest::Client) -> SharedHttpClient {
    http_client_fn(move |settings, _components| {
        SharedHttpConnector::new(ReqwestConnector {
            client: client.clone(),
            read_timeout: settings.read_timeout(),
        })
    })
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let connector = self.clone();
        HttpConnectorFuture::new(async move { connector.send(request).await })
    }
}

impl ReqwestConnector {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ConnectorError> {
        // The signed headers move across as they are: no header is parsed a second time.
        let (parts, body) = request
            .try_into_http1x()
            .map_err(|e| ConnectorError::user(e.into()))?
            .into_parts();
        // SendEmail bodies are always in memory; a streaming body would be a programming error.
        let body = body
            .bytes()
            .map(bytes::Bytes::copy_from_slice)
            .ok_or_else(|| {
                ConnectorError::user("streaming request bodies are not supported".into())
            })?;
        let mut outgoing = reqwest::Request::try_from(http::Request::from_parts(parts, body))
            .map_err(|e| ConnectorError::user(e.into()))?;
        *outgoing.timeout_mut() = self.read_timeout;
        let mut response = self
            .client
            .execute(outgoing)
            .await
            .map_err(connector_error)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let bytes = response.bytes().await.map_err(connector_error)?;
        let mut http_response = http::Response::new(SdkBody::from(bytes));
        *http_response.status_mut() = status;
        *http_response.headers_mut() = headers;
        HttpResponse::try_from(http_response).map_err(|e| ConnectorError::other(e.into(), None))
    }
}

/// Timeouts and connection failures keep their meaning, so the SDK's retry policy treats them
/// as transient. A failure to connect (a connect timeout included) is I/O: the request never
/// left, so another provider may safely be tried; any other timeout may follow a delivered
/// request.
fn connector_error(error: reqwest::Error) -> ConnectorError {
    if error.is_connect() {
        ConnectorError::io(error.into())
    } else if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else if error.is_request() || error.is_body() {
        ConnectorError::io(error.into())
    } else {
        ConnectorError::other(error.into(), None)
    }
}
