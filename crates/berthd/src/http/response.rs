//! Building responses. `error` is the single place an `ApiError` becomes
//! an HTTP status and Docker's `{"message": ...}` body.

use super::Body;
use berth_api::ApiError;
use hyper::{Response, StatusCode};
use serde::Serialize;

pub type Resp = Response<Body>;

pub fn json<T: Serialize>(status: u16, value: &T) -> Resp {
    match serde_json::to_vec(value) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            with_body(status, "application/json", Body::from_bytes(bytes))
        }
        Err(e) => error(&ApiError::internal(format!("encoding response: {e}"))),
    }
}

pub fn ok_json<T: Serialize>(value: &T) -> Resp {
    json(200, value)
}

pub fn status_only(status: u16) -> Resp {
    with_body(status, "text/plain; charset=utf-8", Body::empty())
}

pub fn with_body(status: u16, content_type: &str, body: Body) -> Resp {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// `101 Switching Protocols` for a hijacked attach or exec stream: raw for
/// a TTY, Docker's multiplexed framing otherwise.
pub fn hijacked(multiplexed: bool) -> Resp {
    let ct = if multiplexed { "application/vnd.docker.multiplexed-stream" } else { "application/vnd.docker.raw-stream" };
    let mut r = with_body(101, ct, Body::empty());
    let h = r.headers_mut();
    h.insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("Upgrade"));
    h.insert(hyper::header::UPGRADE, hyper::header::HeaderValue::from_static("tcp"));
    r
}

/// The one mapping from an error to the wire.
pub fn error(e: &ApiError) -> Resp {
    json(e.status(), &e.body())
}
