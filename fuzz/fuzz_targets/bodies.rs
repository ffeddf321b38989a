//! JSON bodies of `POST /containers/create`, `/containers/{id}/update`
//! and `/networks/create`, decoded into berth-api's types and run through
//! the checks berthd applies before it touches any state; a decoded body
//! must also serialize again (inspect echoes it back).
#![no_main]

use berth_api::container::{CreateRequest, UpdateRequest};
use berth_api::network::NetworkCreateRequest;
use berthd::checks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    match which % 3 {
        0 => {
            if let Ok(req) = serde_json::from_slice::<CreateRequest>(body) {
                // The name comes from the query; any client string will do.
                let _ = checks::name::validate_name(&req.config.hostname);
                let _ = checks::resources::validate_host_config(&req.host_config);
                let _ = checks::restart::validate(&req.host_config.restart_policy, req.host_config.auto_remove);
                serde_json::to_vec(&req).expect("a decoded create body serializes");
            }
        }
        1 => {
            if let Ok(req) = serde_json::from_slice::<UpdateRequest>(body) {
                if let Ok(res) = checks::resources::validate(&req.resources) {
                    let _ = res.to_oci();
                }
                if let Some(p) = &req.restart_policy {
                    let _ = checks::restart::validate(p, false);
                }
                serde_json::to_vec(&req).expect("a decoded update body serializes");
            }
        }
        _ => {
            if let Ok(req) = serde_json::from_slice::<NetworkCreateRequest>(body) {
                let _ = checks::network::refuse_unsupported(&req);
                serde_json::to_vec(&req).expect("a decoded network body serializes");
            }
        }
    }
});
