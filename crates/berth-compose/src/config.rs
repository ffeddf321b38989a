//! `docker compose config`: the resolved project in canonical form (long
//! syntax, absolute paths, defaults filled, `name:` first), as YAML or JSON,
//! and the `--services`, `--volumes`, `--profiles` lists.

use serde_json::Value;

use crate::error::{ComposeError, Result};
use crate::model::Project;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// The project as a value tree (what both formats print).
pub fn to_value(project: &Project) -> Result<Value> {
    serde_json::to_value(project)
        .map_err(|e| ComposeError::project(format!("encoding the project: {e}")))
}

/// `config` output.
pub fn render(project: &Project, format: Format) -> Result<String> {
    let enc = |e: String| ComposeError::project(format!("encoding the project: {e}"));
    Ok(match format {
        Format::Yaml => crate::yaml_out::ordered(project).map_err(enc)?.to_yaml(),
        // serde_json writes struct fields in their order: `name` first.
        Format::Json => {
            let mut s = serde_json::to_string_pretty(project).map_err(|e| enc(e.to_string()))?;
            s.push('\n');
            s
        }
    })
}

/// `config --services`: active services, dependencies first.
pub fn services(project: &Project) -> Result<Vec<String>> {
    crate::plan::start_order(project)
}

/// `config --volumes`: the top-level volume keys.
pub fn volumes(project: &Project) -> Vec<String> {
    project.volumes.keys().cloned().collect()
}

/// `config --profiles`.
pub fn profiles(project: &Project) -> Vec<String> {
    crate::profiles::all_profiles(project)
}

/// `config --hash`-style lines: `SERVICE HASH`.
pub fn hashes(project: &Project) -> Result<Vec<String>> {
    project
        .services
        .iter()
        .map(|(n, s)| crate::plan::config_hash(s).map(|h| format!("{n} {h}")))
        .collect()
}
