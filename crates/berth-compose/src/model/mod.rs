//! The typed Compose model. Files are checked against it one by one (so an
//! error names the file), then the merged model is read into [`Project`].

mod resources;
pub mod scalar;
mod service;
pub mod spec_keys;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use resources::{FileObject, Ipam, IpamPool, Network, Volume};
pub use service::*;

use crate::error::{ComposeError, Result};

/// A loaded, resolved project: what `config` prints and what the plan is
/// made from. Services disabled by profiles are kept aside in `disabled`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Project {
    pub name: String,
    #[serde(skip)]
    pub working_dir: PathBuf,
    #[serde(skip)]
    pub config_files: Vec<PathBuf>,
    pub services: BTreeMap<String, Service>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Network>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Volume>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, FileObject>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, FileObject>,
    /// Services whose profiles are not enabled.
    #[serde(skip)]
    pub disabled: BTreeMap<String, Service>,
    /// Profiles enabled for this load (given, plus those of services named).
    #[serde(skip)]
    pub active_profiles: Vec<String>,
    /// Warnings for the user (unset variables, obsolete `version`).
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// The variables the project was interpolated with (`.env` or
    /// `--env-file`, overridden by the process environment): where a
    /// secret or config with `environment:` takes its value.
    #[serde(skip)]
    pub variables: BTreeMap<String, String>,
}

/// The shape of one merged compose file, before resolution.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileModel {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub services: BTreeMap<String, Service>,
    #[serde(default)]
    pub networks: BTreeMap<String, Network>,
    #[serde(default)]
    pub volumes: BTreeMap<String, Volume>,
    #[serde(default)]
    pub secrets: BTreeMap<String, FileObject>,
    #[serde(default)]
    pub configs: BTreeMap<String, FileObject>,
}

fn typed<T: DeserializeOwned>(
    v: &Value,
    file: &str,
    prefix: &str,
    kind_of: fn(&str) -> &'static str,
) -> Result<T> {
    serde_path_to_error::deserialize(v.clone()).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let msg = e.inner().to_string();
        if let Some(key) = msg
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
        {
            // The path ends with the unknown key itself: report its parent.
            let parent = path
                .strip_suffix(key)
                .unwrap_or(&path)
                .trim_end_matches('.');
            let at = if parent.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}.{parent}")
            };
            let kind = kind_of(parent);
            if spec_keys::spec_keys(kind).contains(&key) {
                return ComposeError::Unsupported {
                    file: file.to_string(),
                    path: format!("{at}.{key}"),
                    key: key.to_string(),
                };
            }
            return ComposeError::invalid(
                file,
                format!("{at} additional properties '{key}' not allowed"),
            );
        }
        let at = if path.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}.{path}")
        };
        ComposeError::invalid(file, format!("{at}: {msg}"))
    })
}

fn network_kind(p: &str) -> &'static str {
    spec_keys::network_kind(p)
}
fn volume_kind(p: &str) -> &'static str {
    if p.is_empty() {
        "volume"
    } else {
        ""
    }
}
fn secret_kind(p: &str) -> &'static str {
    if p.is_empty() {
        "secret"
    } else {
        ""
    }
}
fn config_kind(p: &str) -> &'static str {
    if p.is_empty() {
        "config"
    } else {
        ""
    }
}

/// Checks one (normalised) file against the model, naming the file, the
/// service or resource and the key in errors.
pub(crate) fn check_file(v: &Value, file: &str) -> Result<()> {
    let Some(top) = v.as_object() else {
        return Err(ComposeError::invalid(
            file,
            "top-level object must be a mapping",
        ));
    };
    for key in top.keys() {
        if key.starts_with("x-")
            || matches!(
                key.as_str(),
                "name" | "services" | "networks" | "volumes" | "secrets" | "configs"
            )
        {
            continue;
        }
        if spec_keys::spec_keys("top").contains(&key.as_str()) {
            return Err(ComposeError::Unsupported {
                file: file.into(),
                path: key.clone(),
                key: key.clone(),
            });
        }
        return Err(ComposeError::invalid(
            file,
            format!("additional properties '{key}' not allowed"),
        ));
    }
    if let Some(name) = top.get("name") {
        if !name.is_string() {
            return Err(ComposeError::invalid(file, "name must be a string"));
        }
    }
    if let Some(s) = top.get("services") {
        let Some(services) = s.as_object() else {
            return Err(ComposeError::invalid(file, "services must be a mapping"));
        };
        for (name, svc) in services {
            check_name(file, "services", name)?;
            typed::<Service>(
                svc,
                file,
                &format!("services.{name}"),
                spec_keys::service_kind,
            )?;
        }
    }
    type KindOf = fn(&str) -> &'static str;
    let kinds: [(&str, KindOf); 4] = [
        ("networks", network_kind),
        ("volumes", volume_kind),
        ("secrets", secret_kind),
        ("configs", config_kind),
    ];
    for (kind, kind_of) in kinds {
        let Some(res) = top.get(kind) else { continue };
        let Some(map) = res.as_object() else {
            return Err(ComposeError::invalid(
                file,
                format!("{kind} must be a mapping"),
            ));
        };
        for (name, r) in map {
            check_name(file, kind, name)?;
            let at = format!("{kind}.{name}");
            match kind {
                "networks" => typed::<Network>(r, file, &at, kind_of).map(drop)?,
                "volumes" => typed::<Volume>(r, file, &at, kind_of).map(drop)?,
                _ => typed::<FileObject>(r, file, &at, kind_of).map(drop)?,
            }
        }
    }
    Ok(())
}

/// Names of services and resources: `^[a-zA-Z0-9._-]+$`, as the schema says.
fn check_name(file: &str, kind: &str, name: &str) -> Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(ComposeError::invalid(
            file,
            format!("{kind} additional properties '{name}' not allowed: invalid name"),
        ));
    }
    Ok(())
}

pub(crate) fn read_merged(v: Value, file: &str) -> Result<FileModel> {
    serde_path_to_error::deserialize(v)
        .map_err(|e| ComposeError::invalid(file, format!("{}: {}", e.path(), e.inner())))
}
