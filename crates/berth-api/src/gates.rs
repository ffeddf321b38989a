//! What changes with the negotiated API version, in one place. Each of
//! dockerd's version checks that berth mirrors is a named question here,
//! so handlers ask "does this client get X" and never compare numbers.
//! One client is named besides its version: docker-compose 1.x (see
//! [`VersionGates::for_user_agent`]).

use crate::version::ApiVersion;

/// The behaviour a request gets for its negotiated API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionGates {
    version: ApiVersion,
    compose_v1: bool,
}

impl VersionGates {
    pub fn new(v: ApiVersion) -> VersionGates {
        VersionGates { version: v, compose_v1: false }
    }

    /// The newest behaviour (internal callers, tests).
    pub fn current() -> VersionGates {
        VersionGates::new(ApiVersion::current())
    }

    /// Marks a request from docker-compose 1.x (`User-Agent:
    /// docker-compose/1.…`). Its docker-py negotiates the newest API
    /// version, yet its recreate path reads the image's `ContainerConfig`
    /// unconditionally, a field dockerd stopped sending at 1.45 (so
    /// `up --force-recreate`, or `up` after a change, dies with
    /// `KeyError: 'ContainerConfig'` against dockerd 25 and later). berthd
    /// keeps that client working; every other client sees dockerd's shapes.
    pub fn for_user_agent(mut self, user_agent: &str) -> VersionGates {
        self.compose_v1 = user_agent.starts_with("docker-compose/1.");
        self
    }

    pub fn version(&self) -> ApiVersion {
        self.version
    }

    fn before(&self, major: u32, minor: u32) -> bool {
        self.version < ApiVersion { major, minor }
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
    /// fields before 1.45, and always for docker-compose 1.x, which reads
    /// `ContainerConfig` whatever version it negotiated.
    pub fn image_container_config(&self) -> bool {
        self.before(1, 45) || self.compose_v1
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

    #[test]
    fn docker_compose_v1_keeps_the_legacy_image_fields() {
        let ua = "docker-compose/1.29.2 docker-py/5.0.3 Linux/6.1.0";
        assert!(VersionGates::current().for_user_agent(ua).image_container_config());
        assert!(!VersionGates::current().for_user_agent("Docker-Client/28.0.1 (linux)").image_container_config());
        assert!(!VersionGates::current().for_user_agent("docker-compose/2.29.1").image_container_config());
        assert!(!VersionGates::current().for_user_agent("docker-py/7.1.0").image_container_config());
        assert!(at("1.45").for_user_agent(ua).multiplexed_stream_type(), "the other gates still follow the version");
    }
}
