//! `berth compose exec SERVICE COMMAND...`: `berth exec` in replica
//! `--index` of a service, with Compose's defaults (stdin attached, a TTY
//! when stdin is a terminal unless `-T`); the exit status is the command's.

use super::Global;
use crate::commands::exec as cli_exec;
use berth_client::Client;

#[derive(clap::Args, Debug)]
#[command(trailing_var_arg = true)]
pub struct Args {
    /// Detached mode: Run command in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Index of the container if service has multiple replicas
    #[arg(long)]
    pub index: Option<u64>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub interactive: bool,
    /// Disable pseudo-TTY allocation. By default `compose exec` allocates a TTY
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Give extended privileges to the process
    #[arg(long)]
    pub privileged: bool,
    /// Run the command as this user
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Path to workdir directory for this command
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    pub service: String,
    #[arg(required = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// The `berth exec` arguments for container `id`; `stdin_tty`: whether
/// our stdin is a terminal.
pub fn exec_args(a: &Args, id: &str, stdin_tty: bool) -> cli_exec::Args {
    cli_exec::Args {
        detach: a.detach,
        detach_keys: None,
        env: a.env.clone(),
        env_file: Vec::new(),
        interactive: a.interactive && !a.detach,
        privileged: a.privileged,
        tty: !a.no_tty && stdin_tty,
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        container: id.to_string(),
        command: a.command.clone(),
    }
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = super::session::Session::load(client, global, std::slice::from_ref(&args.service))?;
    let c = super::target::pick(&s, &args.service, args.index, false).await?;
    cli_exec::run(client, exec_args(&args, &c.id, crate::terminal::stdin_is_terminal())).await
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

    #[test]
    fn compose_defaults() {
        let a = Cli::parse_from(["exec", "-e", "A=1", "web", "sh", "-c", "echo $A"]).args;
        assert_eq!(a.command, ["sh", "-c", "echo $A"]);
        let e = exec_args(&a, "id", true);
        assert!(e.tty && e.interactive);
        assert!(!exec_args(&a, "id", false).tty);
        let t = Cli::parse_from(["exec", "-T", "--index", "2", "web", "true"]).args;
        assert_eq!(t.index, Some(2));
        assert!(!exec_args(&t, "id", true).tty);
    }
}
