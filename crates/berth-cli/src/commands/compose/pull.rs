//! `berth compose pull`, and [`pull_missing`] which `up` calls before
//! creating containers: each service's `image:` pulled through berthd as
//! `berth pull` does, Compose's progress lines on stderr.

use super::parallel::{join_all, Task};
use super::progress::{self, Mode, Progress, Status};
use super::session::Session;
use super::Global;
use crate::jsonmessage;
use crate::reference::Reference;
use berth_client::{segment, Client, Query};
use berth_compose::plan;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Ignore images that can be built
    #[arg(long = "ignore-buildable")]
    pub ignore_buildable: bool,
    /// Pull what it can and ignores images with pull failures
    #[arg(long = "ignore-pull-failures")]
    pub ignore_pull_failures: bool,
    /// Also pull services declared as dependencies
    #[arg(long = "include-deps")]
    pub include_deps: bool,
    /// Apply pull policy ("missing"|"always")
    #[arg(long, value_parser = ["missing", "always"])]
    pub policy: Option<String>,
    /// Pull without printing progress information
    #[arg(short = 'q', long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

/// When `up` pulls a service's image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// When it is not there (`missing`, `if_not_present`, the default).
    Missing,
    Always,
    Never,
    /// Built, never pulled (`build`).
    Build,
}

impl Policy {
    /// A `pull_policy:` or `--pull` value; the periodic ones (`daily`,
    /// `weekly`, `every_…`) are refused rather than taken as another.
    pub fn parse(v: &str) -> anyhow::Result<Policy> {
        Ok(match v {
            "" | "missing" | "if_not_present" => Policy::Missing,
            "always" => Policy::Always,
            "never" => Policy::Never,
            "build" => Policy::Build,
            other => anyhow::bail!("pull policy {other:?}: berth supports always, missing, if_not_present, never and build"),
        })
    }
}

/// Whether an image exists in berthd (`GET /images/NAME/json`).
pub async fn image_exists(client: &Client, name: &str) -> anyhow::Result<bool> {
    match client.get_json::<serde_json::Value>(&format!("/images/{}/json", segment(name)), &Query::new()).await {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Pulls one image; the error is the stream's or the daemon's.
pub async fn pull_image(client: &Client, image: &str) -> anyhow::Result<()> {
    let reference = Reference::parse(image).map_err(anyhow::Error::msg)?.with_default_tag();
    let mut q = Query::new().add("fromImage", reference.name.clone());
    if let Some(d) = &reference.digest {
        q = q.add("tag", d.clone());
    } else if let Some(t) = &reference.tag {
        q = q.add("tag", t.clone());
    }
    let stream = crate::commands::pull::send(client, &reference, &q).await?;
    jsonmessage::display(stream, &mut std::io::sink()).await
}

/// Before `up`: pulls the images of `services` (all when empty) as their
/// pull policy says — `policy` (`up --pull`) over each `pull_policy:`. A
/// missing image of a service that has `build:` is left for the build.
pub async fn pull_missing(s: &Session<'_>, services: &[String], policy: Option<&str>) -> anyhow::Result<()> {
    s.check_services(services)?;
    let cli = policy.map(Policy::parse).transpose()?;
    let mut wanted = Vec::new();
    for (name, svc) in &s.project.services {
        if !services.is_empty() && !services.contains(name) {
            continue;
        }
        let Some(image) = svc.image.as_deref() else { continue };
        let p = match cli {
            Some(p) => p,
            None => Policy::parse(svc.pull_policy.as_deref().unwrap_or(""))?,
        };
        let pull = match p {
            Policy::Never | Policy::Build => false,
            Policy::Always => true,
            Policy::Missing => svc.build.is_none() && !image_exists(s.client, image).await?,
        };
        if pull {
            wanted.push((name.clone(), image.to_string()));
        }
    }
    let p = Progress::service_steps(progress::auto_mode(), "Pulling");
    for (name, r) in pull_all(s.client, wanted, &p).await {
        r.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    }
    Ok(())
}

/// Pulls `(service, image)` pairs in parallel, as Compose does, each image
/// once; returns each service's outcome in the order given, its progress
/// shown on `p`.
pub async fn pull_all(client: &Client, wanted: Vec<(String, String)>, p: &Progress) -> Vec<(String, anyhow::Result<()>)> {
    let mut images: Vec<String> = Vec::new();
    for (name, image) in &wanted {
        p.working(name, "Pulling");
        if !images.contains(image) {
            images.push(image.clone());
        }
    }
    let tasks: Vec<Task<'_, anyhow::Result<()>>> = images.iter().map(|i| Box::pin(pull_image(client, i)) as Task<'_, _>).collect();
    let done: Vec<(String, anyhow::Result<()>)> = images.iter().cloned().zip(join_all(tasks).await).collect();
    wanted
        .into_iter()
        .map(|(name, image)| {
            let r = match done.iter().find(|(i, _)| *i == image) {
                Some((_, Ok(()))) => Ok(()),
                Some((_, Err(e))) => Err(anyhow::anyhow!("{e}")),
                None => Err(anyhow::anyhow!("pull of {image} did not run")),
            };
            if r.is_ok() {
                p.done(&name, "Pulled");
            }
            (name, r)
        })
        .collect()
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = Session::load(client, global, &args.services)?;
    s.check_services(&args.services)?;
    let services = if args.include_deps && !args.services.is_empty() {
        plan::with_dependencies(&s.project, &args.services, false)?
    } else if args.services.is_empty() {
        s.project.services.keys().cloned().collect()
    } else {
        args.services.clone()
    };
    let mut wanted = Vec::new();
    for name in &services {
        let Some(svc) = s.project.services.get(name) else { continue };
        // A service that is only built has nothing to pull.
        let Some(image) = svc.image.as_deref() else { continue };
        if svc.build.is_some() && args.ignore_buildable {
            continue;
        }
        if args.policy.as_deref() == Some("missing") && image_exists(client, image).await? {
            continue;
        }
        wanted.push((name.clone(), image.to_string()));
    }
    let mut failed = Vec::new();
    let p = Progress::service_steps(if args.quiet { Mode::Quiet } else { progress::mode(global) }, "Pulling");
    for (name, r) in pull_all(client, wanted, &p).await {
        let buildable = s.project.services.get(&name).is_some_and(|svc| svc.build.is_some());
        match r {
            Ok(()) => {}
            // An image that can be built is not a failure, as in Compose;
            // warnings and errors show even with -q.
            Err(e) if buildable || args.ignore_pull_failures => problem(&p, &name, &format!("Warning {e}"), Status::Done),
            Err(e) => {
                problem(&p, &name, &format!("Error {e}"), Status::Error);
                failed.push(format!("{name}: {e}"));
            }
        }
    }
    if !failed.is_empty() {
        anyhow::bail!("{}", failed.join("\n"));
    }
    Ok(())
}

/// A step that ended in a warning (`Done`) or failed (`Error`): on the
/// display, or on stderr when the display is quiet (`-q` hides progress,
/// not problems).
pub fn problem(p: &Progress, id: &str, text: &str, status: Status) {
    if p.is_quiet() {
        eprintln!(" {id} {text} ");
    } else {
        p.event(id, text, status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies() {
        assert_eq!(Policy::parse("if_not_present").unwrap(), Policy::Missing);
        assert_eq!(Policy::parse("").unwrap(), Policy::Missing);
        assert_eq!(Policy::parse("build").unwrap(), Policy::Build);
        assert!(Policy::parse("daily").unwrap_err().to_string().contains("berth supports"));
    }
}
