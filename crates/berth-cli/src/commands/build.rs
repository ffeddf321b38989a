//! `berth build`: send the context to `POST /build` and show the build.

use super::build_context::{self, DockerfileSource};
use super::build_output::{observe, Outcome, Plain, Render, Steps};
use crate::exit::StatusError;
use anyhow::Context;
use berth_client::{Client, Method, Query, RequestBody};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Name and optionally a tag in the "name:tag" format
    #[arg(short = 't', long = "tag")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: "PATH/Dockerfile")
    #[arg(short = 'f', long = "file")]
    pub file: Option<String>,
    /// Set build-time variables
    #[arg(long = "build-arg")]
    pub build_args: Vec<String>,
    /// Set the target build stage to build
    #[arg(long)]
    pub target: Option<String>,
    /// Do not use cache when building the image
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the image
    #[arg(long)]
    pub pull: bool,
    /// Set metadata for an image
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Suppress the build output and print image ID on success
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Set the networking mode for the RUN instructions during build
    #[arg(long, default_value = "default")]
    pub network: String,
    /// Set platform if server is multi-platform capable
    #[arg(long, env = "DOCKER_DEFAULT_PLATFORM")]
    pub platform: Option<String>,
    /// Write the image ID to the file
    #[arg(long)]
    pub iidfile: Option<PathBuf>,
    /// Set type of progress output (auto, plain, tty)
    #[arg(long, default_value = "auto")]
    pub progress: String,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host")]
    pub add_hosts: Vec<String>,
    /// Size of /dev/shm
    #[arg(long = "shm-size")]
    pub shm_size: Option<String>,
    /// Secret to expose to the build (id=mysecret,src=/local/secret)
    #[arg(long = "secret")]
    pub secrets: Vec<String>,
    /// Build context: a directory, "-" to read a tarball or Dockerfile from stdin, or an
    /// http(s) URL of a tarball or Dockerfile (fetched by the daemon)
    pub path: String,
}

/// `--build-arg K=V`, or `K` alone: the value from the environment (unset if not there).
pub fn build_args(args: &[String]) -> BTreeMap<String, Option<String>> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (a.clone(), std::env::var(a).ok()),
        })
        .collect()
}

fn labels(args: &[String]) -> BTreeMap<String, String> {
    args.iter()
        .map(|a| {
            let (k, v) = a.split_once('=').unwrap_or((a, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let progress = args.progress.as_str();
    if !matches!(progress, "auto" | "plain" | "tty") {
        anyhow::bail!("invalid --progress {progress:?}: berth takes auto, plain or tty");
    }
    let dockerfile = match args.file.as_deref() {
        None | Some("") => DockerfileSource::Default,
        Some("-") => DockerfileSource::Stdin,
        Some(p) => DockerfileSource::Path(PathBuf::from(p)),
    };
    let mut secrets = Vec::new();
    for s in &args.secrets {
        secrets.push(build_context::parse_secret(s)?);
    }
    // A URL context is fetched by the daemon (`remote=`): a tarball or a Dockerfile over
    // http(s); git remotes are sent too, for the daemon to refuse by name.
    let remote = ["http://", "https://", "git://", "git@", "github.com/"].iter().any(|p| args.path.starts_with(p));
    if remote && (!secrets.is_empty() || matches!(dockerfile, DockerfileSource::Stdin)) {
        anyhow::bail!("a URL context takes neither --secret nor -f -: the daemon downloads the whole context");
    }
    let prepared = if remote {
        build_context::Prepared { tar: Vec::new(), dockerfile: args.file.clone().unwrap_or_else(|| "Dockerfile".into()) }
    } else if args.path == "-" {
        if matches!(dockerfile, DockerfileSource::Stdin) {
            anyhow::bail!("invalid argument: can't use stdin for both build context and dockerfile");
        }
        if !secrets.is_empty() {
            anyhow::bail!("--secret needs a context directory, not a context from stdin");
        }
        let mut data = Vec::new();
        std::io::stdin().read_to_end(&mut data).context("reading the context from stdin")?;
        build_context::from_stdin(data, &dockerfile)?
    } else {
        build_context::from_dir(std::path::Path::new(&args.path), &dockerfile, &secrets)?
    };
    let shm = match args.shm_size.as_deref() {
        None => 0,
        Some(s) => super::limits::parse_ram(s).map_err(|e| anyhow::anyhow!("invalid argument \"{s}\" for \"--shm-size\" flag: {e}"))?,
    };
    let params = Params {
        dockerfile: &prepared.dockerfile,
        build_args: &build_args(&args.build_args),
        labels: &labels(&args.labels),
        network: &args.network,
        no_cache: args.no_cache,
        pull: args.pull,
        quiet: args.quiet,
        target: args.target.as_deref(),
        platform: args.platform.as_deref(),
        tags: &args.tags,
        cache_from: &[],
    };
    let mut q = query(&params)?;
    if remote {
        q = q.add("remote", args.path.clone());
    }
    if shm > 0 {
        q = q.add("shmsize", shm.to_string());
    }
    for h in &args.add_hosts {
        q = q.add("extrahosts", h.replacen('=', ":", 1));
    }
    if !secrets.is_empty() {
        q = q.add("berthsecrets", secrets.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(","));
    }
    let tty = progress == "tty" || (progress == "auto" && std::io::stdout().is_terminal());
    let name = args.file.as_deref().filter(|f| !f.is_empty() && *f != "-").unwrap_or(&prepared.dockerfile).to_string();
    let outcome = send(client, q, prepared.tar, if args.quiet || !tty { Show::Plain } else { Show::Steps }, &name).await?;
    if let (Some(path), Some(id)) = (&args.iidfile, &outcome.image_id) {
        std::fs::write(path, id).with_context(|| format!("writing image ID to {}", path.display()))?;
    }
    Ok(())
}

/// What `POST /build` is asked, shared by `berth build` and `berth compose build`.
pub struct Params<'a> {
    /// The Dockerfile's name inside the context.
    pub dockerfile: &'a str,
    pub build_args: &'a BTreeMap<String, Option<String>>,
    pub labels: &'a BTreeMap<String, String>,
    pub network: &'a str,
    pub no_cache: bool,
    pub pull: bool,
    pub quiet: bool,
    pub target: Option<&'a str>,
    pub platform: Option<&'a str>,
    pub tags: &'a [String],
    pub cache_from: &'a [String],
}

/// The query of `POST /build` for `p`.
pub fn query(p: &Params<'_>) -> anyhow::Result<Query> {
    let mut q = Query::new()
        .add("dockerfile", p.dockerfile.to_string())
        .add("buildargs", serde_json::to_string(p.build_args)?)
        .add("labels", serde_json::to_string(p.labels)?)
        .add("networkmode", p.network.to_string())
        .add("rm", "1")
        .add("version", "1")
        .flag("nocache", p.no_cache)
        .flag("pull", p.pull)
        .flag("q", p.quiet)
        .non_empty("target", p.target.unwrap_or(""))
        .non_empty("platform", p.platform.unwrap_or(""));
    if !p.cache_from.is_empty() {
        q = q.add("cachefrom", serde_json::to_string(p.cache_from)?);
    }
    for t in p.tags {
        q = q.add("t", t.clone());
    }
    Ok(q)
}

/// How a build's messages are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// The classic lines (and `-q`'s image ID).
    Plain,
    /// One line per step (a terminal).
    Steps,
    Nothing,
}

/// Sends a context and shows the build; a failed build is a [`StatusError`] with the failing
/// RUN's code, as docker's legacy build exits.
/// `dockerfile` is the name errors give for the Dockerfile (`-f`'s, as the user wrote it).
pub async fn send(client: &Client, q: Query, tar: Vec<u8>, show: Show, dockerfile: &str) -> anyhow::Result<Outcome> {
    send_to(client, q, tar, show, dockerfile, &mut std::io::stdout()).await
}

/// As [`send`], the build's output written to `out` (compose's parallel
/// builds keep each build's lines together).
pub async fn send_to(client: &Client, q: Query, tar: Vec<u8>, show: Show, dockerfile: &str, out: &mut (dyn std::io::Write + Send)) -> anyhow::Result<Outcome> {
    let body = RequestBody::Stream(Box::new(std::io::Cursor::new(tar)));
    // Credentials for a FROM that pulls, as the docker CLI sends them.
    let stream = match crate::credentials::registry_config_header() {
        Some(h) => client.stream_with_header(Method::POST, "/build", &q, ("X-Registry-Config", &h), body).await?,
        None => client.stream(Method::POST, "/build", &q, body).await?,
    };
    let mut render: Box<dyn Render> = if show == Show::Steps { Box::new(Steps::new()) } else { Box::new(Plain) };
    let mut sink = std::io::sink();
    let out: &mut (dyn std::io::Write + Send) = if show == Show::Nothing { &mut sink } else { out };
    let mut outcome = Outcome::default();
    let mut messages = stream.json::<Value>();
    while let Some(m) = messages.next().await? {
        observe(&m, &mut outcome);
        render.message(&m, out)?;
    }
    render.finish(out, &outcome)?;
    if let Some((msg, code)) = &outcome.error {
        // docker's legacy build: the error, and the failing RUN's code as the exit status;
        // then where in the Dockerfile, when the daemon says.
        let msg = match &outcome.at {
            Some((line, Some(instr))) => format!("{msg}\n  at {dockerfile}:{line}: {instr}"),
            Some((line, None)) => format!("{msg}\n  at {dockerfile}:{line}"),
            None => msg.clone(),
        };
        return Err(StatusError::with_message(if *code > 0 { *code as i32 } else { 1 }, msg).into());
    }
    Ok(outcome)
}
