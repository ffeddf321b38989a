//! Start-up: load every record, reconnect to the shims of running
//! containers (live restore), and settle what happened while berthd was
//! down.

use super::manager::{Container, ContainerManager};
use super::record::Status;
use super::rootfs::RootfsPaths;
use super::shim_client;
use berth_api::ApiError;
use std::sync::Arc;

impl ContainerManager {
    pub async fn restore(self: &Arc<Self>) -> Result<(), ApiError> {
        for rec in self.load_records()? {
            let c = Container::new(rec.clone());
            if let Err(e) = self.insert(c.clone(), &rec.name) {
                crate::daemon::log(&format!("skipping container {}: {e}", rec.id));
                continue;
            }
            self.restore_mounts(&rec);
            let shim_dir = self.cfg.shim_dir(&rec.id);
            if rec.state.status == Status::Restarting {
                // berthd died between two runs; the policy decides below.
                c.update(|r| r.state.status = Status::Exited);
                continue;
            }
            if !rec.state.status.is_running() {
                // A crash may have left the rootfs mounted.
                let paths = RootfsPaths::new(&self.cfg.container_dir(&rec.id));
                let _ = self.mounter.unmount(&paths.rootfs);
                let _ = self.mounter.unmount(&paths.shm);
                // ...and its namespace.
                let _ = berth_net::netns::remove(&self.networks.netns_name(&rec.id));
                if rec.state.status == Status::Removing {
                    c.update(|r| r.state.status = Status::Dead);
                }
                continue;
            }
            match shim_client::request(&shim_dir, "state").await {
                Ok(reply) if reply.starts_with("running") => {
                    self.networks.restore_container(&rec.id, &rec.net);
                    if let Err(e) = self.connect_output(&c, &rec).await {
                        crate::daemon::log(&format!("reattaching {}: {e}", rec.id));
                    }
                    let conn = shim_client::wait_connection(&shim_dir).await;
                    self.spawn_monitor(c, conn);
                }
                Ok(reply) if reply.starts_with("exited ") => {
                    let code = reply[7..].trim().parse().unwrap_or(255);
                    self.handle_exit(&c, code).await;
                }
                _ => {
                    // The shim is gone; its exit file says how the container ended.
                    let code = shim_client::recorded_exit(&shim_dir).unwrap_or(255);
                    if shim_client::recorded_oom(&shim_dir) {
                        c.update(|r| r.state.oom_killed = true);
                    }
                    self.handle_exit(&c, code).await;
                }
            }
        }
        self.start_policy_containers().await;
        Ok(())
    }
}
