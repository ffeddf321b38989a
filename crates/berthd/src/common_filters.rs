//! The filters every kind of object shares, matched as dockerd does:
//! `label` / `label!` over an object's labels, and `until` over its
//! creation time.

use crate::http::query::Filters;
use berth_api::ApiError;
use std::collections::BTreeMap;

/// `label=k[=v]` (all must match) and `label!=k[=v]` (none may).
pub fn labels_match(f: &Filters, labels: &BTreeMap<String, String>) -> bool {
    let one = |l: &String| match l.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(l.as_str()),
    };
    f.values("label").iter().all(one) && !f.values("label!").iter().any(one)
}

/// The `until` filter (a timestamp or a duration before now) as Unix
/// nanoseconds; dockerd takes one value.
pub fn until(f: &Filters) -> Result<Option<i128>, ApiError> {
    match f.values("until") {
        [] => Ok(None),
        [u] => berth_api::time::parse_time_filter(u, std::time::SystemTime::now())
            .map(Some)
            .ok_or_else(|| ApiError::invalid(format!("failed to parse value as time or duration: \"{u}\""))),
        _ => Err(ApiError::invalid("more than one until filter specified")),
    }
}

/// Whether an object created at `created` (Unix nanoseconds) passes the
/// `until` filter parsed by [`until`].
pub fn created_before(until: Option<i128>, created: i128) -> bool {
    until.is_none_or(|u| created < u)
}
