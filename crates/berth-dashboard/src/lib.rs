#![cfg_attr(test, allow(clippy::unwrap_used))]
//! `berth dashboard`: a local web GUI for a berthd (or dockerd). It serves
//! the embedded front-end bundle and passes the browser's requests on to
//! the Engine API through berth-client, guarded like the API itself:
//! loopback only unless served over TLS, a one-time login token exchanged for an HttpOnly,
//! SameSite=Strict session cookie, a CSRF token on every state-changing
//! request, and Host/Origin checks against DNS rebinding and cross-site
//! requests.

mod assets;
mod auth;
mod body;
mod error;
mod guard;
mod proxy;
mod registry_auth;
mod server;
mod shell;
mod tls;
mod token;

pub use error::DashboardError;
pub use registry_auth::RegistryAuth;
pub use server::{Dashboard, Options};
pub use tls::TlsFiles;
