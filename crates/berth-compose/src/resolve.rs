//! From the merged file model to a project: what Compose fills in before
//! anything is created.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::env::{parse_dotenv, Environment};
use crate::error::{ComposeError, Result};
use crate::interpolate::Lookup;
use crate::model::{FileModel, Project};

/// Fills what Compose fills: env files read into `environment`, default
/// network, engine-side resource names, secret and config targets.
pub(crate) fn resolve(model: FileModel, name: String, env: &Environment) -> Result<Project> {
    let mut project = Project {
        name: name.clone(),
        services: model.services,
        networks: model.networks,
        volumes: model.volumes,
        secrets: model.secrets,
        configs: model.configs,
        ..Default::default()
    };
    let mut uses_default = false;
    for (sname, s) in project.services.iter_mut() {
        let mut environment: BTreeMap<String, Option<String>> = BTreeMap::new();
        for ef in std::mem::take(&mut s.env_file) {
            let p = PathBuf::from(&ef.path);
            if !p.is_file() {
                if ef.required {
                    return Err(ComposeError::project(format!(
                        "env file {} not found: stat {}: no such file or directory",
                        ef.path, ef.path
                    )));
                }
                continue;
            }
            let text = std::fs::read_to_string(&p).map_err(|source| ComposeError::Io {
                path: p.clone(),
                source,
            })?;
            for (k, v) in parse_dotenv(&ef.path, &text, env)? {
                environment.insert(k, v);
            }
        }
        for (k, v) in std::mem::take(&mut s.environment) {
            let v = match v {
                Some(v) => Some(v),
                None => env.get(&k),
            };
            environment.insert(k, v);
        }
        s.environment = environment;
        if s.networks.is_empty() && s.network_mode.is_none() {
            s.networks.insert("default".into(), None);
        }
        uses_default |= s.networks.contains_key("default");
        for sec in s.secrets.iter_mut() {
            if sec.target.is_none() {
                sec.target = Some(format!("/run/secrets/{}", sec.source));
            } else if let Some(t) = sec.target.as_ref().filter(|t| !t.starts_with('/')) {
                sec.target = Some(format!("/run/secrets/{t}"));
            }
        }
        for c in s.configs.iter_mut() {
            if c.target.is_none() {
                c.target = Some(format!("/{}", c.source));
            }
        }
        if let (Some(scale), Some(replicas)) = (s.scale, s.deploy.as_ref().and_then(|d| d.replicas))
        {
            if scale != replicas {
                return Err(ComposeError::project(format!(
                    "services.{sname}: can't set distinct values on 'scale' and 'deploy.replicas'"
                )));
            }
        }
        for hc in s.healthcheck.iter_mut() {
            if let Some(t) = &hc.test {
                if t.first().map(String::as_str) == Some("NONE") {
                    hc.disable = true;
                }
            }
        }
    }
    if uses_default {
        project.networks.entry("default".into()).or_default();
    }
    for (key, n) in project.networks.iter_mut() {
        if n.name.is_none() {
            n.name = Some(if n.external {
                key.clone()
            } else {
                format!("{name}_{key}")
            });
        }
    }
    for (key, v) in project.volumes.iter_mut() {
        if v.name.is_none() {
            v.name = Some(if v.external {
                key.clone()
            } else {
                format!("{name}_{key}")
            });
        }
    }
    for map in [&mut project.secrets, &mut project.configs] {
        for (key, o) in map.iter_mut() {
            if o.name.is_none() {
                o.name = Some(if o.external {
                    key.clone()
                } else {
                    format!("{name}_{key}")
                });
            }
        }
    }
    Ok(project)
}
