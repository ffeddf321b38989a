//! `berth compose build`, and [`build_services`] which `up --build` (and
//! `up` for a missing image) calls: each service with `build:` is sent to
//! berthd's `POST /build` as `berth build` sends a context, and tagged with
//! its `image:` or `PROJECT-SERVICE`.

use super::converge::levels;
use super::parallel::{try_join_all, Task};
use super::session::Session;
use super::Global;
use crate::exit::StatusError;
use crate::commands::build::{self as cli_build, Params, Show};
use crate::commands::build_context::{self, DockerfileSource};
use berth_client::Client;
use berth_compose::model::Build;
use berth_compose::plan;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Set build-time variables for services
    #[arg(long = "build-arg")]
    pub build_args: Vec<String>,
    /// Do not use cache when building the image
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the image
    #[arg(long)]
    pub pull: bool,
    /// Don't print anything to STDOUT
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Also build dependencies (transitively)
    #[arg(long = "with-dependencies")]
    pub with_dependencies: bool,
    pub services: Vec<String>,
}

/// How to build (the flags of `compose build` / `up --build`).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// `--build-arg K=V` (or `K`, from the environment), over the file's args.
    pub build_args: Vec<String>,
    pub no_cache: bool,
    pub pull: bool,
    pub quiet: bool,
    /// `--progress`: `plain`, `tty` or `auto` (steps on a terminal).
    pub progress: Option<String>,
}

/// The services among `services` (all when empty) that have `build:`.
pub fn buildable(s: &Session<'_>, services: &[String]) -> Vec<String> {
    s.project
        .services
        .iter()
        .filter(|(name, svc)| svc.build.is_some() && (services.is_empty() || services.contains(name)))
        .map(|(name, _)| name.clone())
        .collect()
}

/// The buildable services among `services` whose image is not there yet
/// (what `up` builds without `--build`).
pub async fn missing_images(s: &Session<'_>, services: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for name in buildable(s, services) {
        let image = plan::image_name(&s.project, &name).unwrap_or_default();
        if !super::pull::image_exists(s.client, &image).await? {
            out.push(name);
        }
    }
    Ok(out)
}

/// Builds `services` (all buildable ones when empty; services without
/// `build:` are passed over, as Compose does) in dependency order, the
/// independent ones of a level at the same time. Parallel builds keep
/// their output to themselves and print it whole when they end, so one
/// build's lines stay together.
pub async fn build_services(s: &Session<'_>, services: &[String], opts: &BuildOptions) -> anyhow::Result<()> {
    s.check_services(services)?;
    let mut jobs: Vec<(String, String, Build)> = Vec::new();
    for name in buildable(s, services) {
        let tag = plan::image_name(&s.project, &name).unwrap_or_default();
        // Two services building the same image build it once.
        if jobs.iter().any(|(_, t, _)| *t == tag) {
            continue;
        }
        let Some(build) = s.project.services.get(&name).and_then(|svc| svc.build.clone()) else {
            continue;
        };
        jobs.push((name, tag, build));
    }
    let order = plan::start_order(&s.project)?;
    for level in levels(&s.project, &order) {
        let batch: Vec<&(String, String, Build)> = jobs.iter().filter(|(name, _, _)| level.contains(name)).collect();
        let buffered = batch.len() > 1;
        let tasks: Vec<Task<'_, anyhow::Result<()>>> =
            batch.iter().map(|(name, tag, build)| Box::pin(build_one(s.client, name, build, tag, opts, buffered)) as Task<'_, _>).collect();
        try_join_all(tasks).await?;
    }
    Ok(())
}

/// The Dockerfile of a build: `dockerfile_inline`, or `dockerfile`
/// relative to the context.
fn dockerfile_source(context: &Path, b: &Build) -> DockerfileSource {
    if let Some(text) = &b.dockerfile_inline {
        return DockerfileSource::Inline(text.clone().into_bytes());
    }
    match b.dockerfile.as_deref() {
        None | Some("") => DockerfileSource::Default,
        Some(f) => DockerfileSource::Path(context.join(f)),
    }
}

/// The file's args, then `--build-arg` over them; an arg without a value
/// takes the environment's (and stays unset without one).
fn merged_args(file: &BTreeMap<String, Option<String>>, flags: &[String]) -> BTreeMap<String, Option<String>> {
    let mut args: BTreeMap<String, Option<String>> =
        file.iter().map(|(k, v)| (k.clone(), v.clone().or_else(|| std::env::var(k).ok()))).collect();
    args.extend(cli_build::build_args(flags));
    args
}

async fn build_one(client: &Client, service: &str, b: &Build, tag: &str, opts: &BuildOptions, buffered: bool) -> anyhow::Result<()> {
    if b.context.contains("://") || b.context.starts_with("git@") {
        anyhow::bail!("service {service:?}: berth builds from a local directory only, not {}", b.context);
    }
    let context = PathBuf::from(&b.context);
    let prepared = build_context::from_dir(&context, &dockerfile_source(&context, b), &[])
        .map_err(|e| anyhow::anyhow!("service {service:?}: {e}"))?;
    let labels: BTreeMap<String, String> = b.labels.iter().map(|(k, v)| (k.clone(), v.clone().unwrap_or_default())).collect();
    let tags = vec![tag.to_string()];
    let build_args = merged_args(&b.args, &opts.build_args);
    let params = Params {
        dockerfile: &prepared.dockerfile,
        build_args: &build_args,
        labels: &labels,
        network: "default",
        no_cache: opts.no_cache,
        pull: opts.pull,
        quiet: opts.quiet,
        target: b.target.as_deref(),
        platform: None,
        tags: &tags,
        cache_from: &b.cache_from,
    };
    let q = cli_build::query(&params)?;
    let show = if opts.quiet || opts.progress.as_deref() == Some("quiet") {
        Show::Nothing
    } else {
        match opts.progress.as_deref() {
            Some("tty") => Show::Steps,
            Some("auto") | None if crate::terminal::stdout_is_terminal() => Show::Steps,
            _ => Show::Plain,
        }
    };
    let sent = if buffered {
        let show = if show == Show::Nothing { Show::Nothing } else { Show::Plain };
        let mut out: Vec<u8> = Vec::new();
        let r = cli_build::send_to(client, q, prepared.tar, show, &prepared.dockerfile, &mut out).await;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(&out).and_then(|()| stdout.flush());
        r
    } else {
        cli_build::send(client, q, prepared.tar, show, &prepared.dockerfile).await
    };
    // Name the service in the error: with parallel builds the output alone
    // does not say which one failed. A failed RUN keeps its exit status.
    sent.map_err(|e| match e.downcast::<StatusError>() {
        Ok(st) => StatusError::with_message(st.code, format!("failed to build service {service:?}: {}", st)).into(),
        Err(e) => e.context(format!("failed to build service {service:?}")),
    })?;
    if !opts.quiet {
        eprintln!(" Service {service}  Built");
    }
    Ok(())
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = Session::load(client, global, &args.services)?;
    s.check_services(&args.services)?;
    let services = if args.with_dependencies && !args.services.is_empty() {
        plan::with_dependencies(&s.project, &args.services, false)?
    } else {
        args.services.clone()
    };
    let opts = BuildOptions {
        build_args: args.build_args,
        no_cache: args.no_cache,
        pull: args.pull,
        quiet: args.quiet,
        progress: global.progress.clone(),
    };
    build_services(&s, &services, &opts).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_args() {
        let mut file = BTreeMap::new();
        file.insert("A".to_string(), Some("1".to_string()));
        file.insert("B".to_string(), Some("2".to_string()));
        let m = merged_args(&file, &["B=3".into(), "C=4".into()]);
        assert_eq!(m["A"].as_deref(), Some("1"));
        assert_eq!(m["B"].as_deref(), Some("3"));
        assert_eq!(m["C"].as_deref(), Some("4"));
    }

    #[test]
    fn dockerfile_is_relative_to_the_context() {
        let b = Build { context: "/ctx".into(), dockerfile: Some("sub/Dockerfile.dev".into()), ..Default::default() };
        assert!(matches!(dockerfile_source(Path::new("/ctx"), &b), DockerfileSource::Path(p) if p == Path::new("/ctx/sub/Dockerfile.dev")));
        let b = Build { dockerfile_inline: Some("FROM busybox".into()), ..b };
        assert!(matches!(dockerfile_source(Path::new("/ctx"), &b), DockerfileSource::Inline(t) if t == b"FROM busybox"));
    }
}
