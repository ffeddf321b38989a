//! Containers: records, the in-memory table, and the lifecycle verbs.

mod archive;
mod attach;
mod create;
mod fsdiff;
mod health;
mod isolation;
mod exec;
mod lifecycle;
mod limits;
mod logdriver;
mod logs;
mod manager;
mod netconnect;
pub mod network;
mod mounts;
pub mod naming;
mod pause;
mod record;
mod restart;
mod restore;
mod runtime_cli;
pub mod rootfs;
mod shim_client;
mod snapshot;
mod start;
mod stats;
mod unsupported;
mod view;

pub use archive::ExtractRequest;
pub use attach::{parse_detach_keys, run as attach_run, subscribe as attach_subscribe, AttachOptions};
pub use exec::ExecStore;
pub use logs::{readable_driver, LogOptions};
pub use manager::{now_nanos, ContainerManager};
pub use lifecycle::WaitCondition;
pub use snapshot::CommitRequest;
pub use view::ListOptions;
