//! Route handlers, one module per API area.

pub mod archive;
pub mod auth;
pub mod build;
pub mod distribution;
pub mod containers;
pub mod events;
pub mod exec;
pub mod images;
pub mod networks;
pub mod plugins;
pub mod swarm;
pub mod system;
pub mod volumes;

use berth_api::{ApiError, ErrorKind};
use http_body_util::BodyExt;
use hyper::body::Body as _;
use hyper::body::Incoming;
use hyper::Request;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Bounds on JSON request bodies, by what the endpoint carries. dockerd
/// sets none; these are far above any real request and keep one request
/// from holding unbounded memory. Nesting is bounded by serde_json (128
/// levels), a 400.
/// A container's whole configuration (create, commit) or an exec's
/// command and environment, which may be as large as ARG_MAX (2 MiB).
pub const CONFIG_BODY: usize = 4 << 20;
/// A network's or volume's description (labels, options, IPAM).
pub const OBJECT_BODY: usize = 1 << 20;
/// A handful of fields (update, exec start, network connect).
pub const SMALL_BODY: usize = 64 << 10;

/// Reads and decodes a JSON body of at most `limit` bytes: a larger one is
/// a 413 (before reading it when its length is declared), a malformed one
/// a 400. Field names match without regard to case, as dockerd's do.
pub async fn json_body<T: DeserializeOwned + Serialize + Default>(req: &mut Request<Incoming>, limit: usize) -> Result<T, ApiError> {
    let too_large = || ApiError::new(ErrorKind::TooLarge, format!("request body too large: this endpoint accepts at most {limit} bytes"));
    if req.body().size_hint().lower() > limit as u64 {
        drain(req.body_mut()).await;
        return Err(too_large());
    }
    let body = http_body_util::Limited::new(req.body_mut(), limit);
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            drain(req.body_mut()).await;
            return Err(too_large());
        }
        Err(e) => return Err(ApiError::invalid(format!("reading request body: {e}"))),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    berth_api::casefold::from_slice(&bytes).map_err(|e| ApiError::invalid(format!("invalid JSON: {e}")))
}

/// Reads and drops what is left of a refused body, up to a bound, so that
/// the client still gets the answer: closing a unix socket with unread
/// data resets the peer, which then loses the response queued for it. A
/// body past the bound, or one that trickles, is cut off.
pub(crate) async fn drain(body: &mut Incoming) {
    const DRAIN_MAX: u64 = 16 << 20;
    if body.size_hint().lower() > DRAIN_MAX {
        return;
    }
    let read_all = async {
        let mut seen = 0u64;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len() as u64);
            if seen > DRAIN_MAX {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), read_all).await;
}

pub fn query(req: &Request<Incoming>) -> crate::http::Query {
    crate::http::Query::parse(req.uri().query())
}
