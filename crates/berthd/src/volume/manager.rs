//! The volume table: records under `<data-root>/db/volumes/`, data under
//! `<data-root>/volumes/<name>/_data`, which containers reference a
//! volume (for `rm`'s in-use check and `dangling`), and which running
//! containers hold a driver mount.

use super::driver::{self, DriverMounter};
use super::spec::{VolumeWant, ANONYMOUS_LABEL};
use crate::http::query::Filters;
use berth_api::volume::{Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse};
use berth_api::ApiError;
use berth_store::RecordDir;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// What berthd persists about a volume.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VolumeRecord {
    pub name: String,
    /// Unix nanoseconds.
    pub created: i64,
    pub driver: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub options: Option<BTreeMap<String, String>>,
}

impl VolumeRecord {
    pub fn anonymous(&self) -> bool {
        self.labels.as_ref().is_some_and(|l| l.contains_key(ANONYMOUS_LABEL))
    }
}

#[derive(Default)]
struct Table {
    vols: BTreeMap<String, VolumeRecord>,
    /// Volume name → containers whose record mounts it.
    refs: BTreeMap<String, BTreeSet<String>>,
    /// Volume name → running containers holding its driver mount.
    active: BTreeMap<String, BTreeSet<String>>,
}

pub struct VolumeManager {
    root: PathBuf,
    records: RecordDir<VolumeRecord>,
    mounter: Arc<dyn DriverMounter>,
    table: Mutex<Table>,
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e.to_string())
}

fn no_such(name: &str) -> ApiError {
    ApiError::not_found(format!("get {name}: no such volume"))
}

impl VolumeManager {
    /// Opens the table at `data_root`.
    pub fn open(data_root: &Path, mounter: Arc<dyn DriverMounter>) -> Result<Arc<VolumeManager>, ApiError> {
        let records = RecordDir::open(&data_root.join("db").join("volumes")).map_err(|e| internal(format!("opening volume records: {e}")))?;
        let root = data_root.join("volumes");
        std::fs::create_dir_all(&root).map_err(|e| internal(format!("creating {}: {e}", root.display())))?;
        let mut t = Table::default();
        let loaded = records.load(&berth_store::Quarantine::new(data_root)).map_err(|e| internal(format!("reading volume records: {e}")))?;
        crate::daemon::log_quarantined(&loaded.quarantined);
        // A quarantined volume's data stays under volumes/<name>; creating the name again reuses it.
        for (name, rec) in loaded.records {
            if !root.join(&name).exists() {
                // `rm` removes the data before the record: a crash in
                // between is a removal to finish.
                match records.delete(&name) {
                    Ok(()) => crate::daemon::log(&format!("volume {name}: finished an interrupted removal")),
                    Err(e) => crate::daemon::log(&format!("volume {name}: {e}")),
                }
                continue;
            }
            t.vols.insert(name, rec);
        }
        remove_unrecorded_empty(&root, &data_root.join("quarantine").join("volumes"), &t);
        Ok(Arc::new(VolumeManager { root, records, mounter, table: Mutex::new(t) }))
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `<data-root>/volumes/<name>/_data`.
    pub fn mountpoint(&self, name: &str) -> PathBuf {
        self.root.join(name).join("_data")
    }

    fn to_api(&self, r: &VolumeRecord) -> Volume {
        Volume {
            created_at: created_at(r.created),
            driver: r.driver.clone(),
            labels: r.labels.clone(),
            mountpoint: self.mountpoint(&r.name).display().to_string(),
            name: r.name.clone(),
            options: r.options.clone(),
            scope: "local".into(),
            usage_data: None,
        }
    }

    /// Creates the record and data dir; the caller holds the table lock.
    fn create_locked(&self, t: &mut Table, want: &VolumeWant) -> Result<VolumeRecord, ApiError> {
        if let Some(r) = t.vols.get(&want.name) {
            return Ok(r.clone());
        }
        super::name::validate(&want.name)?;
        driver::validate_options(&want.name, want.options.as_ref())?;
        let rec = VolumeRecord {
            name: want.name.clone(),
            created: berth_api::time::unix_nanos(std::time::SystemTime::now()) as i64,
            driver: "local".into(),
            labels: want.labels.clone(),
            options: want.options.clone(),
        };
        let data = self.mountpoint(&rec.name);
        std::fs::create_dir_all(&data).map_err(|e| internal(format!("create {}: {e}", rec.name)))?;
        if let Err(e) = self.records.put(&rec.name, &rec) {
            let _ = std::fs::remove_dir_all(self.root.join(&rec.name));
            return Err(internal(format!("create {}: {e}", rec.name)));
        }
        t.vols.insert(rec.name.clone(), rec.clone());
        Ok(rec)
    }

    /// `POST /volumes/create`. An existing name answers with that volume.
    pub fn create(&self, req: VolumeCreateRequest) -> Result<Volume, ApiError> {
        let driver = if req.driver.is_empty() { "local" } else { req.driver.as_str() };
        if driver != "local" {
            return Err(ApiError::not_found(format!("error looking up volume plugin {driver}: plugin \"{driver}\" not found")));
        }
        let name = if req.name.is_empty() { super::name::anonymous_name() } else { req.name };
        let want = VolumeWant { name, labels: req.labels, options: req.driver_opts };
        let mut t = self.lock();
        let rec = self.create_locked(&mut t, &want)?;
        Ok(self.to_api(&rec))
    }

    pub fn inspect(&self, name: &str) -> Result<Volume, ApiError> {
        let t = self.lock();
        t.vols.get(name).map(|r| self.to_api(r)).ok_or_else(|| no_such(name))
    }

    /// Every volume with how many containers reference it, for
    /// `system df` (which measures their data).
    pub fn usage(&self) -> Vec<(Volume, i64)> {
        let t = self.lock();
        t.vols.values().map(|r| (self.to_api(r), t.refs.get(&r.name).map_or(0, |u| u.len() as i64))).collect()
    }

    /// `GET /volumes` with Docker's filters.
    pub fn list(&self, f: &Filters) -> Result<VolumeListResponse, ApiError> {
        f.validate(&["dangling", "name", "label", "label!", "driver"])?;
        let dangling = match f.values("dangling").first().map(String::as_str) {
            None => None,
            Some("true") | Some("1") => Some(true),
            Some("false") | Some("0") => Some(false),
            Some(v) => return Err(ApiError::invalid(format!("invalid filter 'dangling={v}'"))),
        };
        let t = self.lock();
        let volumes = t
            .vols
            .values()
            .filter(|r| dangling.is_none_or(|d| d == t.refs.get(&r.name).is_none_or(BTreeSet::is_empty)))
            .filter(|r| any_or_empty(f.values("name"), |n| r.name.contains(n)))
            .filter(|r| any_or_empty(f.values("driver"), |d| r.driver == d))
            .filter(|r| f.labels_match(|k| r.labels.as_ref().and_then(|l| l.get(k)).map(String::as_str)))
            .map(|r| self.to_api(r))
            .collect();
        Ok(VolumeListResponse { volumes, warnings: None })
    }

    /// `DELETE /volumes/{name}`: refuses a volume any container references.
    pub fn remove(&self, name: &str, force: bool) -> Result<(), ApiError> {
        let mut t = self.lock();
        if !t.vols.contains_key(name) {
            return if force { Ok(()) } else { Err(no_such(name)) };
        }
        if let Some(users) = t.refs.get(name).filter(|u| !u.is_empty()) {
            let list: Vec<&str> = users.iter().map(String::as_str).collect();
            return Err(ApiError::conflict(format!("remove {name}: volume is in use - [{}]", list.join(", "))));
        }
        self.remove_locked(&mut t, name)
    }

    fn remove_locked(&self, t: &mut Table, name: &str) -> Result<(), ApiError> {
        let dir = self.root.join(name);
        let _ = self.mounter.unmount(&dir.join("_data"));
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(internal(format!("remove {name}: {e}")));
            }
        }
        self.records.delete(name).map_err(|e| internal(format!("remove {name}: {e}")))?;
        t.vols.remove(name);
        t.refs.remove(name);
        Ok(())
    }

    /// `POST /volumes/prune`: unused anonymous volumes, or all unused ones
    /// with `all=true` or when `all_by_default` (clients before API 1.42).
    pub fn prune(&self, f: &Filters, all_by_default: bool) -> Result<VolumePruneResponse, ApiError> {
        f.validate(&["label", "label!", "all"])?;
        let all = match f.values("all").first().map(String::as_str) {
            None => all_by_default,
            Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(v) => return Err(ApiError::invalid(format!("invalid filter 'all={v}'"))),
        };
        let mut t = self.lock();
        let victims: Vec<String> = t
            .vols
            .values()
            .filter(|r| t.refs.get(&r.name).is_none_or(BTreeSet::is_empty))
            .filter(|r| all || r.anonymous())
            .filter(|r| f.labels_match(|k| r.labels.as_ref().and_then(|l| l.get(k)).map(String::as_str)))
            .map(|r| r.name.clone())
            .collect();
        let mut deleted = Vec::new();
        let mut space = 0;
        for name in victims {
            let size = crate::diskusage::dir_size(&self.mountpoint(&name));
            if self.remove_locked(&mut t, &name).is_ok() {
                space += size;
                deleted.push(name);
            }
        }
        Ok(VolumePruneResponse { volumes_deleted: Some(deleted), space_reclaimed: space })
    }

    /// Creates the volumes a new container needs and records its
    /// references, all or nothing.
    pub fn claim(&self, container: &str, wants: &[VolumeWant]) -> Result<(), ApiError> {
        let mut t = self.lock();
        let mut created = Vec::new();
        for w in wants {
            let existed = t.vols.contains_key(&w.name);
            match self.create_locked(&mut t, w) {
                Ok(_) => {
                    if !existed {
                        created.push(w.name.clone());
                    }
                }
                Err(e) => {
                    for n in created {
                        let _ = self.remove_locked(&mut t, &n);
                    }
                    return Err(e);
                }
            }
        }
        for w in wants {
            t.refs.entry(w.name.clone()).or_default().insert(container.to_string());
        }
        Ok(())
    }

    /// Re-records references of an existing container (daemon start-up).
    pub fn restore_refs(&self, container: &str, names: &[String]) {
        let mut t = self.lock();
        for n in names {
            if t.vols.contains_key(n) {
                t.refs.entry(n.clone()).or_default().insert(container.to_string());
            }
        }
    }

    /// Drops a removed container's references; with `remove_anonymous`,
    /// its anonymous volumes that nobody else uses go too (`rm -v`, `--rm`).
    pub fn release(&self, container: &str, names: &[String], remove_anonymous: bool) {
        let mut t = self.lock();
        for n in names {
            let unused = match t.refs.get_mut(n) {
                Some(users) => {
                    users.remove(container);
                    users.is_empty()
                }
                None => true,
            };
            let anonymous = t.vols.get(n).is_some_and(VolumeRecord::anonymous);
            if remove_anonymous && unused && anonymous {
                if let Err(e) = self.remove_locked(&mut t, n) {
                    crate::daemon::log(&format!("removing anonymous volume {n}: {e}"));
                }
            }
        }
    }

    /// Makes a volume's data usable by a starting container: mounts the
    /// driver's filesystem on first use. Returns the data path.
    pub fn activate(&self, name: &str, container: &str) -> Result<PathBuf, String> {
        let mut t = self.lock();
        let rec = t.vols.get(name).cloned().ok_or_else(|| format!("get {name}: no such volume"))?;
        let data = self.mountpoint(name);
        std::fs::create_dir_all(&data).map_err(|e| format!("creating {}: {e}", data.display()))?;
        let users = t.active.entry(name.to_string()).or_default();
        if driver::needs_mount(rec.options.as_ref()) && users.is_empty() && !is_mount_point(&data) {
            let o = rec.options.as_ref().map(|o| o.get("o").cloned().unwrap_or_default()).unwrap_or_default();
            let (flags, extra) = driver::parse_o(&o);
            let opt = |k: &str| rec.options.as_ref().and_then(|o| o.get(k).cloned()).unwrap_or_default();
            self.mounter
                .mount(&opt("device"), &opt("type"), flags, &extra, &data)
                .map_err(|e| format!("error while mounting volume '{}': failed to mount local volume: {e}", data.display()))?;
        }
        users.insert(container.to_string());
        Ok(data)
    }

    /// A container stopped: driver mounts nobody else holds are unmounted.
    pub fn deactivate(&self, container: &str) {
        let mut t = self.lock();
        let mut idle = Vec::new();
        for (name, users) in t.active.iter_mut() {
            if users.remove(container) && users.is_empty() {
                idle.push(name.clone());
            }
        }
        for name in idle {
            t.active.remove(&name);
            let needs = t.vols.get(&name).is_some_and(|r| driver::needs_mount(r.options.as_ref()));
            if needs {
                if let Err(e) = self.mounter.unmount(&self.mountpoint(&name)) {
                    crate::daemon::log(&format!("unmounting volume {name}: {e}"));
                }
            }
        }
    }

    /// Start-up repair: unmounts driver mounts no running container holds
    /// (left by a crash). Call after containers re-activated theirs.
    pub fn unmount_idle(&self) {
        let t = self.lock();
        for (name, rec) in &t.vols {
            if driver::needs_mount(rec.options.as_ref()) && t.active.get(name).is_none_or(BTreeSet::is_empty) {
                let _ = self.mounter.unmount(&self.mountpoint(name));
            }
        }
    }

    pub fn exists(&self, name: &str) -> bool {
        self.lock().vols.contains_key(name)
    }
}

/// Start-up: a create cut between the data directory and the record
/// leaves an empty `<name>/_data` no record names. A quarantined volume's
/// data (its record is under `quarantine`) and non-empty data stay.
fn remove_unrecorded_empty(root: &Path, quarantine: &Path, t: &Table) {
    let Ok(rd) = std::fs::read_dir(root) else { return };
    let quarantined: Vec<String> = std::fs::read_dir(quarantine)
        .map(|q| q.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if t.vols.contains_key(&name) || quarantined.iter().any(|q| q.starts_with(&format!("{name}.json."))) {
            continue;
        }
        if remove_empty_shell(&e.path()) {
            crate::daemon::log(&format!("volume {name}: removed the directory of an interrupted create"));
        }
    }
}

/// Removes `dir` when it holds nothing but an empty, unmounted `_data`,
/// or nothing at all: create makes `<name>` and `<name>/_data` one after
/// the other, so a kill can fall between the two.
fn remove_empty_shell(dir: &Path) -> bool {
    let is_empty = |p: &Path| std::fs::read_dir(p).map(|mut d| d.next().is_none()).unwrap_or(false);
    let data = dir.join("_data");
    let entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().map(|e| e.file_name()).collect(),
        Err(_) => return false,
    };
    match entries.as_slice() {
        [] => std::fs::remove_dir(dir).is_ok(),
        [only] if only == "_data" && is_empty(&data) && !is_mount_point(&data) => {
            std::fs::remove_dir(&data).and_then(|()| std::fs::remove_dir(dir)).is_ok()
        }
        _ => false,
    }
}

fn any_or_empty(vals: &[String], pred: impl Fn(&str) -> bool) -> bool {
    vals.is_empty() || vals.iter().any(|v| pred(v))
}


/// dockerd's volume `CreatedAt`: RFC 3339 in seconds.
fn created_at(nanos: i64) -> String {
    berth_api::time::format_rfc3339_nanos(i128::from(nanos) / 1_000_000_000 * 1_000_000_000)
}

fn is_mount_point(p: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::symlink_metadata(p), p.parent().map(std::fs::symlink_metadata)) {
        (Ok(a), Some(Ok(b))) => a.dev() != b.dev(),
        _ => false,
    }
}

#[cfg(test)]
#[path = "manager_tests.rs"]
mod tests;
