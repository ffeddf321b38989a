//! Profiles: a service with no `profiles` is always active; one with
//! profiles is active when one of them is enabled. Naming a service on the
//! command line enables its profiles. `*` enables every profile.

use std::collections::BTreeSet;

use crate::error::{ComposeError, Result};
use crate::model::Project;

/// Moves the services whose profiles are not enabled to `disabled`.
pub fn apply(project: &mut Project, enabled: &[String], named: &[String]) -> Result<()> {
    let mut active: BTreeSet<String> = enabled.iter().cloned().collect();
    for n in named {
        let s = project
            .services
            .get(n)
            .ok_or_else(|| ComposeError::NoSuchService(n.clone()))?;
        active.extend(s.profiles.iter().cloned());
    }
    let all = active.contains("*");
    let (on, off) = std::mem::take(&mut project.services)
        .into_iter()
        .partition(|(_, s)| {
            all || s.profiles.is_empty() || s.profiles.iter().any(|p| active.contains(p))
        });
    project.services = on;
    project.disabled = off;
    project.active_profiles = active.into_iter().collect();
    Ok(())
}

/// Every profile any service declares, sorted (`config --profiles`).
pub fn all_profiles(project: &Project) -> Vec<String> {
    let set: BTreeSet<&String> = project
        .services
        .values()
        .chain(project.disabled.values())
        .flat_map(|s| s.profiles.iter())
        .collect();
    set.into_iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;

    fn project() -> Project {
        let mut p = Project::default();
        for (name, profiles) in [
            ("foo", vec![]),
            ("bar", vec!["test"]),
            ("baz", vec!["test"]),
            ("zot", vec!["debug"]),
        ] {
            p.services.insert(
                name.into(),
                Service {
                    profiles: profiles.into_iter().map(String::from).collect(),
                    ..Default::default()
                },
            );
        }
        p
    }

    fn active(enabled: &[&str], named: &[&str]) -> Vec<String> {
        let mut p = project();
        let e: Vec<String> = enabled.iter().map(|s| s.to_string()).collect();
        let n: Vec<String> = named.iter().map(|s| s.to_string()).collect();
        apply(&mut p, &e, &n).unwrap();
        p.services.keys().cloned().collect()
    }

    #[test]
    fn the_specification_examples() {
        assert_eq!(active(&[], &[]), ["foo"]);
        assert_eq!(active(&["test"], &[]), ["bar", "baz", "foo"]);
        assert_eq!(active(&["debug"], &[]), ["foo", "zot"]);
        assert_eq!(
            active(&["debug", "test"], &[]),
            ["bar", "baz", "foo", "zot"]
        );
        assert_eq!(active(&[], &["bar"]), ["bar", "baz", "foo"]);
        assert_eq!(active(&["*"], &[]), ["bar", "baz", "foo", "zot"]);
        assert_eq!(all_profiles(&project()), ["debug", "test"]);
    }

    #[test]
    fn unknown_named_service() {
        let mut p = project();
        let e = apply(&mut p, &[], &["nope".to_string()]).unwrap_err();
        assert_eq!(e.to_string(), "no such service: nope");
    }
}
