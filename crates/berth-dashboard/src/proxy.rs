//! `/api/...` → the Engine API at `/v{negotiated}/...`: method, path,
//! query and a JSON body go through; the answer (status, content type and
//! body, streamed: events, logs, stats) comes back as the daemon sent it.
//! Nothing else of the browser's request reaches the daemon: no cookies,
//! no upgrade.

use crate::body::{self, Out};
use berth_client::{Client, ClientError, RequestBody};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};

/// Request bodies are small JSON documents (create, update, connect).
const MAX_BODY: usize = 1 << 20;

pub async fn forward(client: &Client, req: Request<Incoming>, path_and_query: &str) -> Response<Out> {
    if !path_and_query.starts_with('/') || path_and_query.split(['/', '?']).any(|s| s == "..") {
        return error(StatusCode::BAD_REQUEST, "berth dashboard: bad API path");
    }
    let method = req.method().clone();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "berth dashboard: request body too large"),
    };
    let body = if body.is_empty() { RequestBody::Empty } else { RequestBody::Json(body.to_vec()) };
    let method = if method == Method::HEAD { Method::HEAD } else { method };
    match client.forward(method, path_and_query, body).await {
        Ok(resp) => {
            let mut out = Response::builder().status(resp.status()).header(CACHE_CONTROL, "no-store");
            if let Some(ct) = resp.headers().get(CONTENT_TYPE) {
                out = out.header(CONTENT_TYPE, ct);
            }
            out.body(body::passthrough(resp.into_body()))
                .unwrap_or_else(|_| error(StatusCode::BAD_GATEWAY, "berth dashboard: bad answer from the daemon"))
        }
        Err(e) => client_error(&e),
    }
}

/// A berth-client error as the browser sees it: the daemon's own status
/// and message, or 502 when the daemon could not be reached.
pub fn client_error(e: &ClientError) -> Response<Out> {
    let status = e.status().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::BAD_GATEWAY);
    let msg = if e.is_api() { e.to_string() } else { format!("daemon unreachable: {e}") };
    error(status, &msg)
}

/// A `{"message": ...}` answer, the API's own error shape.
pub fn error(status: StatusCode, message: &str) -> Response<Out> {
    let b = serde_json::json!({ "message": message }).to_string();
    let mut r = Response::new(body::full(b));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    r.headers_mut().insert(CACHE_CONTROL, hyper::header::HeaderValue::from_static("no-store"));
    r
}
