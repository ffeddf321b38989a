//! Swarm mode endpoints, answered as dockerd answers them on a node that
//! is not in a swarm. berth has no swarm mode
//! yet; this keeps clients' set-up and tear-down paths working (they check
//! for these answers) and refuses what would need a swarm.

use crate::http::response::Resp;
use berth_api::{ApiError, ErrorKind};
use hyper::Method;

/// dockerd's words for a node that is not a manager (no swarm at all).
const NOT_A_MANAGER: &str =
    "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";
/// dockerd's words for leaving when there is no swarm to leave.
const NOT_IN_A_SWARM: &str = "This node is not part of a swarm";

/// Whether the path belongs to swarm mode.
pub fn is_swarm_path(first: &str) -> bool {
    matches!(first, "swarm" | "nodes" | "services" | "tasks" | "secrets" | "configs")
}

/// Every swarm-mode request: 503 as on a node outside a swarm; `init` and
/// `join` are refused, since berth cannot create or join one.
pub fn route(m: &Method, segs: &[&str]) -> Result<Resp, ApiError> {
    match (m, segs) {
        (&Method::POST, ["swarm", "leave"]) => Err(ApiError::new(ErrorKind::Unavailable, NOT_IN_A_SWARM)),
        (&Method::POST, ["swarm", op @ ("init" | "join")]) => Err(ApiError::new(
            ErrorKind::Unavailable,
            format!("berth does not support swarm mode yet (swarm {op})"),
        )),
        _ => Err(ApiError::new(ErrorKind::Unavailable, NOT_A_MANAGER)),
    }
}
