//! `berth compose run SERVICE [COMMAND...]`: a one-off container of a
//! service, named `PROJECT-SERVICE-run-ID` and labelled
//! `com.docker.compose.oneoff=True`, created from the service's definition
//! with the run's overrides (no published ports unless `--service-ports`
//! or `-p`, no network aliases unless `--use-aliases`), after the
//! project's networks and volumes and (unless `--no-deps`) the services it
//! depends on are up; then attached as `berth run` attaches; the exit
//! status is the command's.

use super::session::Session;
use super::Global;
use crate::commands::create::{create_container, report_error};
use crate::commands::run::{start_and_follow, start_error_code};
use crate::exit::describe_any;
use crate::{envfile, mountopt, portspec, terminal};
use berth_api::container::CreateRequest;
use berth_client::{segment, Client, Query, RequestBody};
use berth_compose::engine::{self, CopyFile};
use berth_compose::plan::{self, label};
use serde_json::{json, Value};

/// Compose's label holding the one-off container's full random ID.
const SLUG: &str = "com.docker.compose.slug";

#[derive(clap::Args, Debug)]
#[command(trailing_var_arg = true)]
pub struct Args {
    /// Build image before starting container
    #[arg(long)]
    pub build: bool,
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Override the entrypoint of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub interactive: bool,
    /// Add or override a label
    #[arg(short = 'l', long = "label")]
    pub labels: Vec<String>,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Disable pseudo-TTY allocation (default: auto-detected)
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Don't start linked services
    #[arg(long = "no-deps")]
    pub no_deps: bool,
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Pull image before running ("always"|"missing"|"never")
    #[arg(long, default_value = "policy", value_parser = ["policy", "always", "missing", "never", "build"])]
    pub pull: String,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Run command with all service's ports enabled and mapped to the host
    #[arg(short = 'P', long = "service-ports")]
    pub service_ports: bool,
    /// Use the service's network useAliases in the network(s) the container connects to
    #[arg(long = "use-aliases")]
    pub use_aliases: bool,
    /// Run as specified username or uid
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume")]
    pub volumes: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    pub service: String,
    #[arg(allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// 64 random hex digits: the one-off container's slug.
fn random_id() -> anyhow::Result<String> {
    let mut b = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Drops the `Aliases` of an endpoint: a one-off container does not answer
/// to the service's name unless asked.
fn strip_aliases(ep: &mut Value) {
    if let Some(o) = ep.as_object_mut() {
        o.remove("Aliases");
    }
}

/// The run's overrides on the service's create request.
pub fn apply(req: &mut CreateRequest, args: &Args, slug: &str, tty: bool) -> anyhow::Result<()> {
    let c = &mut req.config;
    c.labels.insert(label::ONEOFF.into(), "True".into());
    c.labels.insert(SLUG.into(), slug.into());
    c.labels.extend(envfile::labels_to_map(&args.labels));
    if !args.command.is_empty() {
        c.cmd = Some(args.command.clone());
    }
    if let Some(e) = &args.entrypoint {
        c.entrypoint = Some(berth_compose::shell::split_command(e).map_err(|m| anyhow::anyhow!("--entrypoint: {m}"))?);
    }
    for e in &args.env {
        let kv = envfile::expand_env_flag(e, envfile::env_lookup).map_err(anyhow::Error::msg)?;
        let key = kv.split('=').next().unwrap_or("").to_string();
        c.env.retain(|x| x.split('=').next() != Some(key.as_str()));
        c.env.push(kv);
    }
    if let Some(u) = &args.user {
        c.user = u.clone();
    }
    if let Some(w) = &args.workdir {
        c.working_dir = w.clone();
    }
    c.tty = tty;
    c.open_stdin = args.interactive;
    c.stdin_once = args.interactive && !args.detach;
    c.attach_stdin = args.interactive && !args.detach;
    c.attach_stdout = !args.detach;
    c.attach_stderr = !args.detach;

    let h = &mut req.host_config;
    if !args.service_ports {
        h.extra.remove("PortBindings");
    }
    if !args.publish.is_empty() {
        let specs = portspec::parse(&args.publish, &[]).map_err(anyhow::Error::msg)?;
        let bindings = h.extra.entry("PortBindings").or_insert_with(|| json!({}));
        if let (Some(b), Value::Object(new)) = (bindings.as_object_mut(), specs.bindings_json()) {
            b.extend(new);
        }
        let exposed = req.config.exposed_ports.get_or_insert_with(Default::default);
        exposed.extend(specs.exposed);
    }
    if !args.volumes.is_empty() {
        let (binds, anonymous) = mountopt::split_volumes(&args.volumes).map_err(anyhow::Error::msg)?;
        h.binds.get_or_insert_with(Vec::new).extend(binds);
        let vols = req.config.volumes.get_or_insert_with(Default::default);
        for a in anonymous {
            vols.insert(a, json!({}));
        }
    }
    if args.rm {
        // A container removed at exit cannot also be restarted.
        h.auto_remove = true;
        h.restart_policy = Default::default();
    }
    if !args.use_aliases {
        if let Some(eps) = req.networking_config.as_mut().and_then(|n| n.get_mut("EndpointsConfig")).and_then(Value::as_object_mut) {
            eps.values_mut().for_each(strip_aliases);
        }
    }
    Ok(())
}

/// Secrets and configs given inline, put in place before start (the tar
/// `up` copies in, `ops::tar_of`).
async fn copy_in(client: &Client, id: &str, files: &[CopyFile]) -> anyhow::Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let tar = super::ops::tar_of(files)?;
    client.copy_to_container(id, "/", RequestBody::Stream(Box::new(std::io::Cursor::new(tar))), false).await?;
    Ok(())
}

/// `network_mode: service:X` becomes `container:ID` of X's first replica.
async fn resolve_network_mode(s: &Session<'_>, req: &mut CreateRequest) -> anyhow::Result<()> {
    let mode = &mut req.host_config.network_mode;
    if let Some(other) = mode.strip_prefix("service:").map(str::to_string) {
        let c = super::target::pick(s, &other, None, false).await?;
        *mode = format!("container:{}", c.id);
    }
    Ok(())
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = Session::load(client, global, std::slice::from_ref(&args.service))?;
    s.check_services(std::slice::from_ref(&args.service))?;
    let service = args.service.as_str();
    // The project's networks and volumes, and unless --no-deps the services
    // this one depends on, started and waited for as `up` does.
    if args.no_deps {
        super::up::ensure_networks_and_volumes(&s).await?;
    } else {
        super::up::ensure_dependencies(&s, std::slice::from_ref(&args.service)).await?;
    }
    if args.build || args.pull == "build" {
        super::build::build_services(&s, &[service.to_string()], &Default::default()).await?;
    } else {
        let missing = super::build::missing_images(&s, &[service.to_string()]).await?;
        if !missing.is_empty() {
            super::build::build_services(&s, &missing, &Default::default()).await?;
        }
        let policy = (args.pull != "policy").then_some(args.pull.as_str());
        super::pull::pull_missing(&s, &[service.to_string()], policy).await?;
    }
    let slug = random_id()?;
    let mut p = engine::container(&s.project, service, 1, None)?;
    let tty = !args.no_tty && terminal::stdin_is_terminal() && !args.detach;
    apply(&mut p.request, &args, &slug, tty)?;
    resolve_network_mode(&s, &mut p.request).await?;
    let name = args.name.clone().unwrap_or_else(|| plan::oneoff_name(&s.project, service, &slug));
    let config = p.request.config.clone();
    if let Err(e) = terminal::check_tty(config.attach_stdin, config.tty) {
        return Err(crate::exit::StatusError::with_message(1, e.to_string()).into());
    }
    let id = match create_container(client, &p.request, Some(&name), "never").await {
        Ok(id) => id,
        Err(e) => {
            let msg = describe_any(&e);
            return Err(report_error("compose run", &msg, false, start_error_code(&msg)));
        }
    };
    for (net, mut ep) in p.connect_after {
        if !args.use_aliases {
            strip_aliases(&mut ep);
        }
        let body = json!({"Container": id, "EndpointConfig": ep});
        client.post_json::<Value, _>(&format!("/networks/{}/connect", segment(&net)), &Query::new(), Some(&body)).await.ok();
    }
    copy_in(client, &id, &p.copy_in).await?;
    start_and_follow(client, &id, &config, args.rm, None).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn args(a: &[&str]) -> Args {
        let mut v = vec!["run"];
        v.extend_from_slice(a);
        Cli::parse_from(v).args
    }

    #[test]
    fn overrides_the_service() {
        let mut req = CreateRequest::default();
        req.config.env = vec!["A=1".into(), "B=2".into()];
        req.host_config.extra.insert("PortBindings".into(), json!({"80/tcp": [{"HostPort": "8080"}]}));
        req.host_config.restart_policy.name = "always".into();
        req.networking_config = Some(json!({"EndpointsConfig": {"p_default": {"Aliases": ["web"]}}}));
        let a = args(&["--rm", "-e", "B=3", "-l", "x=y", "--entrypoint", "sh -c", "-p", "9000:90", "web", "echo", "-n", "hi"]);
        assert_eq!(a.command, ["echo", "-n", "hi"]);
        apply(&mut req, &a, "abc", false).unwrap();
        let c = &req.config;
        assert_eq!(c.labels[label::ONEOFF], "True");
        assert_eq!(c.labels["x"], "y");
        assert_eq!(c.env, ["A=1", "B=3"]);
        assert_eq!(c.entrypoint.as_deref(), Some(&["sh".to_string(), "-c".to_string()][..]));
        assert!(req.host_config.auto_remove);
        assert_eq!(req.host_config.restart_policy.name, "");
        let pb = &req.host_config.extra["PortBindings"];
        assert!(pb.get("80/tcp").is_none() && pb.get("90/tcp").is_some(), "{pb}");
        assert!(req.networking_config.unwrap()["EndpointsConfig"]["p_default"].get("Aliases").is_none());
    }
}
