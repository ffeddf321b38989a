//! `berth run`: create, attach, wait, start, stream, exit with the
//! container's status, in the order the docker CLI does them.

use super::create::{create_container, report_error, ContainerOptions};
use crate::exit::{describe_any, StatusError};
use crate::{stdio, terminal};
use berth_client::{segment, Client, Query};

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,
    /// Proxy received signals to the process
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    #[command(flatten)]
    pub opts: ContainerOptions,
}

/// docker's `runStartContainerErr`: 127 for a missing executable, 126 for
/// one that cannot be run, 125 for any other engine error.
pub fn start_error_code(message: &str) -> i32 {
    let m = message.trim_start_matches("Error response from daemon: ");
    if m.contains("executable file not found") || m.contains("no such file or directory") || m.contains("system cannot find the file specified") {
        127
    } else if m.contains("permission denied") || m.contains("is a directory") {
        126
    } else {
        125
    }
}

pub async fn run(client: &Client, args: RunArgs) -> anyhow::Result<()> {
    let opts = &args.opts;
    let mut req = opts.to_request().map_err(|e| report_error("run", &e, true, 125))?;
    if args.detach {
        if !opts.attach.is_empty() {
            anyhow::bail!("Conflicting options: -a and -d");
        }
        req.config.attach_stdin = false;
        req.config.attach_stdout = false;
        req.config.attach_stderr = false;
        req.config.stdin_once = false;
    }
    let config = req.config.clone();
    if let Err(e) = terminal::check_tty(config.attach_stdin, config.tty) {
        return Err(StatusError::with_message(1, e.to_string()).into());
    }
    if config.tty && terminal::stdout_is_terminal() {
        if let Some((h, w)) = terminal::size() {
            req.host_config.extra.insert("ConsoleSize".into(), serde_json::json!([h, w]));
        }
    }

    let id = match create_container(client, &req, opts.name.as_deref(), &opts.pull).await {
        Ok(id) => id,
        Err(e) => {
            let msg = describe_any(&e);
            return Err(report_error("run", &msg, true, start_error_code(&msg)));
        }
    };
    start_and_follow(client, &id, &config, opts.rm, args.detach_keys.as_deref()).await
}

/// After create (`berth run`, `berth compose run`): attach, wait, start,
/// stream, then exit with the container's status; a container without
/// attached output has its ID printed and is left running. `rm`: the
/// container was created with `AutoRemove`, so the wait is for its removal.
pub async fn start_and_follow(
    client: &Client,
    id: &str,
    config: &berth_api::container::ContainerConfig,
    rm: bool,
    detach_keys: Option<&str>,
) -> anyhow::Result<()> {
    let show_id = !config.attach_stdout && !config.attach_stderr;
    if show_id {
        println!("{id}");
    }

    let path = segment(id);
    let attached = config.attach_stdin || config.attach_stdout || config.attach_stderr;
    let streams = if attached {
        let q = Query::new()
            .flag("stream", true)
            .flag("stdin", config.attach_stdin)
            .flag("stdout", config.attach_stdout)
            .flag("stderr", config.attach_stderr)
            .non_empty("detachKeys", detach_keys.unwrap_or(""));
        let hijacked = client.hijack(&format!("/containers/{path}/attach"), &q).await?;
        let keys = stdio::detach_keys(detach_keys);
        Some(tokio::spawn(stdio::stream_attach(hijacked, config.attach_stdin, config.tty, keys)))
    } else {
        None
    };
    // Raw mode from here to the end of the session, restored on every return.
    let _raw = (config.tty && config.attach_stdin).then(terminal::RawMode::enable).flatten();

    // A detached run without --rm never reads the exit: no wait request
    // (docker's CLI sends one anyway; it costs a connection per run -d).
    let condition = if rm { "removed" } else { "next-exit" };
    let waiter = if show_id && !attached && !rm {
        None
    } else {
        Some(client.wait(id, condition).await)
    };

    if let Err(e) = client.post(&format!("/containers/{path}/start"), &Query::new()).await {
        if let Some(s) = &streams {
            s.abort();
        }
        let msg = crate::exit::describe(&e);
        eprintln!("berth: {}.", msg.trim_end_matches('.'));
        if rm {
            if let Some(Ok(w)) = waiter {
                let _ = w.result().await;
            }
        }
        return Err(StatusError::code(start_error_code(&msg)).into());
    }

    if let Some(s) = streams {
        let ended = terminal::follow_attach(client, format!("/containers/{path}/resize"), config.tty, s).await;
        if ended? == stdio::Ended::Detached {
            return Ok(());
        }
    }
    if show_id {
        return Ok(());
    }
    let status = match waiter {
        Some(w) => wait_status(w).await,
        None => 0,
    };
    if status != 0 {
        return Err(StatusError::code(status).into());
    }
    Ok(())
}

/// The exit status from a wait, or 125 when waiting failed (docker's
/// `waitExitOrRemoved`).
pub async fn wait_status(waiter: Result<berth_client::WaitHandle, berth_client::ClientError>) -> i32 {
    let result = match waiter {
        Ok(w) => w.result().await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => match r.error {
            Some(e) => {
                eprintln!("Error waiting for container: {}", e.message);
                125
            }
            None => i32::try_from(r.status_code).unwrap_or(125),
        },
        Err(e) => {
            eprintln!("error waiting for container: {}", crate::exit::describe(&e));
            125
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_errors_map_to_docker_codes() {
        assert_eq!(start_error_code("Error response from daemon: exec: \"nope\": executable file not found in $PATH"), 127);
        assert_eq!(start_error_code("open /x: no such file or directory"), 127);
        assert_eq!(start_error_code("exec /etc: permission denied"), 126);
        assert_eq!(start_error_code("No such image: x"), 125);
    }
}
