//! `extends:` — a service built on another one, in the same file or in
//! another file, merged with the same rules as several files (the base
//! first). Paths in another file resolve against that file's directory;
//! cycles are refused.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{ComposeError, Result};
use crate::interpolate::Lookup;
use crate::loader::read_normalized;
use crate::merge::merge_service;

pub(crate) fn resolve_extends(
    v: &mut Value,
    path: &Path,
    dir: &Path,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let Some(services) = v.get("services").and_then(Value::as_object).cloned() else {
        return Ok(());
    };
    let mut out = Map::new();
    for name in services.keys() {
        let mut chain = Vec::new();
        let s = extend_one(name, &services, path, dir, env, warnings, &mut chain)?;
        out.insert(name.clone(), s);
    }
    if let Some(top) = v.as_object_mut() {
        top.insert("services".into(), Value::Object(out));
    }
    Ok(())
}

fn extend_one(
    name: &str,
    services: &Map<String, Value>,
    path: &Path,
    dir: &Path,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
    chain: &mut Vec<(PathBuf, String)>,
) -> Result<Value> {
    let file = path.display().to_string();
    let mut svc = services.get(name).cloned().ok_or_else(|| {
        ComposeError::project(format!(
            "cannot extend service {name:?} in {file}: service not found"
        ))
    })?;
    let key = (path.to_path_buf(), name.to_string());
    // A chain this long is a hostile file, not a design.
    if chain.len() >= 64 {
        return Err(ComposeError::project(format!(
            "services.{name}: extends chain longer than 64 services"
        )));
    }
    if chain.contains(&key) {
        let names: Vec<&str> = chain.iter().map(|(_, s)| s.as_str()).collect();
        return Err(ComposeError::project(format!(
            "circular reference with extends: {} -> {name}",
            names.join(" -> ")
        )));
    }
    let Some(ext) = svc.as_object_mut().and_then(|s| s.remove("extends")) else {
        return Ok(svc);
    };
    let Some(base_name) = ext
        .get("service")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(ComposeError::invalid(
            &file,
            format!("services.{name}.extends: service is required"),
        ));
    };
    if let Some(k) = ext
        .as_object()
        .and_then(|m| m.keys().find(|k| !matches!(k.as_str(), "service" | "file")))
    {
        return Err(ComposeError::invalid(
            &file,
            format!("services.{name}.extends additional properties '{k}' not allowed"),
        ));
    }
    chain.push(key);
    let base = match ext.get("file").and_then(Value::as_str) {
        Some(other) => {
            let other = PathBuf::from(other);
            let other_dir = other
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| dir.to_path_buf());
            let ov = read_normalized(&other, None, &other_dir, env, warnings)?;
            let other_services = ov
                .get("services")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if !other_services.contains_key(&base_name) {
                return Err(ComposeError::project(format!(
                    "cannot extend service {name:?} in {}: service {base_name:?} not found",
                    other.display()
                )));
            }
            extend_one(
                &base_name,
                &other_services,
                &other,
                &other_dir,
                env,
                warnings,
                chain,
            )?
        }
        None => {
            if !services.contains_key(&base_name) {
                return Err(ComposeError::project(format!(
                    "cannot extend service {name:?} in {file}: service {base_name:?} not found"
                )));
            }
            extend_one(&base_name, services, path, dir, env, warnings, chain)?
        }
    };
    chain.pop();
    Ok(merge_service(base, svc))
}
