//! Running ip/iptables as child processes inside a daemon that also reaps
//! every exited child (`waitpid(-1)` for orphaned shims): the reaper takes
//! [`reaper_lock`] for writing, and each command holds it for reading from
//! spawn to wait, so the reaper never steals a command's exit status.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static CHILDREN: RwLock<()> = RwLock::new(());

/// Held by the daemon's reaper around its `waitpid(-1)` loop.
pub fn reaper_lock() -> RwLockWriteGuard<'static, ()> {
    CHILDREN.write().unwrap_or_else(|p| p.into_inner())
}

/// Held while a command of ours runs.
pub fn command_lock() -> RwLockReadGuard<'static, ()> {
    CHILDREN.read().unwrap_or_else(|p| p.into_inner())
}
