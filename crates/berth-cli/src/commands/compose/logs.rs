//! `berth compose logs`, and [`LogFollower`], the multiplexer a foreground
//! `compose up` streams its containers through.

use super::logprinter::{LineSplitter, LogPrinter, Style};
use super::session::{number_of, Session, OneOff};
use super::Global;
use crate::commands::logs::api_timestamp;
use berth_api::container::{ContainerInspect, ContainerSummary};
use berth_client::{segment, Client, Filters, JsonStream, Method, Query, RequestBody};
use berth_compose::plan::label;
use serde_json::Value;
use std::collections::HashSet;
use tokio::task::JoinSet;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// index of the container if service has multiple replicas
    #[arg(long)]
    pub index: Option<u64>,
    /// Produce monochrome output
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long = "no-log-prefix")]
    pub no_log_prefix: bool,
    /// Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long)]
    pub since: Option<String>,
    /// Number of lines to show from the end of the logs for each container
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long)]
    pub until: Option<String>,
    pub services: Vec<String>,
}

/// What to fetch of each container's log, and how to print it.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub follow: bool,
    /// `all` or a number of lines.
    pub tail: String,
    /// The daemon's timestamp before each line.
    pub timestamps: bool,
    pub since: Option<String>,
    pub until: Option<String>,
    pub style: Style,
}

impl Default for LogOptions {
    fn default() -> LogOptions {
        LogOptions {
            follow: true,
            tail: "all".into(),
            timestamps: false,
            since: None,
            until: None,
            style: Style { color: false, prefix: true },
        }
    }
}

/// Whether Compose would color its output: not with `--no-color` or
/// `--ansi never`, always with `--ansi always`, else when stdout is a terminal.
pub fn use_color(global: &Global, no_color: bool) -> bool {
    !no_color
        && match global.ansi.as_str() {
            "never" => false,
            "always" => true,
            _ => crate::terminal::stdout_is_terminal(),
        }
}

/// The name Compose prints before a container's lines: `SERVICE-N`, or the
/// whole name for a `container_name:` or a one-off container.
pub fn log_name(c: &ContainerSummary) -> String {
    let name = super::session::name_of(c);
    let project = c.labels.get(label::PROJECT).map(String::as_str).unwrap_or("");
    let service = c.labels.get(label::SERVICE).map(String::as_str).unwrap_or("");
    let default = format!("{project}-{service}-{}", number_of(c));
    if name == default {
        name[project.len() + 1..].to_string()
    } else {
        name.to_string()
    }
}

/// Streams the logs of a changing set of containers through one printer.
pub struct LogFollower {
    client: Client,
    printer: LogPrinter,
    opts: LogOptions,
    tasks: JoinSet<(String, anyhow::Result<()>)>,
    seen: HashSet<String>,
}

impl LogFollower {
    pub fn new(client: &Client, opts: LogOptions) -> LogFollower {
        LogFollower { client: client.clone(), printer: LogPrinter::new(opts.style), opts, tasks: JoinSet::new(), seen: HashSet::new() }
    }

    /// The printer, for Compose's own lines between the logs.
    pub fn printer(&self) -> &LogPrinter {
        &self.printer
    }

    /// Makes the names known first, so the first lines are already padded
    /// to the widest.
    pub fn register(&self, containers: &[ContainerSummary]) {
        for c in containers {
            self.printer.register(&log_name(c));
        }
    }

    /// Starts streaming a container (once: a container already streamed is
    /// left alone).
    pub fn add(&mut self, c: &ContainerSummary) {
        let opts = self.opts.clone();
        self.add_with(c, opts);
    }

    /// Streams a container that started after the others (`logs -f`): what
    /// it printed since `since` (the start event's time, seconds), all of it
    /// for the first start. A container whose stream is still open is left
    /// alone.
    pub fn add_started(&mut self, c: &ContainerSummary, since: Option<i64>) {
        let mut opts = LogOptions { tail: "all".into(), ..self.opts.clone() };
        if let Some(t) = since {
            opts.since = Some(t.to_string());
        }
        self.add_with(c, opts);
    }

    fn add_with(&mut self, c: &ContainerSummary, opts: LogOptions) {
        if !self.seen.insert(c.id.clone()) {
            return;
        }
        let name = log_name(c);
        self.printer.register(&name);
        let (client, printer, id) = (self.client.clone(), self.printer.clone(), c.id.clone());
        self.tasks.spawn(async move {
            let r = stream_one(&client, &printer, &id, &name, &opts).await;
            (id, r)
        });
    }

    /// Forgets an ended stream, so a restart of its container is followed again.
    pub fn forget(&mut self, id: &str) {
        self.seen.remove(id);
    }

    /// Whether any stream is still open.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Waits for the next stream to end: the container's ID and how it ended.
    pub async fn next_ended(&mut self) -> Option<(String, anyhow::Result<()>)> {
        loop {
            match self.tasks.join_next().await? {
                Ok(r) => return Some(r),
                // A panicked stream task: nothing to report but the end.
                Err(e) if e.is_panic() => return Some((String::new(), Err(anyhow::anyhow!("log stream failed: {e}")))),
                Err(_) => continue,
            }
        }
    }

    /// Waits for every stream to end; the first error is returned after all.
    pub async fn wait_all(&mut self) -> anyhow::Result<()> {
        let mut first = None;
        while let Some((_, r)) = self.next_ended().await {
            if let Err(e) = r {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Stops every stream (Ctrl-C, `--abort-on-container-exit`).
    pub fn abort_all(&mut self) {
        self.tasks.abort_all();
    }
}

/// Prints `containers`' logs, following them with `opts.follow` until
/// every one of them has stopped.
pub async fn follow_containers(s: &Session<'_>, containers: Vec<ContainerSummary>, opts: &LogOptions) -> anyhow::Result<()> {
    let mut f = LogFollower::new(s.client, opts.clone());
    f.register(&containers);
    for c in &containers {
        f.add(c);
    }
    f.wait_all().await
}

async fn stream_one(client: &Client, printer: &LogPrinter, id: &str, name: &str, opts: &LogOptions) -> anyhow::Result<()> {
    let path = segment(id);
    let info: ContainerInspect = client.get_json(&format!("/containers/{path}/json"), &Query::new()).await?;
    let q = Query::new()
        .flag("stdout", true)
        .flag("stderr", true)
        .non_empty("since", &opts.since.as_deref().map(api_timestamp).unwrap_or_default())
        .non_empty("until", &opts.until.as_deref().map(api_timestamp).unwrap_or_default())
        .flag("timestamps", opts.timestamps)
        .flag("follow", opts.follow)
        .add("tail", opts.tail.clone());
    let mut stream = client.stream(Method::GET, &format!("/containers/{path}/logs"), &q, RequestBody::Empty).await?;
    let mut lines = LineSplitter::new(info.config.tty);
    while let Some(chunk) = stream.chunk().await? {
        for (s, l) in lines.feed(&chunk)? {
            printer.line(name, s, &l);
        }
    }
    for (s, l) in lines.finish() {
        printer.line(name, s, &l);
    }
    Ok(())
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = Session::load(client, global, &args.services)?;
    s.check_services(&args.services)?;
    // With -f, subscribe before listing: a container that starts in
    // between is then in the list or in the events (or both: streamed once).
    let events = if args.follow { Some(start_events(&s).await?) } else { None };
    let mut containers = s.containers(true, OneOff::Exclude, &args.services).await?;
    if let Some(i) = args.index {
        containers.retain(|c| number_of(c) == i);
        if containers.is_empty() {
            match args.services.as_slice() {
                [one] => anyhow::bail!("service {one:?} has no container #{i}"),
                _ => anyhow::bail!("no container #{i} in the project"),
            }
        }
    }
    let opts = LogOptions {
        follow: args.follow,
        tail: args.tail,
        timestamps: args.timestamps,
        since: args.since,
        until: args.until,
        style: Style { color: use_color(global, args.no_color), prefix: !args.no_log_prefix },
    };
    match events {
        None => follow_containers(&s, containers, &opts).await,
        Some(events) => follow_with_starts(&s, containers, &opts, &args.services, events).await,
    }
}

type Events = JsonStream<Value>;

/// The project's service containers' start events, from now on.
async fn start_events(s: &Session<'_>) -> anyhow::Result<Events> {
    let mut filters = s.project_filters();
    filters.add("type", "container");
    filters.add("event", "start");
    filters.add("label", &format!("{}=False", label::ONEOFF));
    Ok(s.client.stream(Method::GET, "/events", &Query::new().filters(&filters), RequestBody::Empty).await?.json::<Value>())
}

/// `logs -f`: the containers there are, and those of the same services
/// that start while any is still followed (found by the project's start
/// events, as Compose watches them); ends when every stream has ended.
async fn follow_with_starts(
    s: &Session<'_>,
    containers: Vec<ContainerSummary>,
    opts: &LogOptions,
    services: &[String],
    mut events: Events,
) -> anyhow::Result<()> {
    let mut f = LogFollower::new(s.client, opts.clone());
    f.register(&containers);
    for c in &containers {
        f.add(c);
    }
    let mut first_error = None;
    while !f.is_empty() {
        tokio::select! {
            ended = f.next_ended() => {
                let Some((id, r)) = ended else { break };
                f.forget(&id);
                if let Err(e) = r {
                    first_error.get_or_insert(e);
                }
            }
            ev = events.next() => {
                let Some(ev) = ev? else { continue };
                let service = ev["Actor"]["Attributes"][label::SERVICE].as_str().unwrap_or("");
                if !services.is_empty() && !services.iter().any(|x| x == service) {
                    continue;
                }
                let id = ev["Actor"]["ID"].as_str().unwrap_or("");
                let mut q = Filters::new();
                q.add("id", id);
                let found: Vec<ContainerSummary> = s.client.get_json("/containers/json", &Query::new().flag("all", true).filters(&q)).await?;
                if let Some(c) = found.first() {
                    f.add_started(c, ev["time"].as_i64());
                }
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(name: &str, project: &str, service: &str, n: &str) -> ContainerSummary {
        let mut c = ContainerSummary { id: "x".into(), names: vec![format!("/{name}")], ..Default::default() };
        c.labels.insert(label::PROJECT.into(), project.into());
        c.labels.insert(label::SERVICE.into(), service.into());
        c.labels.insert(label::CONTAINER_NUMBER.into(), n.into());
        c
    }

    #[test]
    fn log_names_drop_the_project() {
        assert_eq!(log_name(&summary("app-web-2", "app", "web", "2")), "web-2");
        assert_eq!(log_name(&summary("custom", "app", "web", "1")), "custom");
        assert_eq!(log_name(&summary("app-web-run-0123456789ab", "app", "web", "1")), "app-web-run-0123456789ab");
    }
}
