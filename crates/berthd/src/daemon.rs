//! Wiring: the managers the API routes call into, and the daemon's log.

use crate::config::DaemonConfig;
use crate::container::rootfs::SysMounter;
use crate::container::ContainerManager;
use berth_api::ApiError;
use berth_image::ImageStore;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

static DEBUG: AtomicBool = AtomicBool::new(false);

pub fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

pub fn log(msg: &str) {
    eprintln!("berthd: {msg}");
}

/// A log line that may repeat fast (accept failing on every wakeup, DNS
/// queries dropped under load): the first is written, then at most one per
/// `every`, with the count of those left out.
pub struct RepeatLog {
    every: std::time::Duration,
    last: Option<std::time::Instant>,
    suppressed: u64,
}

impl RepeatLog {
    pub fn new(every: std::time::Duration) -> RepeatLog {
        RepeatLog { every, last: None, suppressed: 0 }
    }

    /// Returns whether the line was written.
    pub fn log(&mut self, msg: &str) -> bool {
        let now = std::time::Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < self.every) {
            self.suppressed += 1;
            return false;
        }
        match std::mem::take(&mut self.suppressed) {
            0 => log(msg),
            n => log(&format!("{msg} ({n} more like it in the last {:?})", self.every)),
        }
        self.last = Some(now);
        true
    }
}

/// One line per damaged record moved aside at start-up, naming it and why.
pub fn log_quarantined(q: &[berth_store::Quarantined]) {
    for one in q {
        log(&one.to_string());
    }
}

pub fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

pub fn debug(msg: &str) {
    if DEBUG.load(Ordering::Relaxed) {
        log(msg);
    }
}

/// The object managers, shared by every request.
pub struct Daemon {
    pub cfg: Arc<DaemonConfig>,
    pub images: Arc<ImageStore>,
    pub containers: Arc<ContainerManager>,
    pub events: Arc<crate::events::EventBus>,
    pub networks: Arc<crate::network::NetworkManager>,
    pub volumes: Arc<crate::volume::VolumeManager>,
    pub plugins: Arc<crate::plugin::PluginStore>,
    pub builds: Arc<crate::build::BuildManager>,
    pub host: crate::host::HostFacts,
}

impl Daemon {
    pub async fn open(cfg: DaemonConfig) -> Result<Arc<Daemon>, ApiError> {
        let cfg = Arc::new(cfg);
        for d in [&cfg.data_root, &cfg.exec_root] {
            std::fs::create_dir_all(d).map_err(|e| ApiError::internal(format!("creating {}: {e}", d.display())))?;
        }
        let images = Arc::new(ImageStore::open(&cfg.data_root).map_err(crate::error::image_error)?);
        log_quarantined(images.quarantined());
        let events = Arc::new(crate::events::EventBus::default());
        let networks = crate::network::NetworkManager::open(
            cfg.net.clone(),
            Arc::new(berth_net::link::NetlinkLinks),
            Arc::new(berth_net::firewall::Iptables),
        )?;
        let volumes = crate::volume::VolumeManager::open(&cfg.data_root, Arc::new(crate::volume::driver::SysDriverMounter))?;
        let containers = ContainerManager::new(
            cfg.clone(),
            images.clone(),
            Arc::new(SysMounter),
            events.clone(),
            networks.clone(),
            volumes.clone(),
        )?;
        containers.restore().await?;
        volumes.unmount_idle();
        let plugins = Arc::new(crate::plugin::PluginStore::open(&cfg.data_root)?);
        let builds = crate::build::BuildManager::open(cfg.clone(), images.clone(), containers.clone(), events.clone())
            .map_err(|e| ApiError::internal(format!("opening the build area: {e}")))?;
        let root = cfg.data_root.clone();
        let host = tokio::task::spawn_blocking(move || crate::host::HostFacts::probe(&root))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(Arc::new(Daemon { cfg, images, containers, events, networks, volumes, plugins, builds, host }))
    }

    /// On SIGTERM: networking goes away unless containers keep running.
    pub fn shutdown(&self) {
        self.networks.wait_teardowns();
        let running = self.containers.all().iter().any(|c| c.snapshot().state.status.is_running());
        self.networks.shutdown(running);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_lines_are_rate_limited() {
        let mut l = RepeatLog::new(std::time::Duration::from_secs(60));
        assert!(l.log("accept: Too many open files"));
        for _ in 0..1000 {
            assert!(!l.log("accept: Too many open files"));
        }
        assert_eq!(l.suppressed, 1000);
    }
}
