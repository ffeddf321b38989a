//! A build's RUN step on the same path as `run`: the same network attach,
//! /etc files, OCI spec (capabilities, seccomp, masks), shim and runtime;
//! only the rootfs is the builder's snapshot and the container is never
//! recorded (no `ps` row, nothing to restore). The caller owns the rootfs.

use super::manager::ContainerManager;
use super::record::{ContainerRecord, RunState};
use super::shim_client;
use berth_api::container::{ContainerConfig, HostConfig};
use berth_api::stdcopy::Stream;
use berth_api::ApiError;
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One RUN, as the builder asks for it.
pub struct BuildStep {
    /// A fresh container ID (`naming::new_id`), shown as ` ---> Running in`.
    pub id: String,
    pub rootfs: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub user: String,
    pub working_dir: String,
    /// "default", "bridge", "host", "none" or a network's name.
    pub network: String,
    pub extra_hosts: Vec<String>,
    pub shm_size: Option<i64>,
    pub mounts: Vec<berth_runtime::Mount>,
}

/// Where the step's output goes: (stream, bytes), in order.
pub type StepOutput = Box<dyn FnMut(Stream, Bytes) + Send>;

impl ContainerManager {
    /// Runs `step` to its end and returns its exit code. When `cancel`
    /// resolves first (the client went away), the process is killed and
    /// waited for. Nothing is left behind either way.
    pub async fn run_build_step(
        self: &Arc<Self>,
        step: BuildStep,
        mut output: StepOutput,
        cancel: impl std::future::Future<Output = ()>,
    ) -> Result<i64, ApiError> {
        let rec = self.build_record(&step)?;
        let id = rec.id.clone();
        let dir = self.cfg.container_dir(&id);
        let shim_dir = self.cfg.shim_dir(&id);
        let mgr = self.clone();
        let (rec2, rootfs, mounts) = (rec.clone(), step.rootfs.clone(), step.mounts);
        let spawned = tokio::task::spawn_blocking(move || mgr.spawn_build_step(&rec2, &rootfs, mounts))
            .await
            .map_err(|e| ApiError::internal(format!("build step task: {e}")))?;
        let attached = match spawned {
            Ok(a) => a,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(ApiError::internal(e));
            }
        };
        let result = self.drive_build_step(&shim_dir, &mut output, cancel).await;
        let mgr = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let _ = std::fs::remove_dir_all(&shim_dir);
            mgr.networks.detach(&id, &attached.net);
            let _ = std::fs::remove_dir_all(&dir);
        })
        .await;
        result
    }

    /// Attach, start, stream, wait; kill on cancel.
    async fn drive_build_step(
        &self,
        shim_dir: &Path,
        output: &mut StepOutput,
        cancel: impl std::future::Future<Output = ()>,
    ) -> Result<i64, ApiError> {
        let fail = |what: &str, e: String| ApiError::internal(format!("{what}: {e}"));
        let att = match shim_client::attach(shim_dir, false).await {
            Ok(a) => a,
            Err(e) => {
                let _ = shim_client::request(shim_dir, "kill 9").await;
                let _ = shim_client::wait(shim_dir).await;
                return Err(fail("attaching to the build container", e.to_string()));
            }
        };
        let wait_conn = shim_client::wait_connection(shim_dir).await;
        let started = shim_client::request(shim_dir, "start").await.map_err(|e| e.to_string()).and_then(|r| shim_client::reply_result(&r));
        if let Err(e) = started {
            let _ = shim_client::request(shim_dir, "kill 9").await;
            let _ = shim_client::wait(shim_dir).await;
            return Err(fail("starting the build container", e));
        }
        let frames = shim_client::read_frames(att.reader, output);
        let exit = async {
            match wait_conn {
                Ok(c) => shim_client::read_exit(c).await,
                Err(_) => shim_client::wait(shim_dir).await,
            }
        };
        tokio::pin!(cancel);
        tokio::pin!(frames);
        tokio::pin!(exit);
        let mut frames_done = false;
        let code = loop {
            tokio::select! {
                _ = &mut frames, if !frames_done => frames_done = true,
                code = &mut exit => break code,
                _ = &mut cancel => {
                    let _ = shim_client::request(shim_dir, "kill 9").await;
                    let _ = exit.await;
                    return Err(ApiError::internal("the build was cancelled"));
                }
            }
        };
        // The shim closes the attach stream after the last output.
        if !frames_done {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), frames).await;
        }
        code.map_err(|e| fail("waiting for the build container", e.to_string()))
    }

    /// A record that exists only for this step, built as `create` would
    /// build it, so that the isolation and network defaults are `run`'s.
    fn build_record(&self, step: &BuildStep) -> Result<ContainerRecord, ApiError> {
        let id = step.id.clone();
        let mut config = ContainerConfig {
            hostname: id[..12].to_string(),
            env: step.env.clone(),
            user: step.user.clone(),
            working_dir: step.working_dir.clone(),
            ..Default::default()
        };
        let mut host_config = HostConfig { network_mode: step.network.clone(), shm_size: step.shm_size.unwrap_or(0), ..Default::default() };
        // Output goes to the build's stream only.
        host_config.log_config.kind = "none".into();
        if !step.extra_hosts.is_empty() {
            host_config.extra.insert("ExtraHosts".into(), step.extra_hosts.clone().into());
        }
        self.check_isolation(&mut host_config, &mut config)?;
        let net = self.check_network_request(&mut host_config, None)?;
        let (path, args) = step.args.split_first().ok_or_else(|| ApiError::invalid("RUN has no command"))?;
        Ok(ContainerRecord {
            id,
            name: String::new(),
            created: super::manager::now_nanos(),
            image_id: String::new(),
            config,
            host_config,
            path: path.clone(),
            args: args.to_vec(),
            state: RunState::default(),
            restart_count: 0,
            net,
            mounts: Vec::new(),
        })
    }

    /// Blocking part: network, bundle, shim (the process is created, not started).
    fn spawn_build_step(&self, rec: &ContainerRecord, rootfs: &Path, mounts: Vec<berth_runtime::Mount>) -> Result<crate::network::Attached, String> {
        let dir = self.cfg.container_dir(&rec.id);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let attached = self.attach_network(rec)?;
        if let Err(e) = self.write_bundle_and_spawn(rec, &dir, rootfs, &attached, mounts) {
            self.networks.detach(&rec.id, &attached.net);
            let _ = std::fs::remove_dir_all(self.cfg.shim_dir(&rec.id));
            return Err(e);
        }
        Ok(attached)
    }
}
