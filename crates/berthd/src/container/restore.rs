//! Start-up: load every record, reconnect to the shims of running
//! containers (live restore), and settle what happened while berthd was
//! down: a record that says "not running" gets no shim, runtime state,
//! mount or namespace (a crash mid-start leaves them); a record that says
//! "running" whose shim is gone is cleaned and recorded as ended; shims,
//! runtime states, container directories and namespaces that no record
//! claims are removed (leftovers.rs).

use super::leftovers;
use super::manager::{Container, ContainerManager};
use super::record::{ContainerRecord, Status};
use super::rootfs::RootfsPaths;
use super::shim_client;
use berth_api::ApiError;
use std::collections::HashSet;
use std::sync::Arc;

impl ContainerManager {
    pub async fn restore(self: &Arc<Self>) -> Result<(), ApiError> {
        let records = self.load_records()?;
        let mut known: HashSet<String> = records.iter().map(|r| r.id.clone()).collect();
        // A container whose record is damaged is not an orphan: its files
        // and processes stay for whoever repairs the record.
        let quarantine = self.cfg.data_root.join("quarantine").join("containers");
        known.extend(self.host.list(&quarantine).into_iter().filter_map(|n| n.split_once(".json").map(|(id, _)| id.to_string())));
        for rec in records {
            if !rec.state.status.is_running() && !self.cfg.container_dir(&rec.id).exists() {
                // `rm` removes the directory before the record: a crash
                // in between is a removal to finish.
                match self.delete_record(&rec.id) {
                    Ok(()) => crate::daemon::log(&format!("{}: finished an interrupted removal", rec.id)),
                    Err(e) => crate::daemon::log(&format!("{e}")),
                }
                continue;
            }
            let c = Container::new(rec.clone());
            if let Err(e) = self.insert(c.clone(), &rec.name) {
                crate::daemon::log(&format!("skipping container {}: {e}", rec.id));
                continue;
            }
            self.restore_mounts(&rec);
            if rec.state.status == Status::Restarting {
                // berthd died between two runs; the policy decides below.
                c.update(|r| r.state.status = Status::Exited);
            }
            if !rec.state.status.is_running() || rec.state.status == Status::Restarting {
                self.settle_stopped(&c, &rec).await;
                continue;
            }
            let shim_dir = self.cfg.shim_dir(&rec.id);
            match shim_client::request(&shim_dir, "state").await {
                Ok(reply) if reply.starts_with("running") => {
                    self.sync_paused(&c).await;
                    self.networks.restore_container(&rec.id, &rec.net);
                    if let Err(e) = self.connect_output(&c, &rec).await {
                        crate::daemon::log(&format!("reattaching {}: {e}", rec.id));
                    }
                    let conn = shim_client::wait_connection(&shim_dir).await;
                    self.spawn_monitor(c, conn);
                }
                Ok(reply) if reply.starts_with("exited ") => {
                    let code = reply[7..].trim().parse().unwrap_or(leftovers::UNKNOWN);
                    self.handle_exit(&c, code).await;
                }
                _ => {
                    // The shim is gone (or does not answer): its exit file
                    // says how the container ended, else what is left of
                    // it is killed now.
                    if shim_client::recorded_oom(&shim_dir) {
                        c.update(|r| r.state.oom_killed = true);
                    }
                    let code = self.after_lost_shim(&c).await;
                    self.handle_exit(&c, code).await;
                }
            }
        }
        let mgr = self.clone();
        let _ = tokio::task::spawn_blocking(move || mgr.sweep_orphans(&known)).await;
        self.start_policy_containers().await;
        Ok(())
    }

    /// A container not running by its record: whatever a crash mid-start
    /// (or mid-stop) left of a run is killed and removed; the record stays
    /// as it was (a created container can be started).
    async fn settle_stopped(self: &Arc<Self>, c: &Arc<Container>, rec: &ContainerRecord) {
        let mgr = self.clone();
        let rec2 = rec.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if mgr.clear_leftovers(&rec2.id, &rec2.host_config.isolation.runtime).anything() {
                crate::daemon::log(&format!("{}: killed a run its record did not know of (crash during start?)", rec2.id));
            }
            let paths = RootfsPaths::new(&mgr.cfg.container_dir(&rec2.id));
            let _ = mgr.mounter.unmount(&paths.rootfs);
            let _ = mgr.mounter.unmount(&paths.shm);
            let _ = berth_net::netns::remove(&mgr.networks.netns_name(&rec2.id));
        })
        .await;
        if rec.state.status == Status::Removing {
            c.update(|r| r.state.status = Status::Dead);
        }
    }

    /// What no record claims: shims and runtime states (killed and
    /// removed), container directories (unmounted and removed) and this
    /// daemon's network namespaces that no running container uses.
    /// Blocking.
    fn sweep_orphans(&self, known: &HashSet<String>) {
        let is_known = |id: &str| known.contains(id);
        let host = self.host.as_ref();
        let mut ids = leftovers::orphans(host.list(&self.cfg.exec_root.join("shims")), &is_known);
        ids.extend(leftovers::orphans(host.list(&self.cfg.runtime_root()), &is_known));
        ids.sort();
        ids.dedup();
        for id in &ids {
            let done = self.clear_leftovers(id, &self.cfg.runtimes().default_name);
            crate::daemon::log(&format!("removed the leftovers of unknown container {id} (shim killed: {}, runtime state: {})", done.shim_killed, done.runtime_deleted));
        }
        for id in leftovers::orphans(host.list(&self.cfg.data_root.join("containers")), &is_known) {
            let dir = self.cfg.container_dir(&id);
            let paths = RootfsPaths::new(&dir);
            let _ = self.mounter.unmount(&paths.rootfs);
            let _ = self.mounter.unmount(&paths.shm);
            if super::lifecycle::is_mount_point(&paths.rootfs) {
                crate::daemon::log(&format!("{}: still mounted; left in place", dir.display()));
                continue;
            }
            host.remove_dir(&dir);
            crate::daemon::log(&format!("removed the directory of unknown container {id}"));
        }
        let running: HashSet<String> = self
            .all()
            .iter()
            .map(|c| c.snapshot())
            .filter(|r| r.state.status.is_running())
            .map(|r| self.networks.netns_name(&r.id))
            .collect();
        let prefix = self.networks.netns_name("");
        for ns in leftovers::stale_netns(host.list(std::path::Path::new("/run/netns")), &prefix, &|n| running.contains(n)) {
            match berth_net::netns::remove(&ns) {
                Ok(()) => crate::daemon::log(&format!("removed stale network namespace {ns}")),
                Err(e) => crate::daemon::log(&format!("removing stale network namespace {ns}: {e}")),
            }
        }
    }
}
