//! The container side of volumes: planning a new container's mounts,
//! preparing them at start, releasing them at exit and removal. The
//! volume logic itself lives in `crate::volume`; this file is the glue
//! the lifecycle verbs call.

use super::manager::ContainerManager;
use super::record::ContainerRecord;
use crate::volume::{self, MountRecord, MountRequest, MountType};
use berth_api::container::{ContainerConfig, HostConfig};
use berth_api::ApiError;
use std::path::Path;

impl ContainerManager {
    /// Parses the request's mounts (nothing is created yet).
    pub(super) fn plan_mounts(&self, config: &ContainerConfig, hc: &HostConfig) -> Result<volume::spec::Plan, ApiError> {
        let req = MountRequest {
            binds: hc.binds.as_deref().unwrap_or_default(),
            mounts: hc.mounts.as_deref().unwrap_or_default(),
            tmpfs: hc.tmpfs.as_ref(),
            volumes_from: hc.volumes_from.as_deref().unwrap_or_default(),
            volumes: config.volumes.as_ref().map(|v| v.keys().cloned().collect()).unwrap_or_default(),
        };
        let from = |key: &str| -> Result<Vec<MountRecord>, ApiError> { Ok(self.get(key)?.snapshot().mounts) };
        let mountpoint = |name: &str| self.volumes.mountpoint(name).display().to_string();
        let plan = volume::spec::plan(&req, &from, &mountpoint)?;
        self.check_volume_driver(hc, &plan)?;
        Ok(plan)
    }

    /// `HostConfig.VolumeDriver` names the driver of the volumes this
    /// container creates; as in dockerd it matters only when it creates
    /// one (a container without new volumes never looks the driver up).
    /// berth has the `local` driver only, and answers for any other in
    /// dockerd's words for a plugin it does not have, as a 400: a 404 from
    /// create makes the clients take the image for missing and pull it.
    fn check_volume_driver(&self, hc: &HostConfig, plan: &volume::spec::Plan) -> Result<(), ApiError> {
        let driver = match hc.extra.get("VolumeDriver") {
            None | Some(serde_json::Value::Null) => return Ok(()),
            Some(serde_json::Value::String(s)) => s.as_str(),
            Some(v) => return Err(ApiError::invalid(format!("invalid value for HostConfig.VolumeDriver: {v}"))),
        };
        if driver.is_empty() || driver == "local" {
            return Ok(());
        }
        match plan.volumes.iter().find(|w| !self.volumes.exists(&w.name)) {
            None => Ok(()),
            Some(w) => Err(ApiError::invalid(format!(
                "create {}: error looking up volume plugin {driver}: plugin \"{driver}\" not found",
                w.name
            ))),
        }
    }

    /// Start: the user mounts for the spec, prepared in the mounted rootfs.
    pub(super) fn prepare_mounts(&self, rec: &ContainerRecord, rootfs: &Path) -> Result<Vec<berth_runtime::Mount>, String> {
        volume::prepare(&self.volumes, &rec.id, &rec.mounts, rec.host_config.tmpfs.as_ref(), rootfs)
    }

    /// Exit or failed start: driver mounts this container held are released.
    pub(super) fn release_mounts(&self, id: &str) {
        self.volumes.deactivate(id);
    }

    /// Removal: drops the container's volume references; `remove_anonymous`
    /// also removes its anonymous volumes (`rm -v`, `--rm`).
    pub(super) fn release_volumes(&self, rec: &ContainerRecord, remove_anonymous: bool) {
        self.volumes.deactivate(&rec.id);
        self.volumes.release(&rec.id, &volume_names(&rec.mounts), remove_anonymous);
    }

    /// Start-up: re-records references; a running container re-takes its driver mounts.
    pub(super) fn restore_mounts(&self, rec: &ContainerRecord) {
        let names = volume_names(&rec.mounts);
        self.volumes.restore_refs(&rec.id, &names);
        if rec.state.status.is_running() {
            for n in &names {
                if let Err(e) = self.volumes.activate(n, &rec.id) {
                    crate::daemon::log(&format!("{}: {e}", rec.id));
                }
            }
        }
    }
}

fn volume_names(mounts: &[MountRecord]) -> Vec<String> {
    mounts.iter().filter(|m| m.kind == MountType::Volume).map(|m| m.name.clone()).collect()
}
