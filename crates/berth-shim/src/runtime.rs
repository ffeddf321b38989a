//! Running the OCI runtime binary (runc-compatible command line) and turning
//! its failures into one-line messages from its JSON log.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::args::Config;
use crate::error::{Error, Result};

/// The container's stdio as handed to `runtime create`.
pub struct CreateStdio {
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
}

pub struct Runtime<'a> {
    cfg: &'a Config,
    log: PathBuf,
}

impl<'a> Runtime<'a> {
    pub fn new(cfg: &'a Config) -> Self {
        Runtime {
            cfg,
            log: cfg.state_file("runtime.log"),
        }
    }

    /// `console`: the console socket for a container with a terminal.
    pub fn create(&self, stdio: CreateStdio, console: Option<&Path>) -> Result<()> {
        let mut cmd = self.command(true);
        cmd.arg("create").arg("--bundle").arg(&self.cfg.bundle);
        if let Some(sock) = console {
            cmd.arg("--console-socket").arg(sock);
        }
        cmd
            .arg("--pid-file")
            .arg(self.cfg.state_file("init.pid"))
            .arg(&self.cfg.id)
            .stdin(stdio.stdin)
            .stdout(stdio.stdout)
            .stderr(stdio.stderr);
        self.run(cmd, "create")
    }

    /// Starts `runtime exec -d` for the process in `exec.process` and returns
    /// at once; the caller watches the child and reads `exec.pid_file` after
    /// it exited successfully. The runtime's stdio goes to the process.
    pub fn spawn_exec(&self, exec: &ExecFiles, stdio: CreateStdio) -> Result<Child> {
        let mut cmd = Command::new(&self.cfg.runtime);
        cmd.arg("--root")
            .arg(&self.cfg.runtime_root)
            .arg("--log")
            .arg(&exec.log)
            .args(["--log-format", "json", "exec", "--process"])
            .arg(&exec.process);
        if let Some(sock) = &exec.console {
            cmd.arg("--console-socket").arg(sock);
        }
        cmd.arg("--detach")
            .arg("--pid-file")
            .arg(&exec.pid_file)
            .arg(&self.cfg.id)
            .stdin(stdio.stdin)
            .stdout(stdio.stdout)
            .stderr(stdio.stderr);
        let child = cmd
            .spawn()
            .map_err(|e| Error::io(format!("run {}", self.cfg.runtime.display()), e));
        // Drop our copies of the process's pipe ends now.
        drop(cmd);
        child
    }

    pub fn start(&self) -> Result<()> {
        let mut cmd = self.command(true);
        cmd.arg("start")
            .arg(&self.cfg.id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.run(cmd, "start")
    }

    /// Removes the container's runtime state; failures are not interesting
    /// because the container is gone either way.
    pub fn delete(&self) {
        let mut cmd = self.command(false);
        cmd.args(["delete", "--force"]).arg(&self.cfg.id);
        let _ = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    fn command(&self, with_log: bool) -> Command {
        let mut cmd = Command::new(&self.cfg.runtime);
        cmd.arg("--root").arg(&self.cfg.runtime_root);
        if with_log {
            cmd.arg("--log")
                .arg(&self.log)
                .args(["--log-format", "json"]);
        }
        cmd
    }

    /// Runs `cmd` to completion (its Command is dropped here, closing any
    /// pipe ends it held); on failure the error is the runtime's last logged error.
    fn run(&self, mut cmd: Command, what: &str) -> Result<()> {
        let offset = std::fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0);
        let status = cmd
            .status()
            .map_err(|e| Error::io(format!("run {}", self.cfg.runtime.display()), e));
        drop(cmd);
        let status = status?;
        if status.success() {
            return Ok(());
        }
        let logged = read_from(&self.log, offset).and_then(|t| last_error_msg(&t));
        Err(Error::Runtime(logged.unwrap_or_else(|| {
            format!("runtime {what} failed: {status}")
        })))
    }
}

/// The files of one `runtime exec`.
pub struct ExecFiles {
    pub process: PathBuf,
    pub pid_file: PathBuf,
    pub log: PathBuf,
    pub console: Option<PathBuf>,
}

/// Why a `runtime exec` failed, from its log (or its exit status).
pub fn exec_failure(log: &Path, status: std::process::ExitStatus) -> String {
    read_from(log, 0)
        .and_then(|t| last_error_msg(&t))
        .unwrap_or_else(|| format!("runtime exec failed: {status}"))
}

fn read_from(path: &std::path::Path, offset: u64) -> Option<String> {
    let mut f = File::open(path).ok()?;
    f.seek(SeekFrom::Start(offset)).ok()?;
    let mut buf = Vec::new();
    // The log is the runtime's; bound what we read of it.
    f.take(1 << 20).read_to_end(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// The `msg` of the last `"level":"error"` line, flattened to one line.
pub fn last_error_msg(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .filter(|l| json_string_field(l, "level").as_deref() == Some("error"))
        .find_map(|l| json_string_field(l, "msg"))
        .map(|m| m.replace(['\n', '\r'], " "))
}

/// Finds `"key":"value"` in a one-line JSON object and decodes the value.
/// Not a JSON parser: good enough for the runtime's flat log records.
fn json_string_field(line: &str, key: &str) -> Option<String> {
    let needle = format!("\"{key}\":\"");
    let start = line.find(&needle)? + needle.len();
    decode_json_string(&line[start..])
}

/// Decodes a JSON string body up to its closing quote.
fn decode_json_string(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let unit = u32::from_str_radix(&hex, 16).ok()?;
                    // Surrogate pairs arrive as two escapes; a lone half becomes U+FFFD.
                    let c = if (0xD800..0xDC00).contains(&unit) {
                        let rest = chars.as_str();
                        match rest.strip_prefix("\\u").and_then(|r| r.get(..4)) {
                            Some(lo) => match u32::from_str_radix(lo, 16) {
                                Ok(lo @ 0xDC00..=0xDFFF) => {
                                    chars = rest[6..].chars();
                                    char::from_u32(
                                        0x10000 + ((unit - 0xD800) << 10) + (lo - 0xDC00),
                                    )
                                }
                                _ => None,
                            },
                            None => None,
                        }
                    } else {
                        char::from_u32(unit)
                    };
                    out.push(c.unwrap_or('\u{FFFD}'));
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_last_error_line() {
        let log = concat!(
            "{\"level\":\"warning\",\"msg\":\"meh\",\"time\":\"t\"}\n",
            "{\"level\":\"error\",\"msg\":\"first\",\"time\":\"t\"}\n",
            "{\"level\":\"error\",\"msg\":\"exec: \\\"/nonexistent\\\": stat\\nx\",\"time\":\"t\"}\n",
            "{\"level\":\"info\",\"msg\":\"later\"}\n",
        );
        assert_eq!(
            last_error_msg(log).as_deref(),
            Some("exec: \"/nonexistent\": stat x")
        );
    }

    #[test]
    fn no_error_line_gives_none() {
        assert_eq!(last_error_msg(""), None);
        assert_eq!(
            last_error_msg("garbage\n{\"level\":\"info\",\"msg\":\"x\"}"),
            None
        );
        // msg not terminated
        assert_eq!(last_error_msg("{\"level\":\"error\",\"msg\":\"abc"), None);
    }

    #[test]
    fn decodes_escapes() {
        assert_eq!(
            decode_json_string("a\\u00e9\\/\\\\\"").as_deref(),
            Some("a\u{e9}/\\")
        );
        assert_eq!(
            decode_json_string("\\ud83d\\ude00\"").as_deref(),
            Some("\u{1F600}")
        );
        assert_eq!(
            decode_json_string("\\ud83dx\"").as_deref(),
            Some("\u{FFFD}x")
        );
        assert_eq!(
            decode_json_string("\\ud83d\\u0041\"").as_deref(),
            Some("\u{FFFD}A")
        );
        assert_eq!(decode_json_string("\\uzz\"").as_deref(), None);
        assert_eq!(decode_json_string("\\u12"), None);
        assert_eq!(decode_json_string("\\"), None);
        assert_eq!(decode_json_string("\\u\u{e9}\u{e9}\u{e9}\u{e9}\""), None);
    }
}
