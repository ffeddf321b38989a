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

/// The top-level keys in the order Compose prints them.
const ORDER: [&str; 6] = ["name", "services", "networks", "volumes", "secrets", "configs"];

/// The project as a value tree (what both formats print).
pub fn to_value(project: &Project) -> Result<Value> {
    serde_json::to_value(project).map_err(|e| ComposeError::project(format!("encoding the project: {e}")))
}

/// `config` output.
pub fn render(project: &Project, format: Format) -> Result<String> {
    let v = to_value(project)?;
    let Value::Object(m) = v else { return Err(ComposeError::project("project did not encode as a mapping")) };
    let ordered: Vec<(&String, &Value)> = ORDER.iter().filter_map(|k| m.get_key_value(*k)).collect();
    Ok(match format {
        Format::Yaml => {
            let mut out = String::new();
            crate::yaml_out::write_map(&mut out, ordered.into_iter(), 0);
            out
        }
        Format::Json => {
            // serde_json sorts keys; write the top level by hand to keep `name` first.
            let mut out = String::from("{\n");
            let n = ordered.len();
            for (i, (k, v)) in ordered.into_iter().enumerate() {
                let body = serde_json::to_string_pretty(v).unwrap_or_default().replace('\n', "\n  ");
                out.push_str(&format!("  {}: {}{}\n", Value::String(k.clone()), body, if i + 1 < n { "," } else { "" }));
            }
            out.push_str("}\n");
            out
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
