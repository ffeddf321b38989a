//! `/api/...` → the Engine API at `/v{negotiated}/...`: method, path,
//! query and a JSON body go through; the answer (status, content type and
//! body, streamed: events, logs, stats) comes back as the daemon sent it.
//! Nothing else of the browser's request reaches the daemon: no cookies,
//! no upgrade. A pull gets the stored credentials for its registry
//! (`X-Registry-Auth`, see registry_auth), as `berth pull` would.

use crate::body::{self, Out};
use crate::registry_auth::{self, RegistryAuth};
use berth_client::{Client, ClientError, RequestBody};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};

/// Request bodies are small JSON documents (create, update, connect).
const MAX_BODY: usize = 1 << 20;

pub async fn forward(client: &Client, req: Request<Incoming>, path_and_query: &str, auth: Option<&RegistryAuth>) -> Response<Out> {
    if !path_ok(path_and_query) {
        return error(StatusCode::BAD_REQUEST, "berth dashboard: bad API path");
    }
    let method = req.method().clone();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "berth dashboard: request body too large"),
    };
    let body = if body.is_empty() { RequestBody::Empty } else { RequestBody::Json(body.to_vec()) };
    let registry_auth = match (auth, registry_auth::pulled_image(&method, path_and_query)) {
        (Some(lookup), Some(image)) => {
            let lookup = lookup.clone();
            tokio::task::spawn_blocking(move || lookup(&image)).await.ok().flatten()
        }
        _ => None,
    };
    let changes = !matches!(method, Method::GET | Method::HEAD);
    let send = {
        let (client, pq) = (client.clone(), path_and_query.to_string());
        async move {
            let header = registry_auth.as_deref().map(|h| ("X-Registry-Auth", h));
            client.forward_with_header(method, &pq, header, body).await
        }
    };
    // A change runs to its end even when the browser's connection is cut
    // before the daemon answers (Firefox cuts connections that stay silent
    // after the host's network changes, as a container's veth pair does);
    // the page learns the outcome from the event stream. Reads stop with
    // their connection.
    let answer = if changes {
        match tokio::spawn(send).await {
            Ok(a) => a,
            Err(_) => return error(StatusCode::BAD_GATEWAY, "berth dashboard: the request to the daemon failed"),
        }
    } else {
        send.await
    };
    match answer {
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

/// An API path: absolute, without dot-dot segments (the daemon's router
/// does not normalise them, but nothing should reach past `/v1.xx/`).
fn path_ok(path_and_query: &str) -> bool {
    let path = path_and_query.split('?').next().unwrap_or("");
    path.starts_with('/') && !path.split('/').any(|s| s == ".." || s == "." || s.eq_ignore_ascii_case("%2e%2e"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths() {
        assert!(path_ok("/containers/json?all=1"));
        assert!(path_ok("/containers/x/logs?since=a/../b"));
        assert!(!path_ok("containers/json"));
        assert!(!path_ok(""));
        assert!(!path_ok("/../../etc/passwd"));
        assert!(!path_ok("/containers/%2E%2E/json"));
        assert!(!path_ok("/./containers"));
    }

    #[test]
    fn unreachable_daemon_is_502() {
        let e = ClientError::Connect { host: berth_client::Host::Unix("/x".into()), source: std::io::Error::other("gone") };
        let r = client_error(&e);
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
        let e = ClientError::Api { status: 409, message: "conflict".into() };
        assert_eq!(client_error(&e).status(), StatusCode::CONFLICT);
    }
}
