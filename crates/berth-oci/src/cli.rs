//! The command line: the subset of runc's that berth's shim uses.
//!
//!   berth-oci [--root DIR] [--log FILE] [--log-format json|text] COMMAND
//!     create --bundle DIR [--console-socket SOCK] [--pid-file FILE] ID
//!     start ID
//!     exec --process FILE [--console-socket SOCK] [--detach] [--pid-file FILE] ID
//!     kill [--all|-a] ID [SIGNAL]
//!     delete [--force|-f] ID
//!     state ID
//!     pause ID | resume ID
//!     ps --format json ID
//!     update --resources FILE|- ID
//!
//! Flags take `--flag value` or `--flag=value`, as Go's flag package does.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Where runc keeps state by default is /run/runc; ours is beside it.
pub const DEFAULT_ROOT: &str = "/run/berth-oci";

#[derive(Debug, PartialEq, Eq)]
pub struct Cli {
    pub root: PathBuf,
    pub log: Option<PathBuf>,
    pub command: Command,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Create {
        bundle: PathBuf,
        console_socket: Option<PathBuf>,
        pid_file: Option<PathBuf>,
        id: String,
    },
    Exec {
        process: PathBuf,
        console_socket: Option<PathBuf>,
        detach: bool,
        pid_file: Option<PathBuf>,
        id: String,
    },
    Pause {
        id: String,
    },
    Resume {
        id: String,
    },
    /// `ps --format json`: the container's host pids as a JSON array.
    Ps {
        id: String,
    },
    /// `update --resources`: OCI LinuxResources JSON from a file, or stdin for `-`.
    Update {
        resources: PathBuf,
        id: String,
    },
    Start {
        id: String,
    },
    Kill {
        id: String,
        signal: String,
        all: bool,
    },
    Delete {
        id: String,
        force: bool,
    },
    State {
        id: String,
    },
    Version,
}

/// Splits `--flag=value` and `--flag value`; `args` yields the words after `flag`.
fn flag_value(
    flag: &str,
    inline: Option<&str>,
    args: &mut impl Iterator<Item = String>,
) -> Result<String> {
    match inline {
        Some(v) => Ok(v.to_string()),
        None => args
            .next()
            .ok_or_else(|| Error::Usage(format!("flag needs an argument: {flag}"))),
    }
}

/// A boolean flag may be given as `--force` or `--force=true|false`.
fn flag_bool(flag: &str, inline: Option<&str>) -> Result<bool> {
    match inline {
        None | Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(v) => Err(Error::Usage(format!(
            "invalid boolean value {v:?} for flag {flag}"
        ))),
    }
}

/// `-x`, `--x`, `--x=v` → ("x", Some("v")); anything else is not a flag.
fn split_flag(word: &str) -> Option<(&str, Option<&str>)> {
    let body = word
        .strip_prefix("--")
        .or_else(|| word.strip_prefix('-'))
        .filter(|b| !b.is_empty() && !b.starts_with('-'))?;
    Some(match body.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (body, None),
    })
}

pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Cli> {
    let mut args = args.into_iter();
    let mut root = PathBuf::from(DEFAULT_ROOT);
    let mut log = None;
    let command = loop {
        let word = args
            .next()
            .ok_or_else(|| Error::Usage("no command given".into()))?;
        let Some((flag, inline)) = split_flag(&word) else {
            break word;
        };
        match flag {
            "root" => root = PathBuf::from(flag_value(flag, inline, &mut args)?),
            "log" => log = Some(PathBuf::from(flag_value(flag, inline, &mut args)?)),
            "log-format" => {
                let f = flag_value(flag, inline, &mut args)?;
                if f != "json" && f != "text" {
                    return Err(Error::Usage(format!("invalid log format {f:?}")));
                }
            }
            "version" | "v" => break "--version".to_string(),
            _ => {
                return Err(Error::Usage(format!(
                    "flag provided but not defined: -{flag}"
                )))
            }
        }
    };
    if root.as_os_str().is_empty() {
        return Err(Error::Usage("--root must not be empty".into()));
    }
    let command = match command.as_str() {
        "create" => parse_create(args)?,
        "exec" => parse_exec(args)?,
        "pause" => Command::Pause {
            id: one_id(parse_words(args, &[])?.1)?,
        },
        "resume" => Command::Resume {
            id: one_id(parse_words(args, &[])?.1)?,
        },
        "ps" => parse_ps(args)?,
        "update" => parse_update(args)?,
        "start" => Command::Start {
            id: one_id(parse_words(args, &[])?.1)?,
        },
        "state" => Command::State {
            id: one_id(parse_words(args, &[])?.1)?,
        },
        "delete" => {
            let (force, rest) = parse_words(args, &["force", "f"])?;
            Command::Delete {
                id: one_id(rest)?,
                force,
            }
        }
        "kill" => {
            let (all, mut rest) = parse_words(args, &["all", "a"])?;
            if rest.is_empty() || rest.len() > 2 {
                return Err(Error::Usage("kill takes ID [SIGNAL]".into()));
            }
            let signal = if rest.len() == 2 {
                rest.remove(1)
            } else {
                "SIGTERM".to_string()
            };
            Command::Kill {
                id: rest.remove(0),
                signal,
                all,
            }
        }
        "--version" | "version" => Command::Version,
        other => return Err(Error::Usage(format!("unknown command {other:?}"))),
    };
    Ok(Cli { root, log, command })
}

/// The flags of `create`, `exec`, `ps` and `update`, and the other words.
#[derive(Default)]
struct Opts {
    bundle: Option<PathBuf>,
    console_socket: Option<PathBuf>,
    pid_file: Option<PathBuf>,
    process: Option<PathBuf>,
    resources: Option<PathBuf>,
    format: Option<String>,
    detach: bool,
    rest: Vec<String>,
}

/// Parses `args` accepting only the flags in `allowed` (long spellings).
fn parse_opts(args: impl Iterator<Item = String>, allowed: &[&str]) -> Result<Opts> {
    let mut args = args.peekable();
    let mut o = Opts::default();
    while let Some(word) = args.next() {
        let Some((f, inline)) = split_flag(&word) else {
            o.rest.push(word);
            continue;
        };
        let long = match f {
            "b" => "bundle",
            "p" => "process",
            "d" => "detach",
            "r" => "resources",
            "f" => "format",
            other => other,
        };
        if !allowed.contains(&long) {
            return Err(Error::Usage(format!("flag provided but not defined: -{f}")));
        }
        let mut path = || -> Result<Option<PathBuf>> {
            let v = flag_value(f, inline, &mut args)?;
            if v.is_empty() {
                return Err(Error::Usage(format!("--{long} must not be empty")));
            }
            Ok(Some(PathBuf::from(v)))
        };
        match long {
            "bundle" => o.bundle = path()?,
            "console-socket" => o.console_socket = path()?,
            "pid-file" => o.pid_file = path()?,
            "process" => o.process = path()?,
            "resources" => o.resources = path()?,
            "format" => o.format = Some(flag_value(f, inline, &mut args)?),
            "detach" => o.detach = flag_bool(f, inline)?,
            _ => return Err(Error::Usage(format!("flag provided but not defined: -{f}"))),
        }
    }
    Ok(o)
}

fn parse_create(args: impl Iterator<Item = String>) -> Result<Command> {
    let o = parse_opts(args, &["bundle", "console-socket", "pid-file"])?;
    Ok(Command::Create {
        // runc's default bundle is the current directory.
        bundle: o.bundle.unwrap_or_else(|| PathBuf::from(".")),
        console_socket: o.console_socket,
        pid_file: o.pid_file,
        id: one_id(o.rest)?,
    })
}

/// Only the process-file form of runc's exec: berth always writes one.
fn parse_exec(args: impl Iterator<Item = String>) -> Result<Command> {
    let o = parse_opts(args, &["process", "console-socket", "detach", "pid-file"])?;
    let process = o
        .process
        .ok_or_else(|| Error::Usage("exec needs --process FILE".into()))?;
    Ok(Command::Exec {
        process,
        console_socket: o.console_socket,
        detach: o.detach,
        pid_file: o.pid_file,
        id: one_id(o.rest)?,
    })
}

fn parse_ps(args: impl Iterator<Item = String>) -> Result<Command> {
    let o = parse_opts(args, &["format"])?;
    match o.format.as_deref() {
        Some("json") => {}
        f => {
            return Err(Error::Usage(format!(
                "unsupported ps format {:?}: only json",
                f.unwrap_or("table")
            )))
        }
    }
    Ok(Command::Ps { id: one_id(o.rest)? })
}

fn parse_update(args: impl Iterator<Item = String>) -> Result<Command> {
    let o = parse_opts(args, &["resources"])?;
    let resources = o
        .resources
        .ok_or_else(|| Error::Usage("update needs --resources FILE|-".into()))?;
    Ok(Command::Update {
        resources,
        id: one_id(o.rest)?,
    })
}

/// Whether the boolean flag (any spelling in `allowed`) is on, and the
/// other words in order; the last spelling given wins, as in Go.
fn parse_words(
    args: impl Iterator<Item = String>,
    allowed: &[&str],
) -> Result<(bool, Vec<String>)> {
    let mut on = false;
    let mut rest = Vec::new();
    for word in args {
        match split_flag(&word) {
            // A signal like -9 is a word, not a flag.
            Some((f, _)) if f.chars().all(|c| c.is_ascii_digit()) => rest.push(word),
            Some((f, inline)) if allowed.contains(&f) => on = flag_bool(f, inline)?,
            Some((f, _)) => {
                return Err(Error::Usage(format!("flag provided but not defined: -{f}")))
            }
            None => rest.push(word),
        }
    }
    Ok((on, rest))
}

fn one_id(mut rest: Vec<String>) -> Result<String> {
    match rest.len() {
        1 => Ok(rest.remove(0)),
        0 => Err(Error::Usage("container id cannot be empty".into())),
        n => Err(Error::Usage(format!(
            "expected one container id, got {n} arguments"
        ))),
    }
}

/// runc's rule for ids: `^[\w+\-.]+$`, and not `.` or `..` (it names a
/// directory under the root).
pub fn validate_id(id: &str) -> Result<()> {
    let bad = |why| {
        Err(Error::InvalidId {
            id: id.to_string(),
            why,
        })
    };
    if id.is_empty() {
        return bad("empty");
    }
    if id == "." || id == ".." {
        return bad("not a file name");
    }
    if id.len() > 1024 {
        return bad("too long");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.'))
    {
        return bad("only letters, digits and _ + - . are allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(words: &[&str]) -> Result<Cli> {
        parse(words.iter().map(|s| s.to_string()))
    }

    #[test]
    fn shim_create_line() {
        let cli = p(&[
            "--root",
            "/r",
            "--log",
            "/l.json",
            "--log-format",
            "json",
            "create",
            "--bundle",
            "/b",
            "--pid-file",
            "/p",
            "abc",
        ])
        .expect("parse");
        assert_eq!(cli.root, PathBuf::from("/r"));
        assert_eq!(cli.log, Some(PathBuf::from("/l.json")));
        assert_eq!(
            cli.command,
            Command::Create {
                bundle: "/b".into(),
                console_socket: None,
                pid_file: Some("/p".into()),
                id: "abc".into()
            }
        );
    }

    #[test]
    fn equals_form_and_defaults() {
        let cli = p(&["--root=/r", "create", "--bundle=/b", "x"]).expect("parse");
        assert_eq!(cli.root, PathBuf::from("/r"));
        assert_eq!(cli.log, None);
        assert_eq!(
            cli.command,
            Command::Create {
                bundle: "/b".into(),
                console_socket: None,
                pid_file: None,
                id: "x".into()
            }
        );
        let cli = p(&["state", "x"]).expect("parse");
        assert_eq!(cli.root, PathBuf::from(DEFAULT_ROOT));
    }

    #[test]
    fn delete_kill_start_state() {
        assert_eq!(
            p(&["--root", "/r", "delete", "--force", "x"])
                .expect("parse")
                .command,
            Command::Delete {
                id: "x".into(),
                force: true
            }
        );
        assert_eq!(
            p(&["delete", "x"]).expect("parse").command,
            Command::Delete {
                id: "x".into(),
                force: false
            }
        );
        assert_eq!(
            p(&["delete", "-f=false", "x"]).expect("parse").command,
            Command::Delete {
                id: "x".into(),
                force: false
            }
        );
        assert_eq!(
            p(&["kill", "x", "KILL"]).expect("parse").command,
            Command::Kill {
                id: "x".into(),
                signal: "KILL".into(),
                all: false
            }
        );
        assert_eq!(
            p(&["kill", "--all", "x"]).expect("parse").command,
            Command::Kill {
                id: "x".into(),
                signal: "SIGTERM".into(),
                all: true
            }
        );
        assert_eq!(
            p(&["start", "x"]).expect("parse").command,
            Command::Start { id: "x".into() }
        );
        assert_eq!(
            p(&["state", "x"]).expect("parse").command,
            Command::State { id: "x".into() }
        );
        assert_eq!(p(&["--version"]).expect("parse").command, Command::Version);
    }

    #[test]
    fn shim_and_daemon_lines() {
        let cli = p(&[
            "--root", "/r", "--log", "/l", "--log-format", "json", "exec", "--process", "/p.json",
            "--console-socket", "/s", "--detach", "--pid-file", "/pid", "c1",
        ])
        .expect("parse");
        assert_eq!(
            cli.command,
            Command::Exec {
                process: "/p.json".into(),
                console_socket: Some("/s".into()),
                detach: true,
                pid_file: Some("/pid".into()),
                id: "c1".into()
            }
        );
        assert_eq!(
            p(&["exec", "-p=/p", "c"]).expect("parse").command,
            Command::Exec {
                process: "/p".into(),
                console_socket: None,
                detach: false,
                pid_file: None,
                id: "c".into()
            }
        );
        assert_eq!(
            p(&["create", "--bundle", "/b", "--console-socket", "/s", "c"])
                .expect("parse")
                .command,
            Command::Create {
                bundle: "/b".into(),
                console_socket: Some("/s".into()),
                pid_file: None,
                id: "c".into()
            }
        );
        assert_eq!(p(&["pause", "c"]).expect("parse").command, Command::Pause { id: "c".into() });
        assert_eq!(p(&["resume", "c"]).expect("parse").command, Command::Resume { id: "c".into() });
        assert_eq!(
            p(&["ps", "--format", "json", "c"]).expect("parse").command,
            Command::Ps { id: "c".into() }
        );
        assert_eq!(
            p(&["update", "--resources", "-", "c"]).expect("parse").command,
            Command::Update { resources: "-".into(), id: "c".into() }
        );
    }

    #[test]
    fn bad_command_lines() {
        for bad in [
            &[][..],
            &["--root"],
            &["--root", ""],
            &["--bogus", "create"],
            &["--log-format", "xml", "state", "x"],
            &["frobnicate", "x"],
            &["start"],
            &["start", "a", "b"],
            &["create", "--bundle"],
            &["create", "--bundle", "", "x"],
            &["create", "--console-socket", "", "x"],
            &["create", "--tty", "x"],
            &["exec", "x"],
            &["exec", "--process"],
            &["exec", "--process", "/p"],
            &["exec", "--process", "/p", "--detach=maybe", "x"],
            &["exec", "--process", "/p", "--user", "0", "x"],
            &["exec", "--process", "/p", "x", "sh"],
            &["pause"],
            &["resume", "a", "b"],
            &["ps", "x"],
            &["ps", "--format", "table", "x"],
            &["ps", "--format", "json"],
            &["update", "x"],
            &["update", "--resources", "-"],
            &["update", "--memory", "1m", "x"],
            &["kill"],
            &["kill", "a", "b", "c"],
            &["delete", "--force=maybe", "x"],
            &["delete", "--recursive", "x"],
        ] {
            assert!(p(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn ids() {
        for ok in ["abc", "A-b_c.d+e", "0123456789abcdef"] {
            validate_id(ok).expect(ok);
        }
        for bad in ["", ".", "..", "../x", "a/b", "a b", "é", "x\0y", "-\n"] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
        assert!(validate_id(&"a".repeat(2000)).is_err());
    }
}
