//! The images a set of services runs: present ones are inspected (for the
//! `com.docker.compose.image` label), missing ones built (a service with
//! `build:`) or pulled, as `up` and `create` do before any container.

use super::parallel::{join_all, try_join_all, Task};
use super::progress::Progress;
use super::session::Session;
use crate::exit::describe;
use berth_client::{segment, Query};
use berth_compose::model::Service;
use berth_compose::plan;
use std::collections::BTreeMap;

/// `--build` / `--no-build` / neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildPolicy {
    /// Build a service's image only when it is missing.
    #[default]
    Missing,
    Always,
    Never,
}

/// What to do for one image, from the policies and whether it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Use,
    Build,
    Pull,
    Missing,
}

/// Compose's choice: `--build`/`pull_policy: build` always build, a
/// missing image is built when the service can be, `--pull always` (or
/// `pull_policy: always`) pulls a service that is not built, `never`
/// refuses a missing image.
pub fn step(s: &Service, exists: bool, build: BuildPolicy, pull: Option<&str>) -> Step {
    let policy = pull.or(s.pull_policy.as_deref()).unwrap_or("missing");
    let can_build = s.build.is_some() && build != BuildPolicy::Never;
    if can_build && (build == BuildPolicy::Always || policy == "build") {
        return Step::Build;
    }
    if s.build.is_none() && policy == "always" {
        return Step::Pull;
    }
    match (exists, can_build, policy) {
        (true, _, _) => Step::Use,
        (false, true, _) => Step::Build,
        (false, false, "never") => Step::Missing,
        (false, false, _) if s.build.is_some() => Step::Missing,
        (false, false, _) => Step::Pull,
    }
}

async fn image_id(s: &Session<'_>, image: &str) -> anyhow::Result<Option<String>> {
    match s.client.get_json::<serde_json::Value>(&format!("/images/{}/json", segment(image)), &Query::new()).await {
        Ok(v) => Ok(v.get("Id").and_then(|i| i.as_str()).map(String::from)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(anyhow::anyhow!(describe(&e))),
    }
}

/// Makes sure every service in `services` has its image; returns image
/// name → image ID.
pub async fn ensure_images(
    s: &Session<'_>,
    p: &Progress,
    services: &[String],
    build: BuildPolicy,
    pull: Option<&str>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut by_image: BTreeMap<String, String> = BTreeMap::new();
    for svc in services {
        if let Some(image) = plan::image_name(&s.project, svc) {
            by_image.entry(image).or_insert_with(|| svc.clone());
        }
    }
    let tasks: Vec<Task<'_, anyhow::Result<Option<String>>>> =
        by_image.keys().map(|image| Box::pin(image_id(s, image)) as Task<'_, _>).collect();
    let found = join_all(tasks).await;
    let mut ids = BTreeMap::new();
    let (mut pulls, mut builds) = (Vec::new(), Vec::new());
    for ((image, svc), id) in by_image.iter().zip(found) {
        let id = id?;
        let service = &s.project.services[svc];
        match step(service, id.is_some(), build, pull) {
            Step::Use => {
                if let Some(id) = id {
                    ids.insert(image.clone(), id);
                }
            }
            Step::Missing => anyhow::bail!("service {svc:?}: image {image} not found and the pull policy does not allow pulling it"),
            Step::Build => builds.push((image, svc)),
            Step::Pull => pulls.push((image, svc)),
        }
    }
    // Pulls in parallel, as Compose pulls; then the builds one after the
    // other (their output is the classic builder's, one build at a time).
    // Compose shows the pulls as a block of their own, before the rest.
    let pulling = Progress::service_steps(p.mode(), "Pulling");
    let pulling = &pulling;
    let tasks: Vec<Task<'_, anyhow::Result<()>>> =
        pulls.iter().map(|(image, svc)| Box::pin(pull_image(s, pulling, svc, image)) as Task<'_, _>).collect();
    try_join_all(tasks).await?;
    for (_, svc) in &builds {
        build_image(s, svc).await?;
    }
    for (image, svc) in pulls.iter().chain(builds.iter()) {
        match image_id(s, image).await? {
            Some(id) => {
                ids.insert(image.to_string(), id);
            }
            None => anyhow::bail!("service {svc:?}: image {image} is still missing"),
        }
    }
    Ok(ids)
}

/// Pulls through berthd as `compose pull` does, reported as Compose does
/// (` web Pulling`).
async fn pull_image(s: &Session<'_>, p: &Progress, svc: &str, image: &str) -> anyhow::Result<()> {
    p.working(svc, "Pulling");
    match super::pull::pull_image(s.client, image).await {
        Ok(()) => {
            p.done(svc, "Pulled");
            Ok(())
        }
        Err(e) => {
            p.error(svc, "Error");
            Err(anyhow::anyhow!("{}", crate::exit::describe_any(&e)))
        }
    }
}

/// Builds a service's image with the compose `build` command's code.
async fn build_image(s: &Session<'_>, svc: &str) -> anyhow::Result<()> {
    let opts = super::build::BuildOptions { build_args: Vec::new(), no_cache: false, pull: false, quiet: false, progress: None };
    super::build::build_services(s, &[svc.to_string()], &opts).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_compose::model::Build;

    fn svc(build: bool, pull_policy: Option<&str>) -> Service {
        Service {
            image: Some("x".into()),
            build: build.then(|| Build { context: "/ctx".into(), ..Default::default() }),
            pull_policy: pull_policy.map(String::from),
            ..Default::default()
        }
    }

    #[test]
    fn missing_images_are_built_or_pulled_as_compose_chooses() {
        use BuildPolicy::*;
        assert_eq!(step(&svc(false, None), true, Missing, None), Step::Use);
        assert_eq!(step(&svc(false, None), false, Missing, None), Step::Pull);
        assert_eq!(step(&svc(true, None), false, Missing, None), Step::Build);
        assert_eq!(step(&svc(true, None), true, Missing, None), Step::Use);
        assert_eq!(step(&svc(true, None), true, Always, None), Step::Build);
        assert_eq!(step(&svc(true, None), false, Never, None), Step::Missing);
        assert_eq!(step(&svc(false, None), false, Missing, Some("never")), Step::Missing);
        assert_eq!(step(&svc(false, Some("always")), true, Missing, None), Step::Pull);
        assert_eq!(step(&svc(false, None), true, Missing, Some("always")), Step::Pull);
        assert_eq!(step(&svc(true, Some("build")), true, Missing, None), Step::Build);
    }
}
