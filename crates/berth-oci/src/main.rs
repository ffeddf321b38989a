//! berth-oci: a runc-compatible OCI runtime command line built on youki's
//! libcontainer. It implements the subset berth's shim uses (see cli.rs);
//! errors go to `--log` as runc's JSON lines, so the shim reports them.

mod cgroup;
mod cli;
mod container;
mod create;
mod cwd;
mod errlog;
mod error;
mod exec;
mod executor;
mod seccomp_cache;

use cli::Command;
use error::Result;

/// Runs the command; Ok carries the exit status (non-zero only for a
/// non-detached `exec` whose process failed).
fn run(cli: &cli::Cli) -> Result<i32> {
    let root = cli.root.as_path();
    let done = |r: Result<()>| r.map(|()| 0);
    match &cli.command {
        Command::Create {
            bundle,
            console_socket,
            pid_file,
            id,
        } => done(create::create(
            root,
            bundle,
            console_socket.as_deref(),
            pid_file.as_deref(),
            id,
        )),
        Command::Exec {
            process,
            console_socket,
            detach,
            pid_file,
            id,
        } => exec::exec(
            root,
            id,
            &exec::ExecOpts {
                process,
                console_socket: console_socket.as_deref(),
                detach: *detach,
                pid_file: pid_file.as_deref(),
            },
        ),
        Command::Pause { id } => done(cgroup::pause(root, id)),
        Command::Resume { id } => done(cgroup::resume(root, id)),
        Command::Ps { id } => {
            println!("{}", cgroup::ps(root, id)?);
            Ok(0)
        }
        Command::Update { resources, id } => done(cgroup::update(root, id, resources)),
        Command::Start { id } => done(container::start(root, id)),
        Command::Kill { id, signal, all } => done(container::kill(root, id, signal, *all)),
        Command::Delete { id, force } => done(container::delete(root, id, *force)),
        Command::State { id } => {
            println!("{}", container::state(root, id)?);
            Ok(0)
        }
        Command::Version => {
            println!(
                "berth-oci version {}\nspec: 1.2.0",
                env!("CARGO_PKG_VERSION")
            );
            Ok(0)
        }
    }
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Create { .. } => "create",
        Command::Start { .. } => "start",
        Command::Exec { .. } => "exec",
        Command::Pause { .. } => "pause",
        Command::Resume { .. } => "resume",
        Command::Ps { .. } => "ps",
        Command::Update { .. } => "update",
        Command::Kill { .. } => "kill",
        Command::Delete { .. } => "delete",
        Command::State { .. } => "state",
        Command::Version => "version",
    }
}

fn main() {
    abort_on_panic();
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Find --log even when the rest of the line is bad, so the caller still
    // gets the error where it looks.
    let cli = match cli::parse(args.clone()) {
        Ok(c) => c,
        Err(e) => {
            let log = args
                .iter()
                .position(|a| a == "--log")
                .and_then(|i| args.get(i + 1))
                .map(std::path::PathBuf::from);
            errlog::report(log.as_deref(), &e.to_string());
            std::process::exit(1);
        }
    };
    match run(&cli) {
        Ok(0) => {}
        Ok(code) => std::process::exit(code),
        Err(e) => {
            let msg = match (&cli.command, &e) {
                // runc's words for an exec that cannot start, which dockerd
                // passes on ("OCI runtime exec failed: exec failed: ...").
                (Command::Exec { .. }, error::Error::Container { source, .. }) => {
                    format!("exec failed: {}", error::describe(source))
                }
                _ => format!("berth-oci {} failed: {e}", command_name(&cli.command)),
            };
            errlog::report(cli.log.as_deref(), &msg);
            std::process::exit(1);
        }
    }
}

/// The workspace builds with `panic = "unwind"` for berthd's sake; the
/// runtime keeps abort's semantics, above all in the processes it forks
/// (an unwind there would run the parent's destructors in the child). The
/// default hook prints the message first.
fn abort_on_panic() {
    let print = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        print(info);
        std::process::abort();
    }));
}
