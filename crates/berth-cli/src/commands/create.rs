//! `berth create`, and the container options `run` shares with it: flags
//! to a `POST /containers/create` body, and creation with the docker CLI's
//! pull-on-missing-image fallback.

use crate::envfile;
use crate::exit::StatusError;
use crate::jsonmessage;
use crate::reference::Reference;
use berth_api::container::{ContainerConfig, CreateRequest, CreateResponse, HostConfig, RestartPolicy};
use berth_client::{Client, Query};
use clap::ArgAction;

/// Flags shared by `run` and `create`.
#[derive(clap::Args, Debug, Clone)]
pub struct ContainerOptions {
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    help: Option<bool>,
    /// Attach to STDIN, STDOUT or STDERR
    #[arg(short = 'a', long = "attach", value_name = "STREAM")]
    pub attach: Vec<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Pull image before running ("always", "missing", "never")
    #[arg(long, default_value = "missing", value_parser = ["always", "missing", "never"])]
    pub pull: String,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Container host name
    #[arg(short = 'h', long = "hostname")]
    pub hostname: Option<String>,
    /// Container NIS domain name
    #[arg(long)]
    pub domainname: Option<String>,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label")]
    pub label: Vec<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Signal to stop the container
    #[arg(long = "stop-signal")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout")]
    pub stop_timeout: Option<i64>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long = "tty")]
    pub tty: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Automatically remove the container and its associated anonymous volumes when it exits
    #[arg(long)]
    pub rm: bool,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Restart policy to apply when a container exits
    #[arg(long, default_value = "no")]
    pub restart: String,
    #[command(flatten)]
    pub net: super::netopts::NetworkOptions,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume")]
    pub volume: Vec<String>,
    #[command(flatten)]
    pub limits: super::limits::LimitOptions,
    #[command(flatten)]
    pub isolation: super::isolation::IsolationOptions,
    /// Ulimit options
    #[arg(long = "ulimit", value_name = "ulimit")]
    pub ulimit: Vec<String>,
    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable")]
    pub oom_kill_disable: bool,
    /// Optional volume driver for the container
    #[arg(long = "volume-driver", value_name = "string")]
    pub volume_driver: Option<String>,
    /// Tune container memory swappiness (0 to 100)
    #[arg(long = "memory-swappiness", value_name = "int", default_value_t = -1, allow_hyphen_values = true)]
    pub memory_swappiness: i64,
    /// Command to run to check health
    #[arg(long = "health-cmd", value_name = "string")]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h)
    #[arg(long = "health-interval", value_name = "duration")]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h)
    #[arg(long = "health-timeout", value_name = "duration")]
    pub health_timeout: Option<String>,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)
    #[arg(long = "health-start-period", value_name = "duration")]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h)
    #[arg(long = "health-start-interval", value_name = "duration")]
    pub health_start_interval: Option<String>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long = "health-retries", value_name = "int")]
    pub health_retries: Option<i64>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
    /// Size of /dev/shm
    #[arg(long = "shm-size", value_name = "bytes")]
    pub shm_size: Option<String>,
    /// Attach a filesystem mount to the container
    #[arg(long = "mount", value_name = "mount")]
    pub mount: Vec<String>,
    /// Mount a tmpfs directory
    #[arg(long = "tmpfs", value_name = "list")]
    pub tmpfs: Vec<String>,
    /// Mount volumes from the specified container(s)
    #[arg(long = "volumes-from", value_name = "list")]
    pub volumes_from: Vec<String>,
    /// The image, then the command and its arguments
    #[arg(required = true, trailing_var_arg = true, num_args = 1.., value_name = "IMAGE [COMMAND] [ARG...]")]
    pub image_and_command: Vec<String>,
}

impl ContainerOptions {
    /// `--health-*` / `--no-healthcheck` as the config's Healthcheck, as the
    /// docker CLI builds it (durations in nanoseconds).
    fn healthcheck(&self) -> Result<Option<serde_json::Value>, String> {
        let dur = |flag: &str, v: &Option<String>| -> Result<i64, String> {
            match v.as_deref() {
                None => Ok(0),
                Some(s) if s.starts_with('-') => Err(format!("--{flag} cannot be negative")),
                Some(s) => berth_api::time::parse_duration(s)
                    .map(|d| d.as_nanos() as i64)
                    .ok_or_else(|| format!("invalid argument \"{s}\" for \"--{flag}\" flag: time: invalid duration \"{s}\"")),
            }
        };
        let interval = dur("health-interval", &self.health_interval)?;
        let timeout = dur("health-timeout", &self.health_timeout)?;
        let start_period = dur("health-start-period", &self.health_start_period)?;
        let start_interval = dur("health-start-interval", &self.health_start_interval)?;
        let retries = self.health_retries.unwrap_or(0);
        if retries < 0 {
            return Err("--health-retries cannot be negative".into());
        }
        let any_set = self.health_cmd.is_some() || interval != 0 || timeout != 0 || start_period != 0 || start_interval != 0 || retries != 0;
        if self.no_healthcheck {
            if any_set {
                return Err("--no-healthcheck conflicts with --health-* options".into());
            }
            return Ok(Some(serde_json::json!({"Test": ["NONE"]})));
        }
        if !any_set {
            return Ok(None);
        }
        let test = match &self.health_cmd {
            Some(cmd) => serde_json::json!(["CMD-SHELL", cmd]),
            None => serde_json::json!([]),
        };
        Ok(Some(serde_json::json!({
            "Test": test, "Interval": interval, "Timeout": timeout,
            "StartPeriod": start_period, "StartInterval": start_interval, "Retries": retries,
        })))
    }

    pub fn image(&self) -> &str {
        self.image_and_command.first().map(String::as_str).unwrap_or("")
    }

    /// The create body, as docker's `parse` builds it from the flags.
    pub fn to_request(&self) -> Result<CreateRequest, String> {
        let mut env = Vec::new();
        for file in &self.env_file {
            let text = std::fs::read_to_string(file).map_err(|e| format!("open {file}: {e}"))?;
            env.extend(envfile::parse_env_file(&text, envfile::env_lookup)?);
        }
        for e in &self.env {
            env.push(envfile::expand_env_flag(e, envfile::env_lookup)?);
        }
        let mut attach_stdin = false;
        let mut attach_stdout = false;
        let mut attach_stderr = false;
        for a in &self.attach {
            match a.to_lowercase().as_str() {
                "stdin" => attach_stdin = true,
                "stdout" => attach_stdout = true,
                "stderr" => attach_stderr = true,
                _ => return Err(format!("invalid argument \"{a}\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR")),
            }
        }
        if self.interactive {
            attach_stdin = true;
        }
        if self.attach.is_empty() {
            attach_stdout = true;
            attach_stderr = true;
        }
        let (binds, anonymous) = crate::mountopt::split_volumes(&self.volume)?;
        let mounts = self
            .mount
            .iter()
            .map(|m| crate::mountopt::parse_mount(m).map_err(|e| format!("invalid argument \"{m}\" for \"--mount\" flag: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let entrypoint = self.entrypoint.as_ref().map(|e| vec![e.clone()]);
        let command: Vec<String> = self.image_and_command.iter().skip(1).cloned().collect();
        let healthcheck = self.healthcheck()?;
        let mut config = ContainerConfig {
            healthcheck,
            hostname: self.hostname.clone().unwrap_or_default(),
            domainname: self.domainname.clone().unwrap_or_default(),
            user: self.user.clone().unwrap_or_default(),
            attach_stdin,
            attach_stdout,
            attach_stderr,
            tty: self.tty,
            open_stdin: self.interactive,
            stdin_once: self.interactive && attach_stdin,
            env,
            cmd: if command.is_empty() { None } else { Some(command) },
            image: self.image().to_string(),
            volumes: Some(anonymous.into_iter().map(|v| (v, serde_json::json!({}))).collect()),
            working_dir: self.workdir.clone().unwrap_or_default(),
            entrypoint,
            labels: envfile::labels_to_map(&self.label),
            stop_signal: self.stop_signal.clone(),
            stop_timeout: self.stop_timeout,
            ..Default::default()
        };
        let mut resources = self.limits.to_resources()?;
        if !self.ulimit.is_empty() {
            resources.ulimits = Some(self.ulimit.iter().map(|u| super::limits::parse_ulimit(u)).collect::<Result<_, _>>()?);
        }
        if self.oom_kill_disable {
            resources.oom_kill_disable = Some(true);
        }
        if self.memory_swappiness != -1 {
            if !(0..=100).contains(&self.memory_swappiness) {
                return Err(format!("invalid value: {}. Valid memory swappiness range is 0-100", self.memory_swappiness));
            }
            resources.memory_swappiness = Some(self.memory_swappiness);
        }
        let shm_size = match self.shm_size.as_deref() {
            None => 0,
            Some(s) => super::limits::parse_ram(s).map_err(|e| format!("invalid argument \"{s}\" for \"--shm-size\" flag: {e}"))?,
        };
        let mut host_config = HostConfig {
            resources,
            shm_size,
            auto_remove: self.rm,
            init: self.init.then_some(true),
            privileged: self.privileged,
            readonly_rootfs: self.read_only,
            restart_policy: parse_restart(&self.restart)?,
            binds: if binds.is_empty() { None } else { Some(binds) },
            mounts: if mounts.is_empty() { None } else { Some(mounts) },
            tmpfs: if self.tmpfs.is_empty() { None } else { Some(crate::mountopt::tmpfs_map(&self.tmpfs)) },
            volumes_from: if self.volumes_from.is_empty() { None } else { Some(self.volumes_from.clone()) },
            ..Default::default()
        };
        self.isolation.apply(&mut host_config)?;
        if let Some(driver) = self.volume_driver.as_ref().filter(|d| !d.is_empty()) {
            host_config.extra.insert("VolumeDriver".into(), driver.clone().into());
        }
        if self.rm && !matches!(host_config.restart_policy.name.as_str(), "" | "no") {
            return Err("conflicting options: cannot specify both --restart and --rm".to_string());
        }
        let networking = self.net.apply(&mut config, &mut host_config)?;
        Ok(CreateRequest { config, host_config, networking_config: Some(networking) })
    }
}

/// `--restart no|always|unless-stopped|on-failure[:max-retries]`.
pub fn parse_restart(s: &str) -> Result<RestartPolicy, String> {
    let (name, count) = match s.split_once(':') {
        Some((n, c)) => (n, Some(c)),
        None => (s, None),
    };
    let maximum_retry_count = match (name, count) {
        ("on-failure", Some(c)) => c.parse::<i64>().map_err(|_| format!("invalid restart policy format: maximum retry count must be an integer: {c}"))?,
        (_, Some(_)) => return Err(format!("invalid restart policy format: maximum retry count can only be used with 'on-failure': {s}")),
        _ => 0,
    };
    if !matches!(name, "" | "no" | "always" | "unless-stopped" | "on-failure") {
        return Err(format!("invalid restart policy format: unknown policy '{name}'"));
    }
    Ok(RestartPolicy { name: name.to_string(), maximum_retry_count })
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    pub opts: ContainerOptions,
}

pub async fn run(client: &Client, args: CreateArgs) -> anyhow::Result<()> {
    let req = args.opts.to_request().map_err(|e| report_error("create", &e, true, 125))?;
    let id = create_container(client, &req, args.opts.name.as_deref(), &args.opts.pull)
        .await
        // docker create exits 1 on a daemon error (run uses 125).
        .map_err(|e| report_error("create", &describe_create(&e), true, 1))?;
    println!("{id}");
    Ok(())
}

/// How a create failure reads (daemon errors get their docker prefix).
pub fn describe_create(e: &anyhow::Error) -> String {
    crate::exit::describe_any(e)
}

/// docker 28's `reportError`: `berth: <msg>` plus, after a blank line, a
/// pointer to help, as a status error carrying `code`.
pub fn report_error(command: &str, msg: &str, with_help: bool, code: i32) -> anyhow::Error {
    let mut text = format!("berth: {msg}");
    if with_help {
        text.push_str(&format!("\n\nRun 'berth {command} --help' for more information"));
    }
    StatusError::with_message(code, text).into()
}

/// Creates the container; a missing image is pulled once (`--pull missing`),
/// then retried, printing what docker prints; `always` pulls first, `never`
/// never. Returns the new container's ID.
pub async fn create_container(client: &Client, req: &CreateRequest, name: Option<&str>, pull_policy: &str) -> anyhow::Result<String> {
    let query = Query::new().non_empty("name", name.unwrap_or(""));
    if pull_policy == "always" {
        let reference = Reference::parse(&req.config.image).map_err(anyhow::Error::msg)?.with_default_tag();
        pull(client, &reference).await?;
    }
    let first = client.post_json::<CreateResponse, _>("/containers/create", &query, Some(req)).await;
    let resp = match first {
        Err(e) if e.is_not_found() && pull_policy == "missing" => {
            let reference = Reference::parse(&req.config.image).map_err(anyhow::Error::msg)?.with_default_tag();
            eprintln!("Unable to find image '{}' locally", reference.familiar_string());
            pull(client, &reference).await?;
            client.post_json::<CreateResponse, _>("/containers/create", &query, Some(req)).await?
        }
        other => other?,
    };
    for w in &resp.warnings {
        eprintln!("WARNING: {w}");
    }
    Ok(resp.id)
}

/// `POST /images/create?fromImage=..&tag=..`, progress to stderr.
pub async fn pull(client: &Client, reference: &Reference) -> anyhow::Result<()> {
    let mut q = Query::new().add("fromImage", reference.name.clone());
    if let Some(d) = &reference.digest {
        q = q.add("tag", d.clone());
    } else if let Some(t) = &reference.tag {
        q = q.add("tag", t.clone());
    }
    let stream = crate::commands::pull::send(client, reference, &q).await?;
    jsonmessage::display(stream, &mut std::io::stderr()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    #[command(disable_help_flag = true)]
    struct T {
        #[command(flatten)]
        opts: ContainerOptions,
    }

    fn parse(args: &[&str]) -> ContainerOptions {
        T::try_parse_from(std::iter::once("t").chain(args.iter().copied())).unwrap().opts
    }

    #[test]
    fn builds_create_body() {
        let o = parse(&["-e", "A=1", "-l", "x=y", "--name", "n", "-w", "/tmp", "--init", "busybox", "ls", "-l"]);
        let r = o.to_request().unwrap();
        assert_eq!(r.config.image, "busybox");
        assert_eq!(r.config.cmd, Some(vec!["ls".to_string(), "-l".to_string()]));
        assert_eq!(r.config.env, vec!["A=1"]);
        assert_eq!(r.config.labels.get("x").map(String::as_str), Some("y"));
        assert!(r.config.attach_stdout && r.config.attach_stderr && !r.config.attach_stdin);
        assert_eq!(r.host_config.init, Some(true));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["HostConfig"]["NetworkMode"], "default");
        assert_eq!(v["WorkingDir"], "/tmp");
        assert_eq!(v["Entrypoint"], serde_json::Value::Null);
    }

    #[test]
    fn attach_and_stdin_flags() {
        let r = parse(&["-i", "-a", "stdout", "busybox"]).to_request().unwrap();
        assert!(r.config.attach_stdin && r.config.attach_stdout && !r.config.attach_stderr);
        assert!(r.config.open_stdin && r.config.stdin_once);
        assert!(parse(&["-a", "bogus", "busybox"]).to_request().is_err());
        let r = parse(&["--entrypoint", "", "busybox"]).to_request().unwrap();
        assert_eq!(r.config.entrypoint, Some(vec![String::new()]));
    }

    #[test]
    fn restart_policies() {
        assert_eq!(parse_restart("on-failure:3").unwrap().maximum_retry_count, 3);
        assert!(parse_restart("always:3").is_err());
        assert!(parse_restart("sometimes").is_err());
        assert!(parse_restart("on-failure:x").is_err());
        assert!(parse(&["--rm", "--restart", "always", "busybox"]).to_request().is_err());
    }
}
