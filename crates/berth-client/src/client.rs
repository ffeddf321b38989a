//! The client: version negotiation, then typed requests under `/v1.xx`.

use crate::body::RequestBody;
use crate::error::ClientError;
use crate::hijack::{self, Hijacked};
use crate::host::Host;
use crate::query::Query;
use crate::stream::ResponseStream;
use crate::transport;
use berth_api::container::WaitResponse;
use berth_api::version::ApiVersion;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Method, Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Error bodies larger than this are cut: they are messages, not data.
const MAX_ERROR_BODY: usize = 1 << 20;

/// Docker's fallback when a daemon does not report its version.
const FALLBACK_VERSION: ApiVersion = ApiVersion { major: 1, minor: 24 };

#[derive(Clone)]
pub struct Client {
    host: Host,
    tls: Option<Arc<rustls::ClientConfig>>,
    version: OnceCell<ApiVersion>,
    user_agent: String,
}

impl Client {
    pub fn new(host: Host) -> Client {
        Client { host, tls: None, version: OnceCell::new(), user_agent: format!("berth-cli/{}", env!("CARGO_PKG_VERSION")) }
    }

    /// A client speaking TLS to a TCP host (see [`crate::TlsOptions`]).
    pub fn with_tls(host: Host, tls: Option<Arc<rustls::ClientConfig>>) -> Client {
        Client { tls, ..Client::new(host) }
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The negotiated API version: `GET /_ping` once, then the lower of the
    /// daemon's `API-Version` and the version this client speaks.
    pub async fn api_version(&self) -> Result<ApiVersion, ClientError> {
        self.version
            .get_or_try_init(|| async {
                let req = self.build(Method::GET, "/_ping".to_string(), RequestBody::Empty)?;
                let resp = transport::send(&self.host, self.tls.as_ref(), req).await?;
                let server = resp
                    .headers()
                    .get("api-version")
                    .and_then(|v| v.to_str().ok())
                    .and_then(ApiVersion::parse)
                    .unwrap_or(FALLBACK_VERSION);
                Ok(server.min(ApiVersion::current()))
            })
            .await
            .copied()
    }

    fn build(&self, method: Method, uri: String, body: RequestBody) -> Result<Request<crate::body::BoxedBody>, ClientError> {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, self.host.authority())
            .header(USER_AGENT, self.user_agent.as_str());
        if let Some(ct) = body.content_type() {
            b = b.header(CONTENT_TYPE, ct);
        }
        b.body(body.boxed()).map_err(|e| ClientError::Request(e.to_string()))
    }

    async fn uri(&self, path: &str, query: &Query) -> Result<String, ClientError> {
        let v = self.api_version().await?;
        let mut uri = format!("/v{v}{path}");
        if !query.is_empty() {
            uri.push('?');
            uri.push_str(&query.encode());
        }
        Ok(uri)
    }

    /// Sends a request and returns the response if its status is a success
    /// (1xx-3xx: docker treats 304 "not modified" as success too).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: RequestBody,
    ) -> Result<Response<Incoming>, ClientError> {
        let uri = self.uri(path, query).await?;
        let req = self.build(method, uri, body)?;
        let resp = transport::send(&self.host, self.tls.as_ref(), req).await?;
        check(resp).await
    }

    pub(crate) async fn request_with_headers(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        headers: &[(&'static str, &'static str)],
        body: RequestBody,
    ) -> Result<Response<Incoming>, ClientError> {
        let uri = self.uri(path, query).await?;
        let mut req = self.build(method, uri, body)?;
        for (k, v) in headers {
            req.headers_mut().insert(*k, HeaderValue::from_static(v));
        }
        transport::send(&self.host, self.tls.as_ref(), req).await
    }

    /// Sends `method /v{negotiated}{path_and_query}` as is and returns the
    /// daemon's answer whatever its status: for a proxy (berth dashboard)
    /// that passes API errors on to its own client.
    pub async fn forward(&self, method: Method, path_and_query: &str, body: RequestBody) -> Result<Response<Incoming>, ClientError> {
        self.forward_with_header(method, path_and_query, None, body).await
    }

    /// `forward` with one extra header (a pull's `X-Registry-Auth`).
    pub async fn forward_with_header(
        &self,
        method: Method,
        path_and_query: &str,
        header: Option<(&'static str, &str)>,
        body: RequestBody,
    ) -> Result<Response<Incoming>, ClientError> {
        let v = self.api_version().await?;
        let mut req = self.build(method, format!("/v{v}{path_and_query}"), body)?;
        if let Some((name, value)) = header {
            let value = HeaderValue::from_str(value).map_err(|e| ClientError::Request(format!("invalid {name} header: {e}")))?;
            req.headers_mut().insert(name, value);
        }
        transport::send(&self.host, self.tls.as_ref(), req).await
    }

    /// The whole body of a successful request.
    pub async fn bytes(&self, method: Method, path: &str, query: &Query, body: RequestBody) -> Result<Bytes, ClientError> {
        let resp = self.request(method, path, query, body).await?;
        Ok(resp.into_body().collect().await?.to_bytes())
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str, query: &Query) -> Result<T, ClientError> {
        let b = self.bytes(Method::GET, path, query, RequestBody::Empty).await?;
        Ok(serde_json::from_slice(&b)?)
    }

    /// POSTs an optional JSON body and decodes a JSON answer.
    pub async fn post_json<T: DeserializeOwned, B: Serialize>(
        &self,
        path: &str,
        query: &Query,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let b = self.bytes(Method::POST, path, query, json_body(body)?).await?;
        Ok(serde_json::from_slice(&b)?)
    }

    /// POSTs and ignores the answer's body (start, stop, kill, rename ...).
    pub async fn post(&self, path: &str, query: &Query) -> Result<(), ClientError> {
        self.bytes(Method::POST, path, query, RequestBody::Empty).await.map(|_| ())
    }

    pub async fn delete_json<T: DeserializeOwned>(&self, path: &str, query: &Query) -> Result<T, ClientError> {
        let b = self.bytes(Method::DELETE, path, query, RequestBody::Empty).await?;
        Ok(serde_json::from_slice(&b)?)
    }

    pub async fn delete(&self, path: &str, query: &Query) -> Result<(), ClientError> {
        self.bytes(Method::DELETE, path, query, RequestBody::Empty).await.map(|_| ())
    }

    /// A request whose answer is read as it streams (logs, save, load ...).
    pub async fn stream(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: RequestBody,
    ) -> Result<ResponseStream, ClientError> {
        let resp = self.request(method, path, query, body).await?;
        Ok(ResponseStream::new(resp.into_body()))
    }

    /// `stream` with one extra header (`X-Registry-Auth`).
    pub async fn stream_with_header(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        header: (&'static str, &str),
        body: RequestBody,
    ) -> Result<ResponseStream, ClientError> {
        let uri = self.uri(path, query).await?;
        let mut req = self.build(method, uri, body)?;
        let value = HeaderValue::from_str(header.1).map_err(|e| ClientError::Request(format!("invalid {} header: {e}", header.0)))?;
        req.headers_mut().insert(header.0, value);
        let resp = check(transport::send(&self.host, self.tls.as_ref(), req).await?).await?;
        Ok(ResponseStream::new(resp.into_body()))
    }

    /// Starts `POST /containers/{id}/wait?condition=...` and returns once
    /// the daemon has accepted it (response head received), so a following
    /// start cannot race past it. The result arrives with the body.
    pub async fn wait(&self, id: &str, condition: &str) -> Result<WaitHandle, ClientError> {
        let q = Query::new().non_empty("condition", condition);
        let resp = self.request(Method::POST, &format!("/containers/{}/wait", segment(id)), &q, RequestBody::Empty).await?;
        Ok(WaitHandle { body: resp.into_body() })
    }

    /// Hijacks a connection (attach, exec start): see [`Hijacked`].
    pub async fn hijack(&self, path: &str, query: &Query) -> Result<Hijacked, ClientError> {
        hijack::hijack(self, path, query, RequestBody::Empty).await
    }

    /// Hijacks a connection with a JSON request body (exec start).
    pub async fn hijack_json<B: Serialize>(&self, path: &str, query: &Query, body: &B) -> Result<Hijacked, ClientError> {
        hijack::hijack(self, path, query, json_body(Some(body))?).await
    }
}

/// A pending container wait.
pub struct WaitHandle {
    body: Incoming,
}

impl WaitHandle {
    pub async fn result(self) -> Result<WaitResponse, ClientError> {
        let b = self.body.collect().await?.to_bytes();
        Ok(serde_json::from_slice(&b)?)
    }
}

/// Escapes a name or ID for use as a path segment.
pub fn segment(s: &str) -> String {
    crate::query::escape(s, true)
}

fn json_body<B: Serialize>(body: Option<&B>) -> Result<RequestBody, ClientError> {
    match body {
        Some(b) => Ok(RequestBody::Json(serde_json::to_vec(b)?)),
        None => Ok(RequestBody::Empty),
    }
}

/// Turns an error status into [`ClientError::Api`] with the daemon's message.
pub(crate) async fn check(resp: Response<Incoming>) -> Result<Response<Incoming>, ClientError> {
    let status = resp.status().as_u16();
    if (100..400).contains(&status) {
        return Ok(resp);
    }
    let body = http_body_util::Limited::new(resp.into_body(), MAX_ERROR_BODY)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    Err(ClientError::from_body(status, &body))
}
