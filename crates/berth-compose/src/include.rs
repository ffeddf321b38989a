//! `include:` — other compose applications loaded as projects of their own
//! (their own project directory and `.env`, the including project's
//! variables winning) and copied in; a name defined on both sides
//! differently is refused, as is an include cycle.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::env::{parse_dotenv, Environment};
use crate::error::{ComposeError, Result};
use crate::interpolate::Lookup;
use crate::loader::load_file;
use crate::merge::merge;
use crate::normalize::clean;

#[allow(clippy::too_many_arguments)]
pub(crate) fn apply_includes(
    v: &mut Value,
    include: Value,
    file: &str,
    dir: &Path,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
    stack: &mut Vec<PathBuf>,
) -> Result<()> {
    let Value::Array(entries) = include else {
        return Err(ComposeError::invalid(file, "include must be a list"));
    };
    for entry in entries {
        let (paths, project_dir, env_files) = include_entry(entry, file, dir)?;
        let first = paths
            .first()
            .ok_or_else(|| ComposeError::invalid(file, "include: path is required"))?;
        if stack.len() >= 32 {
            return Err(ComposeError::project(format!(
                "{file}: include nested deeper than 32 files"
            )));
        }
        if stack.contains(first) {
            return Err(ComposeError::project(format!(
                "include cycle: {} includes itself",
                first.display()
            )));
        }
        let inc_dir = project_dir.unwrap_or_else(|| {
            first
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| dir.to_path_buf())
        });
        // The including project's variables win over the included one's env files.
        let mut inc_env = Environment::default();
        let env_files = if env_files.is_empty() {
            vec![inc_dir.join(".env")]
        } else {
            env_files
        };
        for ef in env_files.iter().filter(|f| f.is_file()) {
            let text = std::fs::read_to_string(ef).map_err(|source| ComposeError::Io {
                path: ef.clone(),
                source,
            })?;
            for (k, val) in parse_dotenv(&ef.display().to_string(), &text, &inc_env)? {
                if let Some(val) = val {
                    inc_env.files.insert(k, val);
                }
            }
        }
        let mut included = Value::Object(Map::new());
        for p in &paths {
            let one = load_file(
                p,
                None,
                &inc_dir,
                &Layered {
                    outer: env,
                    inner: &inc_env,
                },
                warnings,
                stack,
            )?;
            included = merge(included, one);
        }
        copy_resources(v, included, file)?;
    }
    Ok(())
}

/// An included file sees the including project's variables first.
struct Layered<'a> {
    outer: &'a dyn Lookup,
    inner: &'a Environment,
}

impl Lookup for Layered<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.outer.get(name).or_else(|| self.inner.get(name))
    }
}

fn include_entry(
    entry: Value,
    file: &str,
    dir: &Path,
) -> Result<(Vec<PathBuf>, Option<PathBuf>, Vec<PathBuf>)> {
    let strings = |v: &Value| -> Result<Vec<PathBuf>> {
        match v {
            Value::String(s) => Ok(vec![clean(&dir.join(s))]),
            Value::Array(a) => a
                .iter()
                .map(|i| {
                    i.as_str().map(|s| clean(&dir.join(s))).ok_or_else(|| {
                        ComposeError::invalid(file, "include: paths must be strings")
                    })
                })
                .collect(),
            _ => Err(ComposeError::invalid(
                file,
                "include: path must be a string or a list",
            )),
        }
    };
    match &entry {
        Value::String(_) => Ok((strings(&entry)?, None, Vec::new())),
        Value::Object(m) => {
            if let Some(k) = m
                .keys()
                .find(|k| !matches!(k.as_str(), "path" | "project_directory" | "env_file"))
            {
                return Err(ComposeError::invalid(
                    file,
                    format!("include additional properties '{k}' not allowed"),
                ));
            }
            let paths = strings(
                m.get("path")
                    .ok_or_else(|| ComposeError::invalid(file, "include: path is required"))?,
            )?;
            let pd = match m.get("project_directory") {
                Some(Value::String(s)) => Some(clean(&dir.join(s))),
                None => None,
                Some(_) => {
                    return Err(ComposeError::invalid(
                        file,
                        "include: project_directory must be a string",
                    ))
                }
            };
            let ef = match m.get("env_file") {
                Some(v) => strings(v)?,
                None => Vec::new(),
            };
            Ok((paths, pd, ef))
        }
        _ => Err(ComposeError::invalid(
            file,
            "include entries must be strings or mappings",
        )),
    }
}

/// Copies an included model's services and resources in; a name defined
/// on both sides differently is an error (Compose does not merge them).
fn copy_resources(v: &mut Value, included: Value, file: &str) -> Result<()> {
    let Some(top) = v.as_object_mut() else {
        return Ok(());
    };
    let Value::Object(inc) = included else {
        return Ok(());
    };
    for (kind, res) in inc {
        if kind == "name" {
            continue;
        }
        let Value::Object(res) = res else { continue };
        let target = top
            .entry(kind.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(target) = target.as_object_mut() else {
            continue;
        };
        for (name, def) in res {
            match target.get(&name) {
                Some(existing) if *existing != def => {
                    return Err(ComposeError::invalid(
                        file,
                        format!("{kind}.{name} conflicts with imported resource"),
                    ))
                }
                _ => {
                    target.insert(name, def);
                }
            }
        }
    }
    Ok(())
}
