//! End-to-end harness: a real `berthd` on a private data root, exec root and
//! socket, driven by the `berth` CLI and the real `docker` CLI side by side.
//!
//! Every test builds its own [`TestDaemon`] and ends with
//! [`TestDaemon::stop`], which removes all containers, stops the daemon and
//! checks that nothing leaked (mounts, processes, cgroups) before deleting
//! the temporary directory. `Drop` only cleans up best-effort so a panicking
//! test does not leave a daemon behind.

use std::time::{Duration, Instant};

pub mod certs;
mod compose;
pub mod registry;
pub mod dashboard;
mod daemon;
mod image;
mod leaks;
mod out;
pub mod berth_registry;
mod subnets;
mod tmux;
pub mod webdriver;

pub use compose::ComposeProject;
pub use daemon::{Setup, TestDaemon};
pub use image::{bin_dir, busybox_tar, process_tmp};
pub use leaks::{cleanup_network, kill_containers, leaked_cgroups, mentions_chain_of};
pub use out::{Cli, Out};
pub use subnets::free_net16;
pub use tmux::Tmux;

/// Polls `f` until it returns true or `timeout` passes; for states that have
/// no command to await (a process becoming "running" after `run -d`).
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Defines a scenario once and runs it as two tests, `<name>::docker` and
/// `<name>::berth`, each on its own daemon, so a gap in one client never
/// hides the result of the other.
#[macro_export]
macro_rules! both {
    ($(#[$m:meta])* fn $name:ident($d:ident, $c:ident) $body:block) => {
        $(#[$m])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn scenario($d: &$crate::TestDaemon, $c: $crate::Cli) $body
            #[test]
            fn docker() {
                let d = $crate::TestDaemon::start();
                scenario(&d, $crate::Cli::Docker);
                d.stop();
            }
            #[test]
            fn berth() {
                let d = $crate::TestDaemon::start();
                scenario(&d, $crate::Cli::Berth);
                d.stop();
            }
        }
    };
}
