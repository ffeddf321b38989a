//! Checks on a resolved project: references to networks, volumes, secrets,
//! configs and services exist; `depends_on` has no cycle; values that take
//! one of a few words take one of them. Messages follow Compose v2's.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{ComposeError, Result};
use crate::model::{Project, VolumeKind};

fn invalid(m: String) -> ComposeError {
    ComposeError::project(format!("{m}: invalid compose project"))
}

pub fn validate(p: &Project) -> Result<()> {
    for (name, s) in &p.services {
        if s.image.is_none() && s.build.is_none() {
            return Err(invalid(format!(
                "service {name:?} has neither an image nor a build context specified"
            )));
        }
        for net in s.networks.keys() {
            if !p.networks.contains_key(net) {
                return Err(invalid(format!(
                    "service {name:?} refers to undefined network {net}"
                )));
            }
        }
        if let Some(mode) = &s.network_mode {
            if !s.networks.is_empty() {
                return Err(invalid(format!(
                    "service {name} declares mutually exclusive `network_mode` and `networks`"
                )));
            }
            if let Some(other) = mode.strip_prefix("service:") {
                if !p.services.contains_key(other) {
                    return Err(invalid(format!(
                        "service {name:?} depends on undefined service {other:?}"
                    )));
                }
            } else if !matches!(mode.as_str(), "bridge" | "host" | "none")
                && !mode.starts_with("container:")
            {
                return Err(invalid(format!(
                    "service {name:?} has an unknown network_mode {mode:?}"
                )));
            }
        }
        for v in &s.volumes {
            if v.kind == VolumeKind::Volume {
                if let Some(src) = &v.source {
                    if !p.volumes.contains_key(src) {
                        return Err(invalid(format!(
                            "service {name:?} refers to undefined volume {src}"
                        )));
                    }
                }
            }
            if v.kind == VolumeKind::Bind && v.source.is_none() {
                return Err(invalid(format!(
                    "service {name:?}: a bind mount of {} needs a source",
                    v.target
                )));
            }
        }
        for sec in &s.secrets {
            if !p.secrets.contains_key(&sec.source) {
                return Err(invalid(format!(
                    "service {name:?} refers to undefined secret {}",
                    sec.source
                )));
            }
        }
        for c in &s.configs {
            if !p.configs.contains_key(&c.source) {
                return Err(invalid(format!(
                    "service {name:?} refers to undefined config {}",
                    c.source
                )));
            }
        }
        for (dep, d) in &s.depends_on {
            if d.required && !p.services.contains_key(dep) {
                return Err(invalid(format!(
                    "service {name:?} depends on undefined service {dep:?}"
                )));
            }
        }
        for link in &s.links {
            let target = link.split(':').next().unwrap_or(link);
            if !p.services.contains_key(target) {
                return Err(invalid(format!(
                    "service {name:?} depends on undefined service {target:?}"
                )));
            }
        }
        if s.container_name.is_some() && crate::plan::replicas(p, name, &Default::default()) > 1 {
            return Err(invalid(format!(
                "services.{name}: can't set container_name and scale > 1 as container name must be unique"
            )));
        }
        if let Some(r) = &s.restart {
            check_restart(name, r)?;
        }
        if let Some(c) = s
            .deploy
            .as_ref()
            .and_then(|d| d.restart_policy.as_ref())
            .and_then(|r| r.condition.as_deref())
        {
            if !matches!(c, "none" | "on-failure" | "any") {
                return Err(invalid(format!(
                    "service {name:?}: invalid deploy.restart_policy.condition {c:?}"
                )));
            }
        }
        if let Some(pp) = &s.pull_policy {
            check_pull_policy(name, pp)?;
        }
    }
    for (kind, map) in [("secret", &p.secrets), ("config", &p.configs)] {
        for (name, o) in map {
            let sources = [
                o.file.is_some(),
                o.environment.is_some(),
                o.external,
                o.content.is_some(),
            ];
            if sources.iter().filter(|b| **b).count() != 1 {
                return Err(invalid(format!(
                    "{kind} {name:?} must have exactly one of file, environment{} or external",
                    if kind == "config" { ", content" } else { "" }
                )));
            }
            if kind == "secret" && o.content.is_some() {
                return Err(invalid(format!(
                    "secret {name:?}: content is only for configs"
                )));
            }
        }
    }
    check_cycles(p)
}

fn check_restart(service: &str, r: &str) -> Result<()> {
    let ok = match r.split_once(':') {
        Some(("on-failure", n)) => n.parse::<u32>().is_ok(),
        Some(_) => false,
        None => matches!(r, "no" | "always" | "on-failure" | "unless-stopped"),
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "service {service:?}: invalid restart policy {r:?}"
        )))
    }
}

fn check_pull_policy(service: &str, p: &str) -> Result<()> {
    let every = p
        .strip_prefix("every_")
        .is_some_and(|d| crate::model::scalar::Duration::parse(d).is_ok());
    if matches!(
        p,
        "always"
            | "never"
            | "missing"
            | "if_not_present"
            | "build"
            | "daily"
            | "weekly"
            | "refresh"
    ) || every
    {
        Ok(())
    } else {
        Err(invalid(format!(
            "service {service:?}: invalid pull_policy {p:?}"
        )))
    }
}

/// Depth-first search over `depends_on` (and `network_mode: service:`,
/// `links`), reporting the first cycle as `a -> b -> a`.
fn check_cycles(p: &Project) -> Result<()> {
    let deps = crate::plan::dependencies(p);
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for start in p.services.keys() {
        let mut path: Vec<&str> = Vec::new();
        visit(start, &deps, &mut path, &mut done)?;
    }
    Ok(())
}

fn visit<'a>(
    n: &'a str,
    deps: &'a BTreeMap<String, Vec<String>>,
    path: &mut Vec<&'a str>,
    done: &mut BTreeSet<&'a str>,
) -> Result<()> {
    if done.contains(n) {
        return Ok(());
    }
    if let Some(i) = path.iter().position(|x| *x == n) {
        let mut cycle: Vec<&str> = path[i..].to_vec();
        cycle.push(n);
        return Err(ComposeError::project(format!(
            "dependency cycle detected: {}",
            cycle.join(" -> ")
        )));
    }
    path.push(n);
    for d in deps.get(n).map(Vec::as_slice).unwrap_or_default() {
        visit(d, deps, path, done)?;
    }
    path.pop();
    done.insert(n);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_values() {
        for ok in [
            "no",
            "always",
            "on-failure",
            "on-failure:3",
            "unless-stopped",
        ] {
            assert!(check_restart("s", ok).is_ok(), "{ok}");
        }
        for bad in ["yes", "on-failure:x", "never", "always:1"] {
            assert!(check_restart("s", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pull_policies() {
        for ok in ["always", "missing", "build", "every_12h", "daily"] {
            assert!(check_pull_policy("s", ok).is_ok(), "{ok}");
        }
        assert!(check_pull_policy("s", "sometimes").is_err());
    }
}
