//! Volumes and container mounts: the volume table (local driver), the
//! parsing of a create request's mounts, and the start-time work
//! (copy-up, driver mounts, targets resolved inside the rootfs).

mod copyup;
pub mod driver;
mod manager;
pub mod name;
mod setup;
pub mod spec;

pub use manager::VolumeManager;
pub use setup::prepare;
pub use spec::{MountRecord, MountRequest, MountType};
