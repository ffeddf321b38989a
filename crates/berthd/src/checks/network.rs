//! Network create requests: what berth refuses before touching the host.

use berth_api::network::NetworkCreateRequest;
use berth_api::ApiError;

/// Network settings berth cannot honour yet: refused by name, never ignored.
pub fn refuse_unsupported(body: &NetworkCreateRequest) -> Result<(), ApiError> {
    if body.enable_ipv4 == Some(false) {
        return Err(ApiError::invalid("berth does not support IPv6-only networks (EnableIPv4=false) yet"));
    }
    if let Some(ipam) = &body.ipam {
        if !matches!(ipam.driver.as_str(), "" | "default") {
            return Err(ApiError::invalid(format!("berth does not support the IPAM driver {} yet", ipam.driver)));
        }
        if let Some(k) = ipam.options.iter().flatten().next().map(|(k, _)| k) {
            return Err(ApiError::invalid(format!("berth does not support IPAM option {k} yet")));
        }
    }
    // The bridge's name is the one driver option berth acts on.
    if let Some(k) = body.options.iter().flatten().map(|(k, _)| k).find(|k| *k != "com.docker.network.bridge.name") {
        return Err(ApiError::invalid(format!("berth does not support network option {k} yet")));
    }
    Ok(())
}
