#![cfg_attr(test, allow(clippy::unwrap_used))]
//! berth-compose: the Compose file model.
//!
//! Loading ([`load`]) reads compose files the way Docker Compose v2 does —
//! discovery, `.env`, interpolation, per-file normalisation to long syntax,
//! `extends`, `include`, merging of several files, profiles — into a typed,
//! validated [`Project`]. From a project:
//!
//! - [`config::render`] gives `docker compose config` output (YAML or
//!   JSON), and [`config::services`] / [`config::volumes`] /
//!   [`config::profiles`] the `--services` / `--volumes` / `--profiles` lists;
//! - [`plan`] gives the engine-side names and labels (`PROJECT-SERVICE-N`,
//!   `PROJECT_default`, `com.docker.compose.*`), the config hash, the start
//!   and stop order, and the diff against the containers that exist;
//! - [`engine`] gives the Engine API bodies (`berth-api` types) to create a
//!   service's container, the project's networks and its volumes.
//!
//! A command such as `berth compose up` is then:
//!
//! ```no_run
//! use berth_compose::{load, LoadOptions, plan};
//! # fn main() -> Result<(), berth_compose::ComposeError> {
//! let opts = LoadOptions::from_process(std::env::current_dir().unwrap());
//! let project = load(&opts)?;
//! for w in &project.warnings { eprintln!("WARN {w}"); }
//! let order = plan::start_order(&project)?;            // dependencies first
//! // existing = containers listed with the label filter plan::project_filter(&project)
//! let existing: Vec<plan::ExistingContainer> = Vec::new();
//! let diff = plan::diff(&project, &existing, &plan::Scale::default())?;
//! for net in project.networks.keys() {
//!     if let Some(req) = berth_compose::engine::network(&project, net) { /* POST /networks/create */ let _ = req; }
//! }
//! for step in &diff.actions {
//!     if step.kind == plan::ActionKind::Create {
//!         let c = berth_compose::engine::container(&project, &step.service, step.number, None)?;
//!         // POST /containers/create?name={c.name} with c.request, then connect c.connect_after
//!         let _ = c;
//!     }
//! }
//! # let _ = order; Ok(()) }
//! ```
//!
//! Nothing here talks to a daemon or touches the host beyond reading files.

pub mod config;
mod discover;
pub mod engine;
pub mod inherit;
pub mod env;
mod error;
mod extends;
mod include;
pub mod interpolate;
mod loader;
mod merge;
pub mod model;
pub mod name;
mod normalize;
pub mod plan;
mod ports;
pub mod profiles;
mod resolve;
pub mod shell;
mod tags;
mod validate;
mod volumes;
pub mod yaml;
pub mod yaml_out;

pub use discover::{find_project_files, DEFAULT_NAMES, OVERRIDE_NAMES};
pub use error::{ComposeError, Result};
pub use loader::{load, LoadOptions};
pub use model::Project;
