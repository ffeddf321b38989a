//! `berth exec`: run a command in a running container, with its exit code.

use crate::exit::StatusError;
use crate::{envfile, stdio, terminal};
use berth_api::container::ContainerInspect;
use berth_api::exec::{ExecConfig, ExecInspect, ExecStartConfig, IdResponse};
use berth_client::{segment, Client, Query};

#[derive(clap::Args, Debug)]
#[command(trailing_var_arg = true)]
pub struct Args {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Give extended privileges to the command
    #[arg(long)]
    pub privileged: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    pub container: String,
    #[arg(required = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

impl Args {
    fn config(&self) -> anyhow::Result<ExecConfig> {
        let mut env = Vec::new();
        for file in &self.env_file {
            let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("open {file}: {e}"))?;
            env.extend(envfile::parse_env_file(&text, envfile::env_lookup).map_err(anyhow::Error::msg)?);
        }
        for e in &self.env {
            env.push(envfile::expand_env_flag(e, envfile::env_lookup).map_err(anyhow::Error::msg)?);
        }
        let attach = !self.detach;
        Ok(ExecConfig {
            user: self.user.clone().unwrap_or_default(),
            privileged: self.privileged,
            tty: self.tty,
            console_size: None,
            attach_stdin: attach && self.interactive,
            attach_stdout: attach,
            attach_stderr: attach,
            detach: self.detach,
            detach_keys: self.detach_keys.clone().unwrap_or_default(),
            env: (!env.is_empty()).then_some(env),
            working_dir: self.workdir.clone().unwrap_or_default(),
            cmd: Some(self.command.clone()),
        })
    }
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let mut config = args.config()?;
    // "No such container" first, as docker does, then the TTY check, both
    // before an exec instance is created.
    let info: ContainerInspect = client.get_json(&format!("/containers/{}/json", segment(&args.container)), &Query::new()).await?;
    if !args.detach {
        terminal::check_tty(config.attach_stdin, config.tty)?;
    }
    let size = (config.tty && terminal::stdout_is_terminal()).then(terminal::size).flatten();
    config.console_size = size.map(|(h, w)| [u32::from(h), u32::from(w)]);
    let created: IdResponse =
        client.post_json(&format!("/containers/{}/exec", segment(&info.id)), &Query::new(), Some(&config)).await?;
    let path = format!("/exec/{}", segment(&created.id));
    let start = ExecStartConfig { detach: args.detach, tty: config.tty, console_size: config.console_size };
    if args.detach {
        let body = berth_client::RequestBody::Json(serde_json::to_vec(&start)?);
        client.bytes(berth_client::Method::POST, &format!("{path}/start"), &Query::new(), body).await?;
        return Ok(());
    }
    let hijacked = client.hijack_json(&format!("{path}/start"), &Query::new(), &start).await?;
    let keys = stdio::detach_keys(args.detach_keys.as_deref());
    let streams = tokio::spawn(stdio::stream_attach(hijacked, config.attach_stdin, config.tty, keys));
    let _raw = (config.tty && config.attach_stdin).then(terminal::RawMode::enable).flatten();
    let resizer = size.is_some().then(|| terminal::monitor_size(client, format!("{path}/resize")));
    let ended = match streams.await {
        Ok(r) => r,
        Err(e) => Err(anyhow::anyhow!("exec stream failed: {e}")),
    };
    if let Some(r) = &resizer {
        r.abort();
    }
    if ended? == stdio::Ended::Detached {
        return Ok(());
    }
    let inspect: ExecInspect = client.get_json(&format!("{path}/json"), &Query::new()).await?;
    match inspect.exit_code {
        Some(0) | None => Ok(()),
        Some(code) => Err(StatusError::code(i32::try_from(code).unwrap_or(1)).into()),
    }
}
