//! The container table: records by ID and by name, and lookup as Docker
//! does it (full ID, name, unique ID prefix).

use super::record::ContainerRecord;
use super::rootfs::Mounter;
use crate::config::DaemonConfig;
use berth_api::stdcopy::Stream;
use berth_api::ApiError;
use berth_image::ImageStore;
use berth_store::RecordDir;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::{broadcast, mpsc, watch};

/// What waiters watch: counts of starts and exits, and removal.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    pub starts: u64,
    pub exits: u64,
    pub running: bool,
    pub removed: bool,
    pub exit_code: i64,
}

/// Output fanned out to attach and `logs -f` clients.
#[derive(Debug, Clone)]
pub enum Output {
    Data(Stream, Bytes),
    /// The container's output ended (it exited).
    End,
}

/// Stdin for the running container's shim connection.
#[derive(Debug)]
pub enum StdinMsg {
    Data(Bytes),
    Close,
}

/// One container: its record and the channels of its running life.
pub struct Container {
    pub id: String,
    record: Mutex<ContainerRecord>,
    /// Serialises start/stop/remove of this container.
    pub op: tokio::sync::Mutex<()>,
    pub lifecycle: watch::Sender<Lifecycle>,
    pub output: broadcast::Sender<Output>,
    pub stdin: Mutex<Option<mpsc::UnboundedSender<StdinMsg>>>,
    /// The task copying the shim's output into `output`; the exit is
    /// recorded only after it has drained.
    pub pump: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The restart policy's last back-off delay.
    pub backoff: Mutex<std::time::Duration>,
    /// The shim of the last run, which finishes its runtime clean-up
    /// after answering the exit (leftovers.rs waits for it).
    pub finishing_shim: Mutex<Option<i32>>,
}

impl Container {
    pub fn new(record: ContainerRecord) -> Arc<Container> {
        let running = record.state.status.is_running();
        let exit_code = record.state.exit_code;
        Arc::new(Container {
            id: record.id.clone(),
            record: Mutex::new(record),
            op: tokio::sync::Mutex::new(()),
            lifecycle: watch::Sender::new(Lifecycle { running, exit_code, ..Default::default() }),
            output: broadcast::Sender::new(1024),
            stdin: Mutex::new(None),
            pump: Mutex::new(None),
            backoff: Mutex::new(std::time::Duration::ZERO),
            finishing_shim: Mutex::new(None),
        })
    }

    /// A copy of the record (the lock is held only while copying).
    pub fn snapshot(&self) -> ContainerRecord {
        match self.record.lock() {
            Ok(r) => r.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Changes the record under its lock and returns the new copy.
    pub fn update(&self, f: impl FnOnce(&mut ContainerRecord)) -> ContainerRecord {
        let mut g = match self.record.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(&mut g);
        g.clone()
    }

    pub fn stdin_sender(&self) -> Option<mpsc::UnboundedSender<StdinMsg>> {
        self.stdin.lock().ok().and_then(|g| g.clone())
    }

    pub fn take_pump(&self) -> Option<tokio::task::JoinHandle<()>> {
        self.pump.lock().ok().and_then(|mut g| g.take())
    }

    pub fn set_stdin(&self, tx: Option<mpsc::UnboundedSender<StdinMsg>>) {
        if let Ok(mut g) = self.stdin.lock() {
            *g = tx;
        }
    }
}

#[derive(Default)]
struct Table {
    by_id: HashMap<String, Arc<Container>>,
    names: HashMap<String, String>,
}

/// All containers of this daemon.
pub struct ContainerManager {
    pub(super) cfg: Arc<DaemonConfig>,
    pub(super) images: Arc<ImageStore>,
    pub(super) mounter: Arc<dyn Mounter>,
    pub(super) events: Arc<crate::events::EventBus>,
    pub(super) networks: Arc<crate::network::NetworkManager>,
    pub(super) volumes: Arc<crate::volume::VolumeManager>,
    records: RecordDir<ContainerRecord>,
    table: RwLock<Table>,
    pub(super) execs: super::ExecStore,
    /// What dead shims leave behind (leftovers.rs).
    pub(super) host: Arc<dyn super::leftovers::Host>,
}

impl ContainerManager {
    pub fn new(
        cfg: Arc<DaemonConfig>,
        images: Arc<ImageStore>,
        mounter: Arc<dyn Mounter>,
        events: Arc<crate::events::EventBus>,
        networks: Arc<crate::network::NetworkManager>,
        volumes: Arc<crate::volume::VolumeManager>,
    ) -> Result<Arc<ContainerManager>, ApiError> {
        let records = RecordDir::open(&cfg.container_records())
            .map_err(|e| ApiError::internal(format!("opening container records: {e}")))?;
        Ok(Arc::new(ContainerManager { cfg, images, mounter, events, networks, volumes, records, table: RwLock::default(), execs: Default::default(), host: Arc::new(super::leftovers::SysHost) }))
    }

    fn read_table(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_table(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Finds a container by full ID, name, or unique ID prefix.
    pub fn get(&self, key: &str) -> Result<Arc<Container>, ApiError> {
        let t = self.read_table();
        if let Some(c) = t.by_id.get(key) {
            return Ok(c.clone());
        }
        let name = key.strip_prefix('/').unwrap_or(key);
        if let Some(c) = t.names.get(name).and_then(|id| t.by_id.get(id)) {
            return Ok(c.clone());
        }
        if !key.is_empty() && key.bytes().all(|c| c.is_ascii_hexdigit()) {
            let mut hits = t.by_id.iter().filter(|(id, _)| id.starts_with(key));
            if let Some((_, c)) = hits.next() {
                if hits.next().is_some() {
                    return Err(ApiError::invalid(format!("multiple IDs found with provided prefix: {key}")));
                }
                return Ok(c.clone());
            }
        }
        Err(ApiError::not_found(format!("No such container: {key}")))
    }

    pub fn all(&self) -> Vec<Arc<Container>> {
        self.read_table().by_id.values().cloned().collect()
    }

    /// Adds a new container, reserving its name atomically.
    pub(super) fn insert(&self, c: Arc<Container>, name: &str) -> Result<(), ApiError> {
        let mut t = self.write_table();
        if let Some(other) = t.names.get(name) {
            return Err(name_conflict(name, other));
        }
        t.names.insert(name.to_string(), c.id.clone());
        t.by_id.insert(c.id.clone(), c);
        Ok(())
    }

    pub(super) fn name_taken(&self, name: &str) -> bool {
        self.read_table().names.contains_key(name)
    }

    pub(super) fn forget(&self, id: &str) {
        let mut t = self.write_table();
        t.by_id.remove(id);
        t.names.retain(|_, v| v != id);
    }

    /// Moves a container to a new name, atomically with the uniqueness check.
    pub(super) fn rename_entry(&self, id: &str, old: &str, new: &str) -> Result<(), ApiError> {
        let mut t = self.write_table();
        if let Some(other) = t.names.get(new) {
            return Err(name_conflict(new, other));
        }
        t.names.remove(old);
        t.names.insert(new.to_string(), id.to_string());
        Ok(())
    }

    /// Writes the record durably (tmp + fsync + rename).
    pub fn persist(&self, rec: &ContainerRecord) -> Result<(), ApiError> {
        self.records
            .put(&rec.id, rec)
            .map_err(|e| ApiError::internal(format!("saving container {}: {e}", rec.id)))
    }

    /// Writes a run-state change (started, exited) atomically without
    /// fsync: these happen on every run, and after a power loss an older
    /// state is harmless, since the container is not running then and
    /// restore.rs marks a record without a live shim exited.
    pub fn persist_run_state(&self, rec: &ContainerRecord) -> Result<(), ApiError> {
        self.records
            .put_unsynced(&rec.id, rec)
            .map_err(|e| ApiError::internal(format!("saving container {}: {e}", rec.id)))
    }

    pub(super) fn delete_record(&self, id: &str) -> Result<(), ApiError> {
        self.records
            .delete(id)
            .map_err(|e| ApiError::internal(format!("deleting container record {id}: {e}")))
    }

    pub(super) fn load_records(&self) -> Result<Vec<ContainerRecord>, ApiError> {
        let loaded = self
            .records
            .load(&berth_store::Quarantine::new(&self.cfg.data_root))
            .map_err(|e| ApiError::internal(format!("reading container records: {e}")))?;
        crate::daemon::log_quarantined(&loaded.quarantined);
        Ok(loaded.records.into_iter().map(|(_, r)| r).collect())
    }

    /// Lets the last run's shim finish its own clean-up (bounded), so
    /// that `clear_leftovers` does not race it. Blocking.
    pub(super) fn wait_finishing_shim(&self, c: &Container) {
        let pid = c.finishing_shim.lock().ok().and_then(|mut g| g.take());
        if let Some(pid) = pid {
            super::leftovers::wait_finishing(self.host.as_ref(), pid, &c.id, std::time::Duration::from_secs(5));
        }
    }

    /// Kills and removes whatever a dead shim or a dead berthd left of
    /// this container (leftovers.rs). Blocking.
    pub(super) fn clear_leftovers(&self, id: &str, runtime: &str) -> super::leftovers::Cleared {
        let shim_dir = self.cfg.shim_dir(id);
        let runtime = self.cfg.runtime_path(runtime);
        let place = super::leftovers::Place {
            id,
            shim_dir: &shim_dir,
            runtime: &runtime,
            runtime_root: &self.cfg.runtime_root(),
        };
        super::leftovers::clear(self.host.as_ref(), &place)
    }

    /// Publishes a container event with Docker's attributes (image, name,
    /// labels) plus `extra`.
    pub(crate) fn emit(&self, c: &Container, action: &str, extra: &[(&str, String)]) {
        let rec = c.snapshot();
        let mut attrs: std::collections::BTreeMap<String, String> = rec.config.labels.clone().into_iter().collect();
        attrs.insert("image".into(), rec.config.image.clone());
        attrs.insert("name".into(), rec.name.clone());
        for (k, v) in extra {
            attrs.insert(k.to_string(), v.clone());
        }
        self.events.emit("container", action, &c.id, attrs);
    }

    /// How many containers use an image, and whether one of them runs.
    pub fn image_users(&self, image_id: &str) -> Vec<ContainerRecord> {
        self.all().iter().map(|c| c.snapshot()).filter(|r| r.image_id == image_id).collect()
    }
}

pub(super) fn name_conflict(name: &str, other: &str) -> ApiError {
    ApiError::conflict(format!(
        "Conflict. The container name \"/{name}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
    ))
}

pub fn now_nanos() -> i64 {
    berth_api::time::unix_nanos(std::time::SystemTime::now()) as i64
}
