//! Containers: records, the in-memory table, and the lifecycle verbs.

mod attach;
mod create;
mod lifecycle;
mod limits;
mod logs;
mod manager;
mod netconnect;
mod network;
mod mounts;
pub mod naming;
mod pause;
mod record;
mod restart;
mod restore;
mod runtime_cli;
pub mod rootfs;
mod shim_client;
mod start;
mod stats;
mod view;

pub use attach::{run as attach_run, subscribe as attach_subscribe, AttachOptions};
pub use logs::LogOptions;
pub use manager::{now_nanos, ContainerManager};
pub use lifecycle::WaitCondition;
pub use view::ListOptions;
