//! What changes with the negotiated API version, in one place. Each of
//! dockerd's version checks that berth mirrors is a named question here,
//! so handlers ask "does this client get X" and never compare numbers.

use crate::version::ApiVersion;

/// The behaviour a request gets for its negotiated API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionGates(ApiVersion);

impl VersionGates {
    pub fn new(v: ApiVersion) -> VersionGates {
        VersionGates(v)
    }

    /// The newest behaviour (internal callers, tests).
    pub fn current() -> VersionGates {
        VersionGates(ApiVersion::current())
    }

    pub fn version(&self) -> ApiVersion {
        self.0
    }

    fn before(&self, major: u32, minor: u32) -> bool {
        self.0 < ApiVersion { major, minor }
    }

    /// `Config.MacAddress` is the container's MAC before 1.44 (endpoint
    /// MACs are ignored); from 1.44 it is deprecated in favour of
    /// `EndpointSettings.MacAddress`.
    pub fn container_wide_mac_address(&self) -> bool {
        self.before(1, 44)
    }

    /// `GET /system/df?type=` selects parts from 1.42; older clients always
    /// get every part.
    pub fn disk_usage_types(&self) -> bool {
        !self.before(1, 42)
    }

    /// `POST /volumes/prune` takes only anonymous volumes (unless the `all`
    /// filter says otherwise) from 1.42; before, every unused volume.
    pub fn volume_prune_all_by_default(&self) -> bool {
        self.before(1, 42)
    }

    /// A hijacked attach or exec stream without a TTY is announced as
    /// `application/vnd.docker.multiplexed-stream` from 1.42; before, every
    /// stream is `raw-stream`.
    pub fn multiplexed_stream_type(&self) -> bool {
        !self.before(1, 42)
    }

    /// Image inspect carries the legacy `Container` and `ContainerConfig`
    /// fields before 1.45 (docker-compose 1.29 reads `ContainerConfig`).
    pub fn image_container_config(&self) -> bool {
        self.before(1, 45)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> VersionGates {
        VersionGates::new(ApiVersion::parse(s).expect("version"))
    }

    #[test]
    fn gates_flip_at_dockerds_versions() {
        assert!(!at("1.41").disk_usage_types() && at("1.42").disk_usage_types());
        assert!(at("1.41").volume_prune_all_by_default() && !at("1.42").volume_prune_all_by_default());
        assert!(at("1.38").image_container_config() && at("1.44").image_container_config());
        assert!(!at("1.41").multiplexed_stream_type() && at("1.42").multiplexed_stream_type());
        assert!(!at("1.45").image_container_config() && !VersionGates::current().image_container_config());
    }
}
