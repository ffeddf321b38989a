//! The running life of a container after start: exit handling, stop,
//! kill, restart, wait, remove, rename and prune.

use super::manager::{now_nanos, Container, ContainerManager, Lifecycle, Output};
use super::naming::validate_name;
use super::record::Status;
use super::rootfs::RootfsPaths;
use super::shim_client;
use berth_api::container::{PruneResponse, WaitResponse};
use berth_api::{ApiError, ErrorKind};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long `kill` with SIGKILL waits for the exit to be recorded (dockerd
/// waits 10 s, then 2 s more after killing the process directly).
const KILL_EXIT_WAIT: Duration = Duration::from_secs(12);

/// What `wait` waits for (Docker's `condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
}

impl WaitCondition {
    pub fn parse(s: Option<&str>) -> Result<WaitCondition, ApiError> {
        match s.unwrap_or("") {
            "" | "not-running" => Ok(WaitCondition::NotRunning),
            "next-exit" => Ok(WaitCondition::NextExit),
            "removed" => Ok(WaitCondition::Removed),
            o => Err(ApiError::invalid(format!("invalid condition: \"{o}\""))),
        }
    }
}

impl ContainerManager {
    /// Waits for the shim to report the exit on `conn` (a `wait` request
    /// opened earlier), then records it.
    pub(super) fn spawn_monitor(self: &Arc<Self>, c: Arc<Container>, conn: std::io::Result<tokio::net::UnixStream>) {
        let mgr = self.clone();
        tokio::spawn(async move {
            let dir = mgr.cfg.shim_dir(&c.id);
            let mut answered = match conn {
                Ok(s) => shim_client::read_exit(s).await.ok(),
                Err(_) => None,
            };
            if answered.is_none() && mgr.shim_alive(&c.id) {
                // The connection failed but the shim lives: ask again.
                answered = shim_client::wait(&dir).await.ok();
            }
            let oom = shim_client::recorded_oom(&dir);
            let code = match answered {
                Some(code) => code,
                // The shim died without answering (killed): its container
                // may still run untracked. Kill what is left; that is
                // the container's end (137) unless the shim recorded one.
                None => mgr.after_lost_shim(&c).await,
            };
            if oom {
                c.update(|r| r.state.oom_killed = true);
                mgr.emit(&c, "oom", &[]);
            }
            mgr.handle_exit(&c, code).await;
        });
    }

    /// Whether `id`'s shim process is alive.
    pub(super) fn shim_alive(&self, id: &str) -> bool {
        self.host.live_shim(&self.cfg.shim_dir(id), id).is_some()
    }

    /// Clears what a dead shim left (leftovers.rs) and says how the
    /// container ended.
    pub(super) async fn after_lost_shim(self: &Arc<Self>, c: &Arc<Container>) -> i64 {
        let exit_file = shim_client::recorded_exit(&self.cfg.shim_dir(&c.id));
        let runtime = c.snapshot().host_config.isolation.runtime;
        let mgr = self.clone();
        let id = c.id.clone();
        let cleared = tokio::task::spawn_blocking(move || mgr.clear_leftovers(&id, &runtime)).await.unwrap_or_default();
        let code = super::leftovers::lost_shim_exit(exit_file, cleared);
        crate::daemon::log(&format!("{}: shim died; container cleaned up, exit code {code}", c.id));
        code
    }

    /// Records an exit: unmounts, cleans the shim's directory, wakes waiters,
    /// and removes the container if it was started with `--rm`.
    pub(super) async fn handle_exit(self: &Arc<Self>, c: &Arc<Container>, code: i64) {
        let mut timer = crate::trace::PhaseTimer::new(format!("exit {}", &c.id[..12]));
        // Let the last output reach attach clients before they hear of the
        // exit (the shim flushes and closes its attach stream after exit).
        if let Some(pump) = c.take_pump() {
            if tokio::time::timeout(Duration::from_secs(5), pump).await.is_err() {
                crate::daemon::log(&format!("{}: output did not drain in 5s", c.id));
            }
        }
        timer.mark("drain");
        let paths = RootfsPaths::new(&self.cfg.container_dir(&c.id));
        let shim_dir = self.cfg.shim_dir(&c.id);
        let mounter = self.mounter.clone();
        let c2 = c.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let (Some(pid), Ok(mut g)) = (super::leftovers::shim_pid(&shim_dir), c2.finishing_shim.lock()) {
                *g = Some(pid);
            }
            let _ = mounter.unmount(&paths.rootfs);
            let _ = mounter.unmount(&paths.shm);
            let _ = std::fs::remove_dir_all(&shim_dir);
        })
        .await;
        timer.mark("unmount");
        self.release_mounts(&c.id);
        c.set_stdin(None);
        // Namespace unmount, port rules, the record's write: blocking work,
        // off the async workers.
        let (mgr, snap) = (self.clone(), c.snapshot());
        let _ = tokio::task::spawn_blocking(move || mgr.detach_network(&snap)).await;
        timer.mark("network");
        let rec = c.update(|r| {
            r.net = super::network::stopped_net(&r.net);
            // A policy restart goes straight to `restarting` (dockerd's
            // SetRestarting): no observer, such as `ps` without -a, sees
            // it exited between its two runs.
            r.state.status = if super::restart::wants_restart(r, code) { Status::Restarting } else { Status::Exited };
            r.state.exit_code = code;
            r.state.pid = 0;
            r.state.finished_at = now_nanos();
        });
        let (mgr, saved) = (self.clone(), rec.clone());
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || mgr.persist_run_state(&saved)).await {
            crate::daemon::log(&format!("{e}"));
        }
        c.lifecycle.send_modify(|l| {
            l.exits += 1;
            l.running = false;
            l.exit_code = code;
        });
        // Attach sessions and `logs -f` end only now, so that whoever
        // follows them sees the container exited.
        let _ = c.output.send(Output::End);
        self.emit(c, "die", &[("exitCode", code.to_string())]);
        timer.mark("record");
        timer.finish();
        if rec.state.status == Status::Restarting {
            self.schedule_restart(c);
            return;
        }
        if rec.host_config.auto_remove {
            // dockerd's auto-remove takes the anonymous volumes too.
            if let Err(e) = self.remove_with_volumes(c, true, true).await {
                if e.kind != ErrorKind::NotFound {
                    crate::daemon::log(&format!("auto-removing {}: {e}", c.id));
                }
            }
        }
    }

    async fn signal(&self, c: &Container, sig: i32) -> Result<(), ApiError> {
        self.emit(c, "kill", &[("signal", sig.to_string())]);
        let reply = shim_client::request(&self.cfg.shim_dir(&c.id), &format!("kill {sig}"))
            .await
            .map_err(|_| not_running(&c.id))?;
        shim_client::reply_result(&reply).map_err(|_| not_running(&c.id))
    }

    pub async fn kill(&self, c: &Arc<Container>, signal: Option<&str>) -> Result<(), ApiError> {
        let sig = match signal.filter(|s| !s.is_empty()) {
            Some(s) => berth_runtime::parse_signal(s).map_err(|e| ApiError::invalid(e.to_string()))?,
            None => libc::SIGKILL,
        };
        // Subscribed before the running check, so an exit recorded between
        // the check and the signal is not missed.
        let mut rx = c.lifecycle.subscribe();
        let exits = rx.borrow().exits;
        let rec = c.snapshot();
        if !rec.state.status.is_running() {
            return Err(not_running(&c.id));
        }
        // Recorded before the signal, so the exit it causes sees it.
        if super::restart::kill_stops_policy(&rec, sig) {
            let rec = c.update(|r| r.state.stopped_by_user = true);
            self.persist(&rec)?;
        }
        self.signal(c, sig).await?;
        // dockerd waits for the exit after SIGKILL, so an `inspect` or `rm`
        // right after `kill` sees the container exited (137).
        if sig == libc::SIGKILL && !wait_exit(&mut rx, exits, Some(KILL_EXIT_WAIT)).await {
            return Err(ApiError::internal("tried to kill container, but did not receive an exit event"));
        }
        Ok(())
    }

    /// Stop: the stop signal, then SIGKILL once `timeout` seconds pass
    /// (negative waits forever).
    pub async fn stop(&self, c: &Arc<Container>, timeout: Option<i64>, signal: Option<&str>) -> Result<(), ApiError> {
        let _op = c.op.lock().await;
        self.stop_locked(c, timeout, signal).await
    }

    async fn stop_locked(&self, c: &Arc<Container>, timeout: Option<i64>, signal: Option<&str>) -> Result<(), ApiError> {
        let rec = c.snapshot();
        if rec.state.status == Status::Restarting {
            // Between two runs: cancel the pending restart.
            let rec = c.update(|r| {
                r.state.stopped_by_user = true;
                r.state.status = Status::Exited;
            });
            self.persist(&rec)?;
            self.emit(c, "stop", &[]);
            return Ok(());
        }
        if !rec.state.status.is_running() {
            return Err(ApiError::new(ErrorKind::NotModified, "container already stopped"));
        }
        let signame = signal.filter(|s| !s.is_empty()).map(str::to_string).or(rec.config.stop_signal.clone());
        let sig = match signame {
            Some(s) => berth_runtime::parse_signal(&s).map_err(|e| ApiError::invalid(e.to_string()))?,
            None => libc::SIGTERM,
        };
        let timeout = timeout.or(rec.config.stop_timeout).unwrap_or(10);
        if rec.state.status == Status::Paused {
            self.thaw(c).await?;
        }
        let mut rx = c.lifecycle.subscribe();
        let exits = rx.borrow().exits;
        let rec = c.update(|r| r.state.stopped_by_user = true);
        let _ = self.persist(&rec);
        let _ = self.signal(c, sig).await;
        let graceful = if timeout < 0 { None } else { Some(Duration::from_secs(timeout as u64)) };
        if wait_exit(&mut rx, exits, graceful).await {
            self.emit(c, "stop", &[]);
            return Ok(());
        }
        let _ = self.signal(c, libc::SIGKILL).await;
        if wait_exit(&mut rx, exits, Some(Duration::from_secs(30))).await {
            self.emit(c, "stop", &[]);
            Ok(())
        } else {
            Err(ApiError::internal(format!("container {} did not exit after SIGKILL", c.id)))
        }
    }

    pub async fn restart(self: &Arc<Self>, c: &Arc<Container>, timeout: Option<i64>, signal: Option<&str>) -> Result<(), ApiError> {
        {
            let _op = c.op.lock().await;
            match self.stop_locked(c, timeout, signal).await {
                Ok(()) => {}
                Err(e) if e.kind == ErrorKind::NotModified => {}
                Err(e) => return Err(e),
            }
        }
        // A `--rm` container is gone once stopped, as in Docker.
        self.get(&c.id)?;
        self.start(c).await?;
        self.emit(c, "restart", &[]);
        Ok(())
    }

    pub async fn wait(&self, c: &Arc<Container>, cond: WaitCondition) -> WaitResponse {
        let mut rx = c.lifecycle.subscribe();
        let start = rx.borrow().clone();
        let done = |l: &Lifecycle| match cond {
            WaitCondition::NotRunning => !l.running,
            WaitCondition::NextExit => l.exits > start.exits,
            WaitCondition::Removed => l.removed,
        };
        let code = match rx.wait_for(done).await {
            Ok(l) => l.exit_code,
            Err(_) => c.snapshot().state.exit_code,
        };
        WaitResponse { status_code: code, error: None }
    }

    /// Removes a container; `force` kills a running one first.
    pub async fn remove(self: &Arc<Self>, c: &Arc<Container>, force: bool) -> Result<(), ApiError> {
        self.remove_with_volumes(c, force, false).await
    }

    /// `remove`, and with `volumes` (`rm -v`) its anonymous volumes too.
    pub async fn remove_with_volumes(self: &Arc<Self>, c: &Arc<Container>, force: bool, volumes: bool) -> Result<(), ApiError> {
        let mut timer = crate::trace::PhaseTimer::new(format!("remove {}", &c.id[..12]));
        let _op = c.op.lock().await;
        timer.mark("lock");
        if c.lifecycle.borrow().removed {
            return Err(ApiError::not_found(format!("No such container: {}", c.id)));
        }
        let mut rec = c.snapshot();
        if rec.state.status == Status::Restarting && force {
            rec = c.update(|r| {
                r.state.stopped_by_user = true;
                r.state.status = Status::Exited;
            });
        }
        if rec.state.status.is_running() {
            if !force {
                return Err(ApiError::conflict(format!(
                    "You cannot remove a running container {}. Stop the container before attempting removal or force remove",
                    rec.id
                )));
            }
            if rec.state.status == Status::Paused {
                self.thaw(c).await?;
            }
            let mut rx = c.lifecycle.subscribe();
            let exits = rx.borrow().exits;
            let _ = self.signal(c, libc::SIGKILL).await;
            if !wait_exit(&mut rx, exits, Some(Duration::from_secs(30))).await {
                // The shim could not end it (frozen outside berthd, a
                // wedged shim): the runtime kills the cgroup, and the
                // monitor records the exit once the shim is gone.
                crate::daemon::log(&format!("{}: no exit 30 s after SIGKILL; killing through the runtime", rec.id));
                let mgr = self.clone();
                let (id, runtime) = (c.id.clone(), rec.host_config.isolation.runtime.clone());
                let _ = tokio::task::spawn_blocking(move || mgr.clear_leftovers(&id, &runtime)).await;
                if !wait_exit(&mut rx, exits, Some(Duration::from_secs(10))).await {
                    return Err(ApiError::internal(format!("could not kill running container {}, cannot remove", rec.id)));
                }
            }
        }
        c.update(|r| r.state.status = Status::Removing);
        let dir = self.cfg.container_dir(&c.id);
        let mounter = self.mounter.clone();
        let mgr = self.clone();
        let (c2, runtime) = (c.clone(), rec.host_config.isolation.runtime.clone());
        let removed = tokio::task::spawn_blocking(move || -> Result<(), String> {
            // A shim killed from outside, or a crash mid-start, may have
            // left processes, a cgroup and runtime state: they go first.
            mgr.wait_finishing_shim(&c2);
            mgr.clear_leftovers(&c2.id, &runtime);
            let paths = RootfsPaths::new(&dir);
            mounter.unmount(&paths.rootfs).map_err(|e| format!("unmounting rootfs: {e}"))?;
            if is_mount_point(&paths.rootfs) {
                // Never delete through a live mount into shared image layers.
                return Err("rootfs is still mounted".into());
            }
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(format!("removing {}: {e}", dir.display())),
            }
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
        timer.mark("files");
        if let Err(msg) = removed {
            c.update(|r| r.state.status = Status::Dead);
            return Err(ApiError::internal(format!("unable to remove container {}: {msg}", c.id)));
        }
        // Files, namespace, rules and anonymous volumes: off the async workers.
        let (mgr, snap, owned) = (self.clone(), c.snapshot(), rec.clone());
        tokio::task::spawn_blocking(move || {
            let _ = std::fs::remove_dir_all(mgr.cfg.shim_dir(&snap.id));
            mgr.detach_network(&snap);
            mgr.delete_record(&snap.id)?;
            mgr.release_volumes(&owned, volumes);
            Ok::<(), ApiError>(())
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
        self.forget(&c.id);
        self.emit(c, "destroy", &[]);
        self.execs.forget_container(&c.id);
        c.lifecycle.send_modify(|l| l.removed = true);
        let _ = c.output.send(Output::End);
        timer.mark("record");
        timer.finish();
        Ok(())
    }

    pub fn rename(&self, c: &Arc<Container>, new_name: &str) -> Result<(), ApiError> {
        let new = validate_name(new_name)?;
        let old = c.snapshot().name;
        if old == new {
            return Err(ApiError::invalid("Renaming a container with the same name as its current name"));
        }
        self.rename_entry(&c.id, &old, &new)?;
        let rec = c.update(|r| r.name = new.clone());
        if let Err(e) = self.persist(&rec) {
            let _ = self.rename_entry(&c.id, &new, &old);
            c.update(|r| r.name = old);
            return Err(e);
        }
        self.emit(c, "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }

    /// Removes every stopped container that matches `label`/`until` filters.
    pub async fn prune(self: &Arc<Self>, filters: &crate::http::query::Filters) -> Result<PruneResponse, ApiError> {
        filters.validate(&["label", "label!", "until"])?;
        let until = filters.until(std::time::SystemTime::now())?;
        let mut deleted = Vec::new();
        let mut reclaimed = 0;
        for c in self.all() {
            let rec = c.snapshot();
            if rec.state.status.is_running() || !super::view::matches_prune(&rec, filters, until) {
                continue;
            }
            // What the removal frees is the container's upper directory.
            let upper = RootfsPaths::new(&self.cfg.container_dir(&c.id)).upper;
            let size = tokio::task::spawn_blocking(move || crate::diskusage::dir_size(&upper)).await.unwrap_or(0);
            if self.remove(&c, false).await.is_ok() {
                deleted.push(rec.id.clone());
                reclaimed += size;
            }
        }
        Ok(PruneResponse { containers_deleted: Some(deleted), space_reclaimed: reclaimed })
    }
}

fn not_running(id: &str) -> ApiError {
    ApiError::conflict(format!("Container {id} is not running"))
}

/// Waits until the exit count passes `exits`; false on timeout.
pub(super) async fn wait_exit(rx: &mut watch::Receiver<Lifecycle>, exits: u64, limit: Option<Duration>) -> bool {
    let fut = rx.wait_for(|l| l.exits > exits || l.removed);
    match limit {
        None => fut.await.is_ok(),
        Some(d) => matches!(tokio::time::timeout(d, fut).await, Ok(Ok(_))),
    }
}

pub(super) fn is_mount_point(p: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(p), p.parent().map(std::fs::metadata)) {
        (Ok(a), Some(Ok(b))) => a.dev() != b.dev(),
        _ => false,
    }
}
