//! The verbs that act on a container's cgroup rather than its processes:
//! `pause`/`resume` (freezer), `ps` (the cgroup's pids) and `update`
//! (new resource limits written through libcgroups' managers).

use std::io::Read;
use std::path::Path;

use libcgroups::common::{AnyCgroupManager, CgroupConfig, CgroupManager, ControllerOpt};
use libcontainer::container::{Container, ContainerStatus};
use libcontainer::error::LibcontainerError;
use libcontainer::oci_spec::runtime::{LinuxMemory, LinuxResources};

use crate::container::{load, status_name};
use crate::error::{Error, Result};

/// A resources document larger than this is not one berthd wrote.
const MAX_RESOURCES_BYTES: u64 = 1 << 20;

pub fn pause(root: &Path, id: &str) -> Result<()> {
    let mut c = load(root, id)?;
    c.pause().map_err(|e| state_error(id, e, "container not running"))
}

pub fn resume(root: &Path, id: &str) -> Result<()> {
    let mut c = load(root, id)?;
    c.resume().map_err(|e| state_error(id, e, "container not paused"))
}

/// runc's words when the container is in the wrong state for the verb.
fn state_error(id: &str, e: LibcontainerError, what: &'static str) -> Error {
    match e {
        LibcontainerError::IncorrectStatus(s) => Error::WrongState {
            id: id.to_string(),
            status: status_name(s),
            what,
        },
        e => Error::container("freezer")(e),
    }
}

fn manager(c: &Container) -> Result<AnyCgroupManager> {
    let config = c.spec().map_err(Error::container("read container config"))?;
    libcgroups::common::create_cgroup_manager(CgroupConfig {
        cgroup_path: config.cgroup_path,
        systemd_cgroup: c.systemd(),
        container_name: c.id().to_string(),
    })
    .map_err(|e| Error::container("cgroup")(e.into()))
}

/// `ps --format json`: every pid in the container's cgroup, as runc prints them.
pub fn ps(root: &Path, id: &str) -> Result<String> {
    let c = load(root, id)?;
    if c.status() == ContainerStatus::Stopped {
        // The cgroup may be gone; runc prints an empty list too.
        return Ok("[]".into());
    }
    let pids = manager(&c)?
        .get_all_pids()
        .map_err(|e| Error::container("list processes")(e.into()))?;
    let raw: Vec<i32> = pids.iter().map(|p| p.as_raw()).collect();
    serde_json::to_string(&raw).map_err(|e| Error::Usage(format!("encode pids: {e}")))
}

/// `update --resources FILE|-`: applies the limits the document sets; the
/// others stay as they are.
pub fn update(root: &Path, id: &str, source: &Path) -> Result<()> {
    let text = if source == Path::new("-") {
        read_bounded(std::io::stdin().lock(), source)?
    } else {
        let f = std::fs::File::open(source).map_err(Error::io("open resources", source))?;
        read_bounded(f, source)?
    };
    let resources = parse_resources(&text)?;
    let c = load(root, id)?;
    if !matches!(
        c.status(),
        ContainerStatus::Created | ContainerStatus::Running | ContainerStatus::Paused
    ) {
        return Err(Error::WrongState {
            id: id.to_string(),
            status: status_name(c.status()),
            what: "cannot update a container that is not running",
        });
    }
    let opt = ControllerOpt {
        resources: &resources,
        disable_oom_killer: resources
            .memory()
            .as_ref()
            .and_then(|m| m.disable_oom_killer())
            .unwrap_or(false),
        oom_score_adj: None,
        freezer_state: None,
    };
    manager(&c)?
        .apply(&opt)
        .map_err(|e| Error::container("update")(e.into()))
}

/// libcontainer applies the spec's memory limits at create but always with
/// the OOM killer enabled; a spec with `disableOOMKiller` gets its memory
/// settings again, this time with the killer off (runc writes both at once).
pub fn disable_oom_killer(c: &Container, memory: LinuxMemory) -> Result<()> {
    let mut resources = LinuxResources::default();
    resources.set_memory(Some(memory));
    let opt = ControllerOpt {
        resources: &resources,
        disable_oom_killer: true,
        oom_score_adj: None,
        freezer_state: None,
    };
    manager(c)?
        .apply(&opt)
        .map_err(|e| Error::container("disable the OOM killer")(e.into()))
}

/// The spec's `linux.resources.memory` when it disables the OOM killer.
pub fn oom_killer_off(spec: &serde_json::Value) -> Option<LinuxMemory> {
    let memory = spec.pointer("/linux/resources/memory")?;
    if memory.get("disableOOMKiller")?.as_bool() != Some(true) {
        return None;
    }
    serde_json::from_value(memory.clone()).ok()
}

fn read_bounded(r: impl Read, source: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(MAX_RESOURCES_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(Error::io("read resources", source))?;
    if buf.len() as u64 > MAX_RESOURCES_BYTES {
        return Err(Error::Usage("resources document too large".into()));
    }
    Ok(buf)
}

fn parse_resources(text: &[u8]) -> Result<LinuxResources> {
    let bad = |e: serde_json::Error| Error::Usage(format!("decode resources: {e}"));
    let v: serde_json::Value = serde_json::from_slice(text).map_err(bad)?;
    // serde would also take an array as a struct's fields in order.
    if !v.is_object() {
        return Err(Error::Usage("decode resources: not a JSON object".into()));
    }
    serde_json::from_value(v).map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_from_berthd() {
        let r = parse_resources(
            br#"{"memory":{"limit":67108864,"swap":134217728},"cpu":{"shares":512,"quota":50000,"period":100000},"pids":{"limit":10}}"#,
        )
        .expect("parse");
        assert_eq!(r.memory().as_ref().and_then(|m| m.limit()), Some(64 << 20));
        assert_eq!(r.cpu().as_ref().and_then(|c| c.shares()), Some(512));
        assert_eq!(r.pids().as_ref().map(|p| p.limit()), Some(10));
        parse_resources(b"{}").expect("empty document changes nothing");
    }

    #[test]
    fn hostile_resources() {
        for bad in [&b""[..], b"{", b"[]", b"{\"memory\":{\"limit\":\"lots\"}}", b"\xff"] {
            assert!(parse_resources(bad).is_err(), "{bad:?}");
        }
        let big = vec![b' '; (MAX_RESOURCES_BYTES + 10) as usize];
        assert!(read_bounded(&big[..], Path::new("-")).is_err());
        assert_eq!(
            read_bounded(&b"{}"[..], Path::new("-")).expect("small"),
            b"{}"
        );
    }

    #[test]
    fn oom_killer_setting_from_the_spec() {
        let spec = serde_json::json!({"linux": {"resources": {"memory": {"limit": 67108864, "disableOOMKiller": true}}}});
        let m = oom_killer_off(&spec).expect("off");
        assert_eq!(m.limit(), Some(64 << 20));
        for on in [
            serde_json::json!({}),
            serde_json::json!({"linux": {"resources": {"memory": {"limit": 1}}}}),
            serde_json::json!({"linux": {"resources": {"memory": {"disableOOMKiller": false}}}}),
            serde_json::json!({"linux": {"resources": {"memory": {"disableOOMKiller": "yes"}}}}),
            serde_json::json!({"linux": {"resources": {"memory": {"disableOOMKiller": true, "limit": "x"}}}}),
        ] {
            assert!(oom_killer_off(&on).is_none(), "{on}");
        }
    }

    #[test]
    fn unknown_containers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = dir.path();
        assert!(matches!(pause(r, "nope"), Err(Error::NotFound(_))));
        assert!(matches!(resume(r, "nope"), Err(Error::NotFound(_))));
        assert!(matches!(ps(r, "nope"), Err(Error::NotFound(_))));
        assert!(matches!(ps(r, "../x"), Err(Error::InvalidId { .. })));
        let res = dir.path().join("res.json");
        std::fs::write(&res, b"{}").expect("write");
        assert!(matches!(update(r, "nope", &res), Err(Error::NotFound(_))));
        assert!(update(r, "nope", &dir.path().join("missing.json")).is_err());
    }
}
