//! `start`, `kill`, `delete` and `state` on a container `create` made.

use std::path::{Path, PathBuf};

use libcontainer::container::{Container, ContainerStatus};
use libcontainer::signal::Signal;
use serde::Serialize;

use crate::cli::validate_id;
use crate::error::{Error, Result};

/// Loads the container's state, refreshed against its init process.
pub fn load(root: &Path, id: &str) -> Result<Container> {
    validate_id(id)?;
    let dir = root.join(id);
    if !dir.join("state.json").exists() {
        return Err(Error::NotFound(id.to_string()));
    }
    Container::load(dir).map_err(Error::container("load state"))
}

pub fn status_name(s: ContainerStatus) -> &'static str {
    match s {
        ContainerStatus::Creating => "creating",
        ContainerStatus::Created => "created",
        ContainerStatus::Running => "running",
        ContainerStatus::Stopped => "stopped",
        ContainerStatus::Paused => "paused",
    }
}

pub fn start(root: &Path, id: &str) -> Result<()> {
    let mut c = load(root, id)?;
    match c.status() {
        ContainerStatus::Created => c.start().map_err(Error::container("start")),
        s => Err(Error::WrongState {
            id: id.to_string(),
            status: status_name(s),
            what: "cannot start a container that is not created",
        }),
    }
}

pub fn kill(root: &Path, id: &str, signal: &str, all: bool) -> Result<()> {
    let sig =
        Signal::try_from(signal).map_err(|_| Error::Usage(format!("invalid signal {signal:?}")))?;
    let mut c = load(root, id)?;
    let before = c.status();
    if !all
        && !matches!(
            before,
            ContainerStatus::Created | ContainerStatus::Running | ContainerStatus::Paused
        )
    {
        return Err(Error::WrongState {
            id: id.to_string(),
            status: status_name(before),
            what: "container not running",
        });
    }
    c.kill(sig, all).map_err(Error::container("kill"))?;
    // libcontainer records "stopped" after any signal; a container that
    // survived one (SIGWINCH, SIGUSR1...) keeps the state it had, or a later
    // `start` would refuse it.
    if let Some(pid) = c.pid() {
        if process_alive(pid.as_raw()) && before != ContainerStatus::Stopped {
            c.set_status(before)
                .save()
                .map_err(Error::container("kill"))?;
        }
    }
    Ok(())
}

/// Whether `pid` exists and is not a zombie.
fn process_alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state letter follows the command name, which ends at the last ')'.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next())
        .is_some_and(|state| state != 'Z' && state != 'X')
}

pub fn delete(root: &Path, id: &str, force: bool) -> Result<()> {
    let mut c = match load(root, id) {
        Ok(c) => c,
        // runc: deleting what is not there is fine when forced.
        Err(Error::NotFound(_)) if force => {
            let _ = std::fs::remove_dir(root.join(id));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if !force
        && !matches!(
            c.status(),
            ContainerStatus::Stopped | ContainerStatus::Created
        )
    {
        return Err(Error::WrongState {
            id: id.to_string(),
            status: status_name(c.status()),
            what: "cannot delete a container that is not stopped without --force",
        });
    }
    c.delete(force).map_err(Error::container("delete"))
}

/// runc's `state` output.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateOut {
    oci_version: String,
    id: String,
    pid: i32,
    status: &'static str,
    bundle: PathBuf,
    rootfs: PathBuf,
    created: serde_json::Value,
    owner: &'static str,
}

pub fn state(root: &Path, id: &str) -> Result<String> {
    let c = load(root, id)?;
    let status = c.status();
    let out = StateOut {
        oci_version: c.state.oci_version.clone(),
        id: c.id().to_string(),
        pid: match status {
            ContainerStatus::Stopped => 0,
            _ => c.pid().map(|p| p.as_raw()).unwrap_or(0),
        },
        status: status_name(status),
        rootfs: rootfs_of(c.bundle()),
        bundle: c.bundle().clone(),
        created: serde_json::to_value(c.state.created).unwrap_or_default(),
        owner: "",
    };
    serde_json::to_string_pretty(&out).map_err(|e| Error::Usage(format!("encode state: {e}")))
}

/// `root.path` of the bundle's config, made absolute; the bundle itself
/// when the config cannot be read (it is informational only).
fn rootfs_of(bundle: &Path) -> PathBuf {
    let root = std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.pointer("/root/path")?.as_str().map(PathBuf::from));
    match root {
        Some(p) => bundle.join(p),
        None => bundle.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_containers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = dir.path();
        assert!(matches!(start(r, "nope"), Err(Error::NotFound(_))));
        assert!(matches!(state(r, "nope"), Err(Error::NotFound(_))));
        assert!(matches!(
            kill(r, "nope", "KILL", false),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(delete(r, "nope", false), Err(Error::NotFound(_))));
        delete(r, "nope", true).expect("forced delete of nothing succeeds");
    }

    #[test]
    fn hostile_ids_and_signals() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = dir.path();
        std::fs::create_dir(r.join("x")).expect("mkdir");
        assert!(matches!(state(r, "../x"), Err(Error::InvalidId { .. })));
        assert!(matches!(
            delete(r, "..", true),
            Err(Error::InvalidId { .. })
        ));
        assert!(matches!(
            kill(r, "x", "SIGNOPE", false),
            Err(Error::Usage(_))
        ));
        assert!(matches!(kill(r, "x", "99", false), Err(Error::Usage(_))));
    }

    #[test]
    fn corrupt_state_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = dir.path();
        std::fs::create_dir(r.join("c")).expect("mkdir");
        std::fs::write(r.join("c/state.json"), b"\x00garbage").expect("write");
        assert!(state(r, "c").is_err());
        assert!(start(r, "c").is_err());
    }

    #[test]
    fn liveness() {
        assert!(process_alive(std::process::id() as i32));
        assert!(!process_alive(i32::MAX));
    }

    #[test]
    fn rootfs_resolution() {
        let dir = tempfile::tempdir().expect("tempdir");
        let b = dir.path();
        assert_eq!(rootfs_of(b), b.to_path_buf());
        std::fs::write(b.join("config.json"), br#"{"root":{"path":"rootfs"}}"#).expect("write");
        assert_eq!(rootfs_of(b), b.join("rootfs"));
        std::fs::write(b.join("config.json"), br#"{"root":{"path":"/abs"}}"#).expect("write");
        assert_eq!(rootfs_of(b), PathBuf::from("/abs"));
    }
}
