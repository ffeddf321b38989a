//! `start`: mount the rootfs, write the bundle, hand the container to a
//! new shim, connect to its output, and let it run.

use super::manager::{now_nanos, Container, ContainerManager, Output, StdinMsg};
use super::record::{ContainerRecord, Status};
use super::rootfs::RootfsPaths;
use super::shim_client::{self, ShimSpawn};
use berth_api::ApiError;
use crate::network::{Attached, ContainerNet, NetNs};
use super::isolation::cgroup_path;
use super::logdriver::LogDriver;
use berth_runtime::{SpecInput, StartFailure};
use std::path::{Path, PathBuf};
use std::os::unix::fs::DirBuilderExt;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

impl ContainerManager {
    pub async fn start(self: &Arc<Self>, c: &Arc<Container>) -> Result<(), ApiError> {
        let mut timer = crate::trace::PhaseTimer::new(format!("start {}", &c.id[..12]));
        let _op = c.op.lock().await;
        let rec = c.snapshot();
        match rec.state.status {
            // Restarting: between two runs of a restart policy, which starts it.
            s if s.is_running() && s != Status::Restarting => {
                return Err(ApiError::new(berth_api::ErrorKind::NotModified, "container already started"))
            }
            Status::Removing | Status::Dead => {
                return Err(ApiError::conflict(format!("cannot start container {}: container is marked for removal", rec.id)))
            }
            _ => {}
        }
        // The log options' values are read now, as dockerd's logger reads
        // them at start (create checked only their names).
        if let Err(e) = LogDriver::parse(&rec.host_config.log_config) {
            drop(_op);
            if rec.host_config.auto_remove {
                let _ = self.remove_with_volumes(c, true, true).await;
            }
            return Err(ApiError::internal(logging_failed(e)));
        }
        let image = self.images.resolve(&rec.image_id).map_err(crate::error::image_error)?;
        let lower = self.images.layer_dirs(&image);
        let mgr = self.clone();
        let rec2 = rec.clone();
        timer.mark("resolve");
        let prepared = tokio::task::spawn_blocking(move || mgr.prepare_and_spawn(&rec2, &lower))
            .await
            .map_err(|e| ApiError::internal(format!("start task: {e}")))?;
        let (pid, net) = match prepared {
            Ok(v) => v,
            Err(e) => return Err(self.fail_start(c, e, _op).await),
        };
        timer.mark("rootfs+bundle+shim(create)");
        let shim_dir = self.cfg.shim_dir(&c.id);
        if let Err(e) = self.connect_output(c, &rec).await {
            self.abort_start(c, &shim_dir).await;
            self.networks.detach(&c.id, &net);
            return Err(ApiError::internal(format!("attaching to shim: {e}")));
        }
        let wait_conn = shim_client::wait_connection(&shim_dir).await;
        timer.mark("attach+wait");
        let started = shim_client::request(&shim_dir, "start").await;
        timer.mark("runtime start");
        if let Err(msg) = started.map_err(|e| e.to_string()).and_then(|r| shim_client::reply_result(&r)) {
            self.abort_start(c, &shim_dir).await;
            self.networks.detach(&c.id, &net);
            return Err(self.fail_start(c, StartFailed::Runtime(msg), _op).await);
        }
        let rec = c.update(|r| {
            r.state.status = Status::Running;
            r.state.pid = pid;
            r.state.exit_code = 0;
            r.state.error.clear();
            r.state.started_at = now_nanos();
            r.state.stopped_by_user = false;
            r.state.oom_killed = false;
            r.net = super::network::running_net(&r.net, &net);
        });
        if let Err(e) = self.persist_run_state(&rec) {
            // The container runs and is monitored either way; a stale
            // record ("created") is settled at the next start-up.
            crate::daemon::log(&format!("{e}"));
        }
        c.lifecycle.send_modify(|l| {
            l.starts += 1;
            l.running = true;
        });
        self.spawn_monitor(c.clone(), wait_conn);
        self.emit(c, "start", &[]);
        self.spawn_health(c);
        timer.mark("record");
        timer.finish();
        Ok(())
    }

    /// Blocking part of start: rootfs, /etc files, bundle, shim. Undoes
    /// what it did when a step fails.
    fn prepare_and_spawn(&self, rec: &ContainerRecord, lower: &[PathBuf]) -> Result<(i64, ContainerNet), StartFailed> {
        let dir = self.cfg.container_dir(&rec.id);
        let paths = RootfsPaths::new(&dir);
        for d in [&paths.upper, &paths.work, &paths.rootfs] {
            std::fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
        }
        let lower = if lower.is_empty() {
            let empty = dir.join("empty");
            std::fs::create_dir_all(&empty).map_err(|e| e.to_string())?;
            vec![empty]
        } else {
            lower.to_vec()
        };
        let t = std::time::Instant::now();
        self.mounter
            .mount_overlay(&lower, &paths.upper, &paths.work, &paths.rootfs)
            .map_err(|e| format!("mounting rootfs: {e}"))?;
        crate::daemon::debug(&format!("start {}: mount {:.1}ms", &rec.id[..12], t.elapsed().as_secs_f64() * 1000.0));
        let t = std::time::Instant::now();
        let attached = self.attach_network(rec);
        crate::daemon::debug(&format!("start {}: network {:.1}ms", &rec.id[..12], t.elapsed().as_secs_f64() * 1000.0));
        let attached = match attached {
            Ok(a) => a,
            Err(e) => {
                let _ = self.mounter.unmount(&paths.rootfs);
                return Err(StartFailed::Network(e));
            }
        };
        let res = self
            .prepare_mounts(rec, &paths.rootfs)
            .and_then(|mounts| self.write_bundle_and_spawn(rec, &dir, &paths.rootfs, &attached, mounts))
            .map(|pid| (pid, attached.net.clone()))
            .map_err(StartFailed::Runtime);
        if res.is_err() {
            self.networks.detach(&rec.id, &attached.net);
            self.release_mounts(&rec.id);
            let _ = self.mounter.unmount(&paths.rootfs);
            let _ = self.mounter.unmount(&paths.shm);
            let _ = std::fs::remove_dir_all(self.cfg.shim_dir(&rec.id));
        }
        res
    }

    pub(super) fn write_bundle_and_spawn(
        &self,
        rec: &ContainerRecord,
        dir: &Path,
        rootfs: &Path,
        net: &Attached,
        mounts: Vec<berth_runtime::Mount>,
    ) -> Result<i64, String> {
        let etc = write_etc_files(dir, rec, net, self.networks.default_gateway()).map_err(|e| format!("writing /etc files: {e}"))?;
        let iso = &rec.host_config.isolation;
        let user = super::isolation::process_user(rootfs, &rec.config.user, iso).map_err(|e| e.to_string())?;
        let isolation = self.resolve_isolation(rec)?;
        if isolation.shareable_shm {
            self.mount_shareable_shm(rec)?;
        }
        let mut env = self.env_with_links(rec, net);
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.insert(0, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
        }
        if !env.iter().any(|e| e.starts_with("HOSTNAME=")) {
            env.push(format!("HOSTNAME={}", rec.config.hostname));
        }
        if rec.config.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
            env.push("TERM=xterm".into());
        }
        let mut args = vec![rec.path.clone()];
        args.extend(rec.args.iter().cloned());
        let init = if rec.host_config.init == Some(true) {
            Some(self.cfg.init.clone().ok_or("--init needs tini-static (apt-get install tini), which was not found")?)
        } else {
            None
        };
        let shm = super::isolation::shm_size(&rec.host_config);
        let spec = berth_runtime::build_spec(&SpecInput {
            args,
            env,
            cwd: if rec.config.working_dir.is_empty() { "/".into() } else { rec.config.working_dir.clone() },
            user,
            hostname: rec.config.hostname.clone(),
            rootfs: rootfs.to_path_buf(),
            readonly_rootfs: rec.host_config.readonly_rootfs,
            cgroups_path: cgroup_path(rec),
            etc_files: etc,
            mounts,
            init,
            stdin: rec.config.open_stdin,
            shm_size: shm,
            privileged: rec.host_config.privileged,
            annotations: rec
                .host_config
                .extra
                .get("Annotations")
                .and_then(serde_json::Value::as_object)
                .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
                .unwrap_or_default(),
            resources: super::limits::to_runtime(&rec.host_config.resources),
            netns_path: match &net.ns {
                NetNs::Path(p) => Some(p.clone()),
                NetNs::Host => None,
            },
            host_network: net.ns == NetNs::Host,
            tty: rec.config.tty,
            console_size: console_size(&rec.host_config),
            capabilities: isolation.capabilities,
            seccomp: isolation.seccomp,
            no_new_privileges: isolation.no_new_privileges,
            masked_paths: iso.masked_paths.clone(),
            readonly_paths: iso.readonly_paths.clone(),
            namespaces: isolation.namespaces,
            shm: isolation.shm,
            devices: isolation.devices,
            device_rules: isolation.device_rules,
            sysctls: iso.sysctls.clone().unwrap_or_default(),
            oom_score_adj: iso.oom_score_adj,
            domainname: rec.config.domainname.clone(),
        });
        berth_runtime::write_bundle(dir, &spec).map_err(|e| e.to_string())?;
        let state_dir = self.cfg.shim_dir(&rec.id);
        self.clear_before_start(&rec.id, &iso.runtime);
        let driver = LogDriver::parse(&rec.host_config.log_config).map_err(logging_failed)?;
        let log_path = driver.path(&self.cfg.container_dir(&rec.id), &rec.id);
        if let Some(dir) = log_path.as_deref().and_then(Path::parent).filter(|d| !d.exists()) {
            // The local driver's own directory (dockerd's mode).
            std::fs::DirBuilder::new().mode(0o700).create(dir).map_err(|e| logging_failed(format!("error creating local logs dir: {e}")))?;
        }
        let log = log_path.as_deref().unwrap_or(Path::new("/dev/null"));
        let log_rotation = driver.rotation();
        let t = std::time::Instant::now();
        let spawned = shim_client::spawn(&ShimSpawn {
            binary: &self.cfg.shim,
            id: &rec.id,
            bundle: dir,
            state_dir: &state_dir,
            runtime: &self.cfg.runtime_path(&iso.runtime),
            runtime_root: &self.cfg.runtime_root(),
            log,
            log_rotation,
            stdin: rec.config.open_stdin,
            stdin_once: rec.config.stdin_once,
            cgroup: &cgroup_path(rec),
            tty: rec.config.tty,
        });
        crate::daemon::debug(&format!("start {}: shim+runtime create {:.1}ms", &rec.id[..12], t.elapsed().as_secs_f64() * 1000.0));
        spawned
    }

    /// The previous run's shim finishes its runtime clean-up after it
    /// answered the exit; give it a moment, then clear whatever is still
    /// there (a shim killed from outside leaves the runtime's state, and
    /// `create` would fail with "container already exists").
    fn clear_before_start(&self, id: &str, runtime: &str) {
        if let Ok(c) = self.get(id) {
            self.wait_finishing_shim(&c);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while self.shim_alive(id) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if self.clear_leftovers(id, runtime).anything() {
            crate::daemon::log(&format!("{id}: cleared a previous run's leftovers before start"));
        }
    }

    /// One attach connection from berthd to the shim, fanned out to every
    /// attach and `logs -f` client through the container's broadcast.
    pub(super) async fn connect_output(&self, c: &Arc<Container>, rec: &ContainerRecord) -> std::io::Result<()> {
        let att = shim_client::attach(&self.cfg.shim_dir(&c.id), rec.config.open_stdin).await?;
        let out = c.output.clone();
        let pump = tokio::spawn(async move {
            shim_client::read_frames(att.reader, |stream, data| {
                let _ = out.send(Output::Data(stream, data));
            })
            .await;
        });
        if let Ok(mut g) = c.pump.lock() {
            *g = Some(pump);
        }
        if rec.config.open_stdin {
            let (tx, mut rx) = mpsc::unbounded_channel::<StdinMsg>();
            c.set_stdin(Some(tx));
            let mut w = att.writer;
            tokio::spawn(async move {
                while let Some(m) = rx.recv().await {
                    match m {
                        StdinMsg::Data(b) => {
                            if w.write_all(&b).await.is_err() {
                                break;
                            }
                        }
                        StdinMsg::Close => break,
                    }
                }
                let _ = w.shutdown().await;
            });
        }
        Ok(())
    }

    async fn abort_start(&self, c: &Arc<Container>, shim_dir: &Path) {
        let _ = shim_client::request(shim_dir, "kill 9").await;
        let _ = shim_client::wait(shim_dir).await;
        c.set_stdin(None);
        if let Some(p) = c.take_pump() {
            p.abort();
        }
        let _ = c.output.send(Output::End);
        let paths = RootfsPaths::new(&self.cfg.container_dir(&c.id));
        let _ = self.mounter.unmount(&paths.rootfs);
        let _ = self.mounter.unmount(&paths.shm);
        self.release_mounts(&c.id);
        let _ = std::fs::remove_dir_all(shim_dir);
    }

    /// A failed start: recorded as Docker shows it; a `--rm` container is
    /// removed (the CLI waits for that).
    async fn fail_start(self: &Arc<Self>, c: &Arc<Container>, why: StartFailed, op: tokio::sync::MutexGuard<'_, ()>) -> ApiError {
        let err = self.record_start_failure(c, why);
        drop(op);
        // Attach sessions opened for this start have nothing more coming.
        let _ = c.output.send(Output::End);
        if c.snapshot().host_config.auto_remove {
            let _ = self.remove_with_volumes(c, true, true).await;
        }
        err
    }

    /// Records a failed start the way Docker shows it, and builds the error.
    fn record_start_failure(&self, c: &Arc<Container>, why: StartFailed) -> ApiError {
        let (failure, message) = match why {
            // dockerd's network errors (a taken host port, a joined
            // container not running) come in its own words, unwrapped.
            StartFailed::Network(msg) => (StartFailure::Other, msg),
            StartFailed::Runtime(msg) => (
                berth_runtime::classify_start_error(&msg),
                format!("failed to create task for container: OCI runtime create failed: {msg}: unknown"),
            ),
        };
        let code = match failure {
            StartFailure::NotFound => 127,
            StartFailure::NotExecutable => 126,
            StartFailure::Other => 128,
        };
        let rec = c.update(|r| {
            r.state.exit_code = code;
            r.state.error = message.clone();
        });
        let _ = self.persist(&rec);
        match failure {
            StartFailure::Other => ApiError::internal(message),
            _ => ApiError::invalid(message),
        }
    }
}

/// Why a start failed before the container's process ran.
enum StartFailed {
    /// Joining its networks failed: reported as dockerd words it.
    Network(String),
    /// Preparing the rootfs, the bundle or the runtime failed: reported as
    /// containerd's task error wraps it.
    Runtime(String),
}

impl From<String> for StartFailed {
    fn from(msg: String) -> StartFailed {
        StartFailed::Runtime(msg)
    }
}

/// dockerd's words for a logger that cannot be set up.
fn logging_failed(e: String) -> String {
    format!("failed to initialize logging driver: {e}")
}

/// `HostConfig.ConsoleSize` (`[height, width]`, sent by the CLI for `-t`),
/// when it is a real size.
fn console_size(hc: &berth_api::container::HostConfig) -> Option<(u32, u32)> {
    let v = hc.extra.get("ConsoleSize")?.as_array()?;
    let dim = |i: usize| v.get(i)?.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| (1..=u16::MAX as u32).contains(n));
    Some((dim(0)?, dim(1)?))
}

/// Writes hostname, hosts and resolv.conf for the container; returns the
/// bind mounts for them.
fn write_etc_files(dir: &Path, rec: &ContainerRecord, net: &Attached, gateway: Option<std::net::Ipv4Addr>) -> std::io::Result<Vec<(PathBuf, String)>> {
    let hostname = dir.join("hostname");
    std::fs::write(&hostname, format!("{}\n", rec.config.hostname))?;
    let hosts = dir.join("hosts");
    let list = |k: &str| -> Vec<String> { rec.host_config.extra.get(k).and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default() };
    std::fs::write(&hosts, crate::network::hosts_file(net, &rec.config.hostname, &list("ExtraHosts"), gateway))?;
    let resolv = dir.join("resolv.conf");
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let dns = crate::network::DnsSettings { servers: list("Dns"), search: list("DnsSearch"), options: list("DnsOptions") };
    std::fs::write(&resolv, crate::network::resolv_file(&host_resolv, net, &dns))?;
    Ok(vec![
        (resolv, "/etc/resolv.conf".into()),
        (hostname, "/etc/hostname".into()),
        (hosts, "/etc/hosts".into()),
    ])
}
