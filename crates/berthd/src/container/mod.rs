//! Containers: records, the in-memory table, and the lifecycle verbs.

mod attach;
mod create;
mod exec;
mod lifecycle;
mod logs;
mod manager;
pub mod naming;
mod record;
mod restore;
pub mod rootfs;
mod shim_client;
mod start;
mod view;

pub use attach::{parse_detach_keys, run as attach_run, subscribe as attach_subscribe, AttachOptions};
pub use exec::ExecStore;
pub use logs::LogOptions;
pub use manager::ContainerManager;
pub use lifecycle::WaitCondition;
pub use view::ListOptions;
