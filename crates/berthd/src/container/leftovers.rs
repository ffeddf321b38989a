//! What a dead shim or a dead berthd leaves behind, and clearing it.
//!
//! A shim killed with SIGKILL leaves its container running untracked: the
//! processes, the cgroup and the runtime's state stay, and a new shim for
//! the same ID fails with "container already exists". A berthd killed
//! during a start leaves a shim (and a created or running container) that
//! no record admits to. containerd's answer, and ours: kill what is left
//! through the runtime (`delete --force` kills every process of the
//! container's cgroup, then removes the cgroup and the state), then record
//! the container as killed (137).
//!
//! OS effects sit behind [`Host`] so the decisions are unit-tested with a
//! fake (tests at the bottom).

use std::path::Path;
use std::time::{Duration, Instant};

/// Exit code of a container whose processes berthd had to kill (SIGKILL).
pub const KILLED: i64 = 137;
/// Exit code when nothing says how the container ended (containerd's 255).
pub const UNKNOWN: i64 = 255;

/// The OS edge of the clean-up.
pub trait Host: Send + Sync {
    /// The pid of the live shim of `id` (from its pid file, checked against
    /// /proc so a reused pid is never taken for it).
    fn live_shim(&self, shim_dir: &Path, id: &str) -> Option<i32>;
    /// Whether `pid` is a live shim of `id`.
    fn is_shim(&self, pid: i32, id: &str) -> bool;
    /// SIGKILLs a shim and waits (bounded) until it is gone.
    fn kill_shim(&self, pid: i32);
    /// Whether the runtime still has state for `id` under `root`.
    fn runtime_state(&self, root: &Path, id: &str) -> bool;
    /// `<runtime> --root <root> delete --force <id>`.
    fn runtime_delete(&self, runtime: &Path, root: &Path, id: &str) -> Result<(), String>;
    fn remove_dir(&self, dir: &Path);
    /// Names in a directory (empty when it does not exist).
    fn list(&self, dir: &Path) -> Vec<String>;
}

/// Where one container's leftovers live.
pub struct Place<'a> {
    pub id: &'a str,
    pub shim_dir: &'a Path,
    pub runtime: &'a Path,
    pub runtime_root: &'a Path,
}

/// What [`clear`] found and did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cleared {
    /// A shim was alive and was killed.
    pub shim_killed: bool,
    /// The runtime had state (the container's processes may have been
    /// alive) and it was force-deleted.
    pub runtime_deleted: bool,
}

impl Cleared {
    pub fn anything(self) -> bool {
        self.shim_killed || self.runtime_deleted
    }
}

/// Kills the shim if it lives, force-deletes the runtime's container (its
/// processes, cgroup and state) and removes the shim's directory. The
/// shim goes first so it cannot race the delete with a `create` or `start`.
pub fn clear(host: &dyn Host, p: &Place<'_>) -> Cleared {
    let mut done = Cleared::default();
    if let Some(pid) = host.live_shim(p.shim_dir, p.id) {
        host.kill_shim(pid);
        done.shim_killed = true;
    }
    if host.runtime_state(p.runtime_root, p.id) {
        if let Err(e) = host.runtime_delete(p.runtime, p.runtime_root, p.id) {
            crate::daemon::log(&format!("{}: runtime delete: {e}", p.id));
        }
        done.runtime_deleted = true;
    }
    host.remove_dir(p.shim_dir);
    done
}

/// How a container whose shim vanished ended: the shim's exit file if it
/// wrote one, else killed by us if we found it alive, else unknown.
pub fn lost_shim_exit(exit_file: Option<i64>, cleared: Cleared) -> i64 {
    match exit_file {
        Some(code) => code,
        None if cleared.runtime_deleted => KILLED,
        None => UNKNOWN,
    }
}

/// IDs found on disk that no record claims (a half-done create, or a
/// start whose record was never written).
pub fn orphans(found: Vec<String>, known: &dyn Fn(&str) -> bool) -> Vec<String> {
    found.into_iter().filter(|n| is_container_id(n) && !known(n)).collect()
}

/// Network namespaces of this daemon (`<prefix><id12>`) that no running
/// container uses.
pub fn stale_netns(found: Vec<String>, prefix: &str, in_use: &dyn Fn(&str) -> bool) -> Vec<String> {
    found.into_iter().filter(|n| n.starts_with(prefix) && !in_use(n)).collect()
}

fn is_container_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The real host: pid files, /proc, signals and the runtime binary.
pub struct SysHost;

/// How long a killed shim gets to disappear.
const SHIM_GONE: Duration = Duration::from_secs(2);

impl Host for SysHost {
    fn live_shim(&self, shim_dir: &Path, id: &str) -> Option<i32> {
        let pid = shim_pid(shim_dir)?;
        self.is_shim(pid, id).then_some(pid)
    }

    fn is_shim(&self, pid: i32, id: &str) -> bool {
        pid > 1 && is_shim_of(pid, id)
    }

    fn kill_shim(&self, pid: i32) {
        // SAFETY: kill(2) on a pid just checked to be this container's shim.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let deadline = Instant::now() + SHIM_GONE;
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn runtime_state(&self, root: &Path, id: &str) -> bool {
        root.join(id).exists()
    }

    fn runtime_delete(&self, runtime: &Path, root: &Path, id: &str) -> Result<(), String> {
        super::runtime_cli::run(runtime, root, &["delete", "--force", id], None).map(|_| ())
    }

    fn remove_dir(&self, dir: &Path) {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => crate::daemon::log(&format!("removing {}: {e}", dir.display())),
        }
    }

    fn list(&self, dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|rd| rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect())
            .unwrap_or_default()
    }
}

/// The pid in a shim directory's pid file.
pub fn shim_pid(shim_dir: &Path) -> Option<i32> {
    std::fs::read_to_string(shim_dir.join("shim.pid")).ok()?.trim().parse().ok()
}

/// Waits (bounded) for a shim that is finishing on its own: after the
/// exit it answered, it runs the runtime's delete. Clearing before that
/// would race it with a second delete.
pub fn wait_finishing(host: &dyn Host, pid: i32, id: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while host.is_shim(pid, id) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether `pid` runs berth-shim with `--id <id>` (and is not a zombie).
fn is_shim_of(pid: i32, id: &str) -> bool {
    let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    let args: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
    alive(pid) && args.windows(2).any(|w| w[0] == b"--id" && w[1] == id.as_bytes())
}

/// Exists and is not a zombie (a killed shim stays a zombie of berthd, its
/// subreaper, until reaped).
fn alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next())
        .is_some_and(|s| s != 'Z' && s != 'X')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Fake {
        shim: Option<i32>,
        state: bool,
        calls: Mutex<Vec<String>>,
    }

    impl Host for Fake {
        fn live_shim(&self, _: &Path, _: &str) -> Option<i32> {
            self.shim
        }
        fn is_shim(&self, pid: i32, _: &str) -> bool {
            self.shim == Some(pid)
        }
        fn kill_shim(&self, pid: i32) {
            self.calls.lock().unwrap().push(format!("kill {pid}"));
        }
        fn runtime_state(&self, _: &Path, _: &str) -> bool {
            self.state
        }
        fn runtime_delete(&self, _: &Path, _: &Path, id: &str) -> Result<(), String> {
            self.calls.lock().unwrap().push(format!("delete {id}"));
            Ok(())
        }
        fn remove_dir(&self, d: &Path) {
            self.calls.lock().unwrap().push(format!("rm {}", d.display()));
        }
        fn list(&self, _: &Path) -> Vec<String> {
            vec![]
        }
    }

    fn place() -> Place<'static> {
        Place { id: "c1", shim_dir: Path::new("/x/shims/c1"), runtime: Path::new("/bin/rt"), runtime_root: Path::new("/x/rt") }
    }

    #[test]
    fn live_shim_is_killed_before_the_runtime_delete() {
        let f = Fake { shim: Some(42), state: true, ..Default::default() };
        let done = clear(&f, &place());
        assert_eq!(done, Cleared { shim_killed: true, runtime_deleted: true });
        assert_eq!(*f.calls.lock().unwrap(), ["kill 42", "delete c1", "rm /x/shims/c1"]);
    }

    #[test]
    fn nothing_left_means_only_the_directory_goes() {
        let f = Fake::default();
        let done = clear(&f, &place());
        assert!(!done.anything());
        assert_eq!(*f.calls.lock().unwrap(), ["rm /x/shims/c1"]);
    }

    #[test]
    fn dead_shim_with_runtime_state_is_a_kill() {
        let f = Fake { state: true, ..Default::default() };
        let done = clear(&f, &place());
        assert_eq!(*f.calls.lock().unwrap(), ["delete c1", "rm /x/shims/c1"]);
        assert_eq!(lost_shim_exit(None, done), KILLED);
        // The shim's own record wins when it wrote one before dying.
        assert_eq!(lost_shim_exit(Some(3), done), 3);
        assert_eq!(lost_shim_exit(None, Cleared::default()), UNKNOWN);
    }

    #[test]
    fn orphans_are_ids_without_records() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let found = vec![a.clone(), b.clone(), "lost+found".into(), ".tmp".into()];
        let known = |id: &str| id == a;
        assert_eq!(orphans(found, &known), vec![b]);
    }

    #[test]
    fn only_our_unused_namespaces_are_stale() {
        let found = vec!["berth-br0-aaa".to_string(), "berth-br0-bbb".into(), "berth-br1-ccc".into(), "other".into()];
        let used = |n: &str| n == "berth-br0-aaa";
        assert_eq!(stale_netns(found, "berth-br0-", &used), vec!["berth-br0-bbb".to_string()]);
    }
}
