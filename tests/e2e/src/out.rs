//! One CLI invocation: how it is run (with a timeout) and its output.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long any single CLI invocation may take before it is killed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// The output of one CLI invocation.
#[derive(Debug, Clone)]
pub struct Out {
    /// What was run, for failure messages.
    pub cmd: String,
    /// Exit code; -1 when killed by a signal (or by the harness timeout).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    fn describe(&self) -> String {
        format!(
            "command: {}\nexit code: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmd, self.code, self.stdout, self.stderr
        )
    }

    /// Panics (printing everything) unless the exit code is 0.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success\n{}", self.describe());
        self
    }

    /// Panics unless the exit code is `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "expected exit code {code}\n{}", self.describe());
        self
    }

    /// Panics unless the command failed (any non-zero exit code).
    #[track_caller]
    pub fn assert_fail(&self) -> &Self {
        assert_ne!(self.code, 0, "expected failure\n{}", self.describe());
        self
    }

    /// Panics unless stdout, trimmed, equals `want`.
    #[track_caller]
    pub fn assert_stdout(&self, want: &str) -> &Self {
        assert_eq!(self.stdout.trim(), want.trim(), "unexpected stdout\n{}", self.describe());
        self
    }

    /// Panics unless stdout contains `needle`.
    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }

    /// Panics unless stderr contains `needle`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }

    /// Stdout with surrounding whitespace removed.
    pub fn out(&self) -> String {
        self.stdout.trim().to_string()
    }

    /// Non-empty stdout lines.
    pub fn lines(&self) -> Vec<String> {
        self.stdout
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }
}

/// Which client binary to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cli {
    Berth,
    Docker,
}

impl Cli {
    /// Both clients, for tests that run the same scenario twice.
    pub const BOTH: [Cli; 2] = [Cli::Berth, Cli::Docker];

    pub fn name(self) -> &'static str {
        match self {
            Cli::Berth => "berth",
            Cli::Docker => "docker",
        }
    }
}

/// Runs `cmd`, feeding `input` on stdin, with a timeout.
pub(crate) fn run_cmd(mut cmd: Command, label: String, input: Option<&[u8]>) -> Out {
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {label}: {e}"));
    let pid = child.id();
    if let Some(data) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(COMMAND_TIMEOUT) {
        Ok(r) => r.unwrap_or_else(|e| panic!("wait {label}: {e}")),
        Err(_) => {
            // SAFETY: kill(2) on the pid of the child we spawned and have not reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            let o = rx
                .recv_timeout(Duration::from_secs(5))
                .ok()
                .and_then(Result::ok);
            panic!(
                "{label} timed out after {COMMAND_TIMEOUT:?}\nstdout: {}\nstderr: {}",
                o.as_ref().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default(),
                o.as_ref().map(|o| String::from_utf8_lossy(&o.stderr).into_owned()).unwrap_or_default(),
            );
        }
    };
    Out {
        cmd: label,
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
