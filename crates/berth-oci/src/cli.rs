//! The command line: the subset of runc's that berth's shim uses.
//!
//!   berth-oci [--root DIR] [--log FILE] [--log-format json|text] COMMAND
//!     create --bundle DIR [--pid-file FILE] ID
//!     start ID
//!     kill [--all|-a] ID [SIGNAL]
//!     delete [--force|-f] ID
//!     state ID
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
        pid_file: Option<PathBuf>,
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

fn parse_create(args: impl Iterator<Item = String>) -> Result<Command> {
    let mut args = args.peekable();
    let mut bundle = None;
    let mut pid_file = None;
    let mut rest = Vec::new();
    while let Some(word) = args.next() {
        match split_flag(&word) {
            Some((f @ ("bundle" | "b"), inline)) => {
                bundle = Some(PathBuf::from(flag_value(f, inline, &mut args)?))
            }
            Some((f @ "pid-file", inline)) => {
                pid_file = Some(PathBuf::from(flag_value(f, inline, &mut args)?))
            }
            Some((f, _)) => {
                return Err(Error::Usage(format!("flag provided but not defined: -{f}")))
            }
            None => rest.push(word),
        }
    }
    // runc's default bundle is the current directory.
    let bundle = match bundle {
        Some(b) if !b.as_os_str().is_empty() => b,
        Some(_) => return Err(Error::Usage("--bundle must not be empty".into())),
        None => PathBuf::from("."),
    };
    Ok(Command::Create {
        bundle,
        pid_file,
        id: one_id(rest)?,
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
            &["create", "--console-socket", "/s", "x"],
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
