//! One module per command. Each has an `Args` (clap) and an async `run`.

pub mod attach;
pub mod create;
pub mod exec;
pub mod history;
pub mod images;
pub mod import;
pub mod info;
pub mod inspect;
pub mod kill;
pub mod load;
pub mod logs;
pub mod prune;
pub mod ps;
pub mod rename;
pub mod restart;
pub mod rm;
pub mod rmi;
pub mod run;
pub mod save;
pub mod start;
pub mod stop;
pub mod tag;
pub mod version;
pub mod wait;
