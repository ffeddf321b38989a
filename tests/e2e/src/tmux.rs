//! Clients under a real terminal (tmux), for the pty tests.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::daemon::TestDaemon;
use crate::out::Cli;
use crate::wait_until;

/// A command line for a shell (tmux runs one): single-quoted words.
fn shell_words(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

impl TestDaemon {
    /// A shell command running `cli args...` against this daemon.
    pub fn shell_command(&self, cli: Cli, args: &[&str]) -> String {
        let bin = match cli {
            Cli::Berth => self.bin.join("berth").display().to_string(),
            Cli::Docker => "docker".to_string(),
        };
        let host = self.host();
        let config = self.dir.join("docker-config").display().to_string();
        let mut words = vec![
            "env",
            "-u",
            "DOCKER_CONTEXT",
            "-u",
            "DOCKER_API_VERSION",
            "DOCKER_CLI_HINTS=false",
        ];
        let h1 = format!("DOCKER_HOST={host}");
        let h2 = format!("BERTH_HOST={host}");
        let c = format!("DOCKER_CONFIG={config}");
        words.extend([h1.as_str(), h2.as_str(), c.as_str(), bin.as_str()]);
        words.extend_from_slice(args);
        shell_words(&words)
    }
}

/// A client running under a real terminal: a private tmux server (its own
/// socket in the test's directory) with one window. The pane prints
/// `EXIT=<code>` when the client ends. Dropping it kills that server only.
pub struct Tmux {
    sock: PathBuf,
}

impl Tmux {
    /// Runs `cli args...` in a `cols`x`rows` terminal. `tag` names the socket.
    pub fn start(d: &TestDaemon, tag: &str, cols: u16, rows: u16, cli: Cli, args: &[&str]) -> Tmux {
        let sock = d.dir().join(format!("tmux-{tag}.sock"));
        let cmd = format!("{}; code=$?; echo; echo EXIT=$code; sleep 600", d.shell_command(cli, args));
        let t = Tmux { sock };
        let out = t
            .tmux()
            .args(["new-session", "-d", "-x", &cols.to_string(), "-y", &rows.to_string(), &cmd])
            .output()
            .unwrap_or_else(|e| panic!("tmux: {e}"));
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        t
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.sock).stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) {
        let out = self.tmux().args(args).output().unwrap_or_else(|e| panic!("tmux: {e}"));
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Types keys (tmux key names: "Enter", "C-c", or literal text).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types a line of text and Enter.
    pub fn line(&self, text: &str) {
        self.run(&["send-keys", "-t", "0", "-l", text]);
        self.keys(&["Enter"]);
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        self.run(&["resize-window", "-t", "0", "-x", &cols.to_string(), "-y", &rows.to_string()]);
    }

    /// The visible screen.
    pub fn screen(&self) -> String {
        let out = self.tmux().args(["capture-pane", "-p", "-t", "0"]).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default()
    }

    /// Waits until a screen line, trimmed, equals `line`; panics with the screen if not.
    #[track_caller]
    pub fn expect_line(&self, line: &str) {
        let ok = wait_until(Duration::from_secs(15), || self.screen().lines().any(|l| l.trim() == line));
        assert!(ok, "no line {line:?} on the screen:\n{}", self.screen());
    }

    /// Waits for busybox sh's prompt. Typing earlier races the shell's
    /// start-up terminal query: its answer then lands in the typed line.
    #[track_caller]
    pub fn expect_prompt(&self) {
        let ok = wait_until(Duration::from_secs(15), || self.screen().lines().any(|l| l.trim_start().starts_with("/ #")));
        assert!(ok, "no shell prompt on the screen:\n{}", self.screen());
    }

    /// Waits for the client's exit and returns its code.
    #[track_caller]
    pub fn exit_code(&self) -> i32 {
        let mut code = None;
        let ok = wait_until(Duration::from_secs(20), || {
            code = self
                .screen()
                .lines()
                .find_map(|l| l.rsplit_once("EXIT=").and_then(|(_, c)| c.trim().parse().ok()));
            code.is_some()
        });
        assert!(ok, "client did not exit:\n{}", self.screen());
        code.unwrap_or(-1)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").stdout(Stdio::null()).stderr(Stdio::null()).status();
        let _ = std::fs::remove_file(&self.sock);
    }
}
