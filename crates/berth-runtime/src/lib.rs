//! OCI runtime bundles for berth containers: the `config.json` that makes runc
//! (or any OCI runtime) run a container the way Docker's default container runs.

mod caps;
mod devices;
mod error;
mod inroot;
mod mounts;
mod namespaces;
mod resources;
mod seccomp;
mod seccomp_profile;
mod security;
mod signal;
mod spec;
mod sysctl;
mod target;
mod user;

pub use caps::{
    caps_in_mask, caps_mask, container_capabilities, normalize_capability, privileged_capabilities,
    ALL_CAPABILITIES, DEFAULT_CAPABILITIES,
};
pub use devices::{parse_device_rule, resolve_device, Device, DeviceRule};
pub use error::{classify_start_error, RuntimeError, StartFailure};
pub use inroot::{fstat_fd, read_link_fd, InRoot, Resolved};
pub use mounts::{Mount, MountKind, ShmMount};
pub use namespaces::{Namespaces, NsMode};
pub use resources::{Resources, Ulimit, CPU_PERIOD_US};
pub use seccomp::default_profile as default_seccomp_profile;
pub use seccomp_profile::{kernel_version, to_oci as seccomp_profile_to_oci};
pub use security::{parse_security_opts, SeccompProfile, SecurityOptions};
pub use signal::{parse_signal, signal_name};
pub use spec::{
    build_exec_process, build_spec, write_bundle, ExecInput, SeccompSpec, SpecInput, DEFAULT_SHM_SIZE,
};
pub use sysctl::validate_sysctls;
pub use target::{prepare_mount_target, resolve_in_rootfs, TargetKind};
pub use user::{add_groups, resolve_user, ResolvedUser};
