//! Parsing a create request's mounts as dockerd does (`-v` binds,
//! `--mount`, `--tmpfs`, `--volumes-from`, `Config.Volumes`): the result
//! is the list of mounts the container record keeps, and the volumes that
//! must exist. Pure: nothing is created here, so a malformed spec creates
//! nothing.

use super::name::anonymous_name;
use berth_api::volume::{Mount, MountPoint, TmpfsOptions};
use berth_api::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The label dockerd puts on anonymous volumes.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    Volume,
    Bind,
    Tmpfs,
}

impl MountType {
    fn as_str(self) -> &'static str {
        match self {
            MountType::Volume => "volume",
            MountType::Bind => "bind",
            MountType::Tmpfs => "tmpfs",
        }
    }
}

/// One mount of a container, as its record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountRecord {
    pub kind: MountType,
    /// Volume name (volumes only).
    #[serde(default)]
    pub name: String,
    /// Host path: the bind source, or the volume's mountpoint.
    #[serde(default)]
    pub source: String,
    pub destination: String,
    #[serde(default)]
    pub driver: String,
    #[serde(default)]
    pub mode: String,
    pub rw: bool,
    #[serde(default)]
    pub propagation: String,
    /// Fill an empty volume with the image's content at the destination.
    #[serde(default)]
    pub copy_data: bool,
    /// `-v` binds create a missing source directory; `--mount` binds fail.
    #[serde(default)]
    pub create_source: bool,
    /// tmpfs mount options (`size=1m`, `mode=1777`).
    #[serde(default)]
    pub tmpfs_options: Vec<String>,
}

impl MountRecord {
    /// The inspect `Mounts` entry.
    pub fn to_api(&self) -> MountPoint {
        MountPoint {
            kind: self.kind.as_str().to_string(),
            name: self.name.clone(),
            source: self.source.clone(),
            destination: self.destination.clone(),
            driver: self.driver.clone(),
            mode: self.mode.clone(),
            rw: self.rw,
            propagation: self.propagation.clone(),
        }
    }
}

/// A volume the container needs, created if missing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VolumeWant {
    pub name: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub options: Option<BTreeMap<String, String>>,
}

/// Everything the create request asks to mount.
#[derive(Debug, Default)]
pub struct Plan {
    pub mounts: Vec<MountRecord>,
    pub volumes: Vec<VolumeWant>,
}

/// What the request carries about mounts.
pub struct MountRequest<'a> {
    pub binds: &'a [String],
    pub mounts: &'a [Mount],
    pub tmpfs: Option<&'a BTreeMap<String, String>>,
    pub volumes_from: &'a [String],
    /// `Config.Volumes`: the image's VOLUMEs and `-v /path`.
    pub volumes: Vec<String>,
}

/// Parses the request. `from` answers `--volumes-from` with the other
/// container's mounts (or its lookup error); `mountpoint` gives a volume's
/// host path.
pub fn plan(
    req: &MountRequest<'_>,
    from: &dyn Fn(&str) -> Result<Vec<MountRecord>, ApiError>,
    mountpoint: &dyn Fn(&str) -> String,
) -> Result<Plan, ApiError> {
    let mut by_dest: BTreeMap<String, MountRecord> = BTreeMap::new();
    let mut wants: Vec<VolumeWant> = Vec::new();
    let mut explicit: Vec<String> = Vec::new();
    let tmpfs = req.tmpfs.cloned().unwrap_or_default();
    for dest in tmpfs.keys() {
        validate_target(dest).map_err(ApiError::invalid)?;
    }
    for spec in req.volumes_from {
        let (id, mode) = parse_volumes_from(spec)?;
        for mut m in from(id)? {
            m.rw = m.rw && !mode_has(mode, "ro");
            m.copy_data = false;
            m.create_source = false;
            if m.kind == MountType::Volume {
                wants.push(VolumeWant { name: m.name.clone(), ..Default::default() });
            }
            by_dest.insert(m.destination.clone(), m);
        }
    }
    for raw in req.binds {
        let (mut m, want) = parse_bind(raw)?;
        if explicit.contains(&m.destination) || tmpfs.contains_key(&m.destination) {
            return Err(duplicate(&m.destination));
        }
        if let Some(w) = want {
            m.source = mountpoint(&w.name);
            wants.push(w);
        }
        explicit.push(m.destination.clone());
        by_dest.insert(m.destination.clone(), m);
    }
    for cfg in req.mounts {
        let (mut m, want) = parse_mount(cfg)?;
        if explicit.contains(&m.destination) || tmpfs.contains_key(&m.destination) {
            return Err(duplicate(&cfg.target));
        }
        if let Some(w) = want {
            m.source = mountpoint(&w.name);
            wants.push(w);
        }
        explicit.push(m.destination.clone());
        by_dest.insert(m.destination.clone(), m);
    }
    for v in &req.volumes {
        validate_target(v).map_err(ApiError::invalid)?;
        let dest = clean(v);
        if by_dest.contains_key(&dest) || tmpfs.contains_key(&dest) {
            continue;
        }
        let name = anonymous_name();
        wants.push(anonymous_want(&name, None));
        by_dest.insert(
            dest.clone(),
            MountRecord {
                kind: MountType::Volume,
                source: mountpoint(&name),
                name,
                destination: dest,
                driver: "local".into(),
                mode: String::new(),
                rw: true,
                propagation: String::new(),
                copy_data: true,
                create_source: false,
                tmpfs_options: vec![],
            },
        );
    }
    Ok(Plan { mounts: by_dest.into_values().collect(), volumes: wants })
}

fn anonymous_want(name: &str, options: Option<BTreeMap<String, String>>) -> VolumeWant {
    VolumeWant {
        name: name.to_string(),
        labels: Some([(ANONYMOUS_LABEL.to_string(), String::new())].into()),
        options,
    }
}

fn duplicate(dest: &str) -> ApiError {
    ApiError::invalid(format!("Duplicate mount point: {dest}"))
}

/// `path.Clean` for absolute paths.
pub fn clean(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    format!("/{}", out.join("/"))
}

fn validate_target(t: &str) -> Result<(), String> {
    if t.starts_with('/') && clean(t) == "/" {
        return Err("invalid specification: destination can't be '/'".into());
    }
    if !t.starts_with('/') {
        return Err(format!("invalid mount path: '{t}' mount path must be absolute"));
    }
    Ok(())
}

const PROPAGATIONS: [&str; 6] = ["private", "rprivate", "shared", "rshared", "slave", "rslave"];

/// dockerd's `ValidMountMode`: comma-separated, at most one of each kind.
fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let mut counts = [0; 5];
    for o in mode.split(',') {
        let i = match o {
            "rw" | "ro" => 0,
            "z" | "Z" => 1,
            o if PROPAGATIONS.contains(&o) => 2,
            "nocopy" => 3,
            "consistent" | "cached" | "delegated" => 4,
            _ => return false,
        };
        counts[i] += 1;
    }
    counts.iter().all(|&c| c <= 1)
}

fn mode_has(mode: &str, opt: &str) -> bool {
    mode.split(',').any(|o| o == opt)
}

fn mode_propagation(mode: &str) -> Option<&str> {
    mode.split(',').find(|o| PROPAGATIONS.contains(o))
}

fn invalid_spec(raw: &str) -> String {
    format!("invalid volume specification: '{raw}'")
}

/// `--volumes-from ID[:mode]`.
fn parse_volumes_from(spec: &str) -> Result<(&str, &str), ApiError> {
    if spec.is_empty() {
        return Err(ApiError::invalid("volumes-from specification cannot be an empty string"));
    }
    let (id, mode) = spec.split_once(':').unwrap_or((spec, ""));
    if mode.is_empty() {
        return Ok((id, "rw"));
    }
    if !valid_mode(mode) || mode_propagation(mode).is_some() || mode_has(mode, "nocopy") {
        return Err(ApiError::invalid(format!("invalid mode: {mode}")));
    }
    Ok((id, mode))
}

/// One `HostConfig.Binds` entry (`-v`), as dockerd's linux parser reads it.
pub fn parse_bind(raw: &str) -> Result<(MountRecord, Option<VolumeWant>), ApiError> {
    if raw.matches(':').count() > 2 || raw.split(':').next().unwrap_or("").is_empty() {
        return Err(ApiError::invalid(invalid_spec(raw)));
    }
    let arr: Vec<&str> = raw.splitn(3, ':').collect();
    let (source, target, mode) = match arr.as_slice() {
        [t] => ("", *t, ""),
        [a, b] if valid_mode(b) => ("", *a, *b),
        [a, b] => (*a, *b, ""),
        [a, b, c] => (*a, *b, *c),
        _ => return Err(ApiError::invalid(invalid_spec(raw))),
    };
    if !valid_mode(mode) {
        return Err(ApiError::invalid(format!("invalid mode: {mode}")));
    }
    let kind = if source.starts_with('/') { MountType::Bind } else { MountType::Volume };
    let wrap = |e: String| ApiError::invalid(format!("{}: {e}", invalid_spec(raw)));
    let cfg_err = |e: &str| wrap(format!("invalid mount config for type \"{}\": {e}", kind.as_str()));
    if target.is_empty() {
        return Err(cfg_err("field Target must not be empty"));
    }
    validate_target(target).map_err(|e| cfg_err(&e))?;
    let rw = !mode_has(mode, "ro");
    let dest = clean(target);
    match kind {
        MountType::Bind => Ok((
            MountRecord {
                kind,
                name: String::new(),
                source: clean(source),
                destination: dest,
                driver: String::new(),
                mode: mode.to_string(),
                rw,
                propagation: mode_propagation(mode).unwrap_or("rprivate").to_string(),
                copy_data: false,
                create_source: true,
                tmpfs_options: vec![],
            },
            None,
        )),
        _ => {
            if mode_propagation(mode).is_some() {
                return Err(cfg_err("field BindOptions must not be specified"));
            }
            let anonymous = source.is_empty();
            if anonymous && !rw {
                return Err(cfg_err("must not set ReadOnly mode when using anonymous volumes"));
            }
            let name = if anonymous { anonymous_name() } else { source.to_string() };
            let want = if anonymous { anonymous_want(&name, None) } else { VolumeWant { name: name.clone(), ..Default::default() } };
            Ok((
                MountRecord {
                    kind,
                    name,
                    source: String::new(),
                    destination: dest,
                    driver: "local".into(),
                    // dockerd's setBindModeIfNull for local volumes.
                    mode: if mode.is_empty() { "z".into() } else { mode.to_string() },
                    rw,
                    propagation: String::new(),
                    copy_data: !mode_has(mode, "nocopy"),
                    create_source: false,
                    tmpfs_options: vec![],
                },
                Some(want),
            ))
        }
    }
}

/// One `HostConfig.Mounts` entry (`--mount`), validated as dockerd does
/// (a bind source must exist).
pub fn parse_mount(cfg: &Mount) -> Result<(MountRecord, Option<VolumeWant>), ApiError> {
    let err = |e: &str| ApiError::invalid(format!("invalid mount config for type \"{}\": {e}", cfg.kind));
    if cfg.target.is_empty() {
        return Err(err("field Target must not be empty"));
    }
    validate_target(&cfg.target).map_err(|e| err(&e))?;
    let dest = clean(&cfg.target);
    let base = MountRecord {
        kind: MountType::Tmpfs,
        name: String::new(),
        source: String::new(),
        destination: dest,
        driver: String::new(),
        mode: String::new(),
        rw: !cfg.read_only,
        propagation: String::new(),
        copy_data: false,
        create_source: false,
        tmpfs_options: vec![],
    };
    match cfg.kind.as_str() {
        "bind" => {
            if cfg.source.is_empty() {
                return Err(err("field Source must not be empty"));
            }
            let prop = cfg.bind_options.as_ref().map(|b| b.propagation.as_str()).unwrap_or("");
            if !prop.is_empty() && !PROPAGATIONS.contains(&prop) {
                return Err(err(&format!("invalid propagation mode: {prop}")));
            }
            if cfg.volume_options.is_some() {
                return Err(err("field VolumeOptions must not be specified"));
            }
            if cfg.tmpfs_options.is_some() {
                return Err(err("field TmpfsOptions must not be specified"));
            }
            if !cfg.source.starts_with('/') {
                return Err(err(&format!("invalid mount path: '{}' mount path must be absolute", cfg.source)));
            }
            let create = cfg.bind_options.as_ref().is_some_and(|b| b.create_mountpoint);
            if !create && std::fs::symlink_metadata(&cfg.source).is_err() {
                return Err(err(&format!("bind source path does not exist: {}", cfg.source)));
            }
            Ok((
                MountRecord {
                    kind: MountType::Bind,
                    source: clean(&cfg.source),
                    propagation: if prop.is_empty() { "rprivate".into() } else { prop.into() },
                    create_source: create,
                    ..base
                },
                None,
            ))
        }
        "volume" => {
            if cfg.bind_options.is_some() {
                return Err(err("field BindOptions must not be specified"));
            }
            if cfg.tmpfs_options.is_some() {
                return Err(err("field TmpfsOptions must not be specified"));
            }
            let anonymous = cfg.source.is_empty();
            if cfg.read_only && anonymous {
                return Err(err("must not set ReadOnly mode when using anonymous volumes"));
            }
            let vo = cfg.volume_options.clone().unwrap_or_default();
            if !vo.subpath.is_empty() {
                return Err(err("volume subpath is not supported"));
            }
            let driver = vo.driver_config.as_ref().map(|d| d.name.as_str()).filter(|n| !n.is_empty()).unwrap_or("local");
            if driver != "local" {
                return Err(ApiError::not_found(format!("error looking up volume plugin {driver}: plugin \"{driver}\" not found")));
            }
            let options = vo.driver_config.as_ref().and_then(|d| d.options.clone()).filter(|o| !o.is_empty());
            let name = if anonymous { anonymous_name() } else { cfg.source.clone() };
            let want = if anonymous {
                anonymous_want(&name, options)
            } else {
                VolumeWant { name: name.clone(), labels: vo.labels.clone(), options }
            };
            Ok((
                MountRecord {
                    kind: MountType::Volume,
                    name,
                    driver: "local".into(),
                    mode: "z".into(),
                    copy_data: !vo.no_copy,
                    ..base
                },
                Some(want),
            ))
        }
        "tmpfs" => {
            if cfg.bind_options.is_some() {
                return Err(err("field BindOptions must not be specified"));
            }
            if cfg.volume_options.is_some() {
                return Err(err("field VolumeOptions must not be specified"));
            }
            if !cfg.source.is_empty() {
                return Err(err("field Source must not be specified"));
            }
            let opts = tmpfs_options(cfg.tmpfs_options.as_ref());
            Ok((MountRecord { tmpfs_options: opts, ..base }, None))
        }
        _ => Err(err("mount type unknown")),
    }
}

/// dockerd's `ConvertTmpfsOptions` (without `ro`, which the spec adds).
fn tmpfs_options(o: Option<&TmpfsOptions>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(o) = o else { return out };
    if o.mode != 0 {
        out.push(format!("mode={:o}", o.mode));
    }
    if o.size_bytes != 0 {
        let mut size = o.size_bytes;
        let mut suffix = "";
        for (s, d) in [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
            if size % d == 0 {
                size /= d;
                suffix = s;
                break;
            }
        }
        out.push(format!("size={size}{suffix}"));
    }
    out
}

/// The tmpfs mounts of `HostConfig.Tmpfs` (`--tmpfs`), for the spec.
pub fn tmpfs_flag_mounts(tmpfs: Option<&BTreeMap<String, String>>) -> Vec<MountRecord> {
    tmpfs
        .into_iter()
        .flatten()
        .map(|(dest, data)| MountRecord {
            kind: MountType::Tmpfs,
            name: String::new(),
            source: String::new(),
            destination: clean(dest),
            driver: String::new(),
            mode: String::new(),
            rw: !data.split(',').any(|o| o == "ro"),
            propagation: String::new(),
            copy_data: false,
            create_source: false,
            tmpfs_options: data.split(',').filter(|o| !o.is_empty() && *o != "ro" && *o != "rw").map(str::to_string).collect(),
        })
        .collect()
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
