//! Route handlers, one module per API area.

pub mod archive;
pub mod containers;
pub mod events;
pub mod exec;
pub mod images;
pub mod networks;
pub mod swarm;
pub mod system;
pub mod volumes;

use berth_api::ApiError;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::Request;
use serde::de::DeserializeOwned;

/// Largest JSON body accepted (create requests are small).
const MAX_JSON_BODY: usize = 4 << 20;

/// Reads and decodes a JSON body; malformed or oversized bodies are a 400.
pub async fn json_body<T: DeserializeOwned + Default>(req: &mut Request<Incoming>) -> Result<T, ApiError> {
    let body = http_body_util::Limited::new(req.body_mut(), MAX_JSON_BODY);
    let bytes = body
        .collect()
        .await
        .map_err(|e| ApiError::invalid(format!("reading request body: {e}")))?
        .to_bytes();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid(format!("invalid JSON: {e}")))
}

pub fn query(req: &Request<Incoming>) -> crate::http::Query {
    crate::http::Query::parse(req.uri().query())
}
