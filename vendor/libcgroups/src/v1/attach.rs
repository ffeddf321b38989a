//! berth patch: moving a task into a v1 cgroup without the global
//! threadgroup lock when the task is the caller itself.
//!
//! A write of a pid to `cgroup.procs` takes `cgroup_threadgroup_rwsem` for
//! writing, which waits for an RCU grace period: 5-15 ms on a quiet machine,
//! paid by every container create. A single-threaded caller moving itself
//! can write `0` to `tasks` instead; the kernel then migrates only the
//! current thread, which is the whole process, and skips that lock
//! (`cgroup_procs_write_start`: "if we migrate a single thread, we don't
//! care about threadgroup stability").

use std::path::Path;

use nix::unistd::Pid;

use crate::common::{self, CGROUP_PROCS, WrappedIoError};

const CGROUP_TASKS: &str = "tasks";

/// Puts `pid` into the cgroup at `cgroup_path`.
pub(super) fn add_task(pid: Pid, cgroup_path: &Path) -> Result<(), WrappedIoError> {
    if pid == nix::unistd::getpid() && single_threaded() {
        return common::write_cgroup_file_str(cgroup_path.join(CGROUP_TASKS), "0");
    }
    common::write_cgroup_file(cgroup_path.join(CGROUP_PROCS), pid)
}

/// Whether the calling process has exactly one thread.
fn single_threaded() -> bool {
    match std::fs::read_dir("/proc/self/task") {
        Ok(tasks) => tasks.take(2).count() == 1,
        Err(_) => false,
    }
}
