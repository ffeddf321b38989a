//! Restart policies as dockerd accepts them.

/// dockerd's checks of a restart policy (also for `update`).
pub fn validate(p: &berth_api::container::RestartPolicy, auto_remove: bool) -> Result<(), berth_api::ApiError> {
    let bad = |m: String| Err(berth_api::ApiError::invalid(format!("invalid restart policy: {m}")));
    match p.name.as_str() {
        "" | "no" | "always" | "unless-stopped" => {
            if p.maximum_retry_count != 0 {
                return bad("maximum retry count can only be used with 'on-failure'".into());
            }
        }
        "on-failure" => {
            if p.maximum_retry_count < 0 {
                return bad("maximum retry count cannot be negative".into());
            }
        }
        other => return bad(format!("unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'")),
    }
    if auto_remove && !matches!(p.name.as_str(), "" | "no") {
        return Err(berth_api::ApiError::invalid("can't create 'AutoRemove' container with restart policy"));
    }
    Ok(())
}
