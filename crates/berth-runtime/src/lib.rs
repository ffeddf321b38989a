//! OCI runtime bundles for berth containers: the `config.json` that makes runc
//! (or any OCI runtime) run a container the way Docker's default container runs.

mod caps;
mod error;
mod inroot;
mod mounts;
mod resources;
mod seccomp;
mod signal;
mod spec;
mod target;
mod user;

pub use caps::{
    caps_in_mask, caps_mask, privileged_capabilities, ALL_CAPABILITIES, DEFAULT_CAPABILITIES,
};
pub use error::{classify_start_error, RuntimeError, StartFailure};
pub use resources::{Resources, Ulimit, CPU_PERIOD_US};
pub use seccomp::default_profile as default_seccomp_profile;
pub use signal::{parse_signal, signal_name};
pub use mounts::{Mount, MountKind};
pub use spec::{build_exec_process, build_spec, write_bundle, ExecInput, SpecInput, DEFAULT_SHM_SIZE};
pub use inroot::{fstat_fd, read_link_fd, InRoot, Resolved};
pub use target::{prepare_mount_target, resolve_in_rootfs, TargetKind};
pub use user::{resolve_user, ResolvedUser};
