//! Processes started in the running container by `exec`: `runtime exec
//! --detach` runs in the background while the loop goes on; once it is done
//! the process is ours to reap (it is reparented to us, the subreaper).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::Stdio;
use std::time::Instant;

use crate::args::Config;
use crate::console::{self, ConsoleSocket};
use crate::container::{pipe, set_nonblocking};
use crate::error::{Error, Result};
use crate::frames::{self, Stream};
use crate::process;
use crate::runtime::{exec_failure, CreateStdio, ExecFiles, Runtime};
use crate::stdin::StdinPipe;

enum Phase {
    /// `runtime exec` is running.
    Starting { runtime_pid: i32 },
    Running { pid: i32 },
    Exited,
}

/// What a readable pidfd meant.
pub enum Event {
    /// The process runs (reply `ok <pid>`).
    Started(i32),
    /// The runtime failed (reply `err <msg>`); the exec is over.
    Failed(String),
    /// The process exited with this code.
    Exited,
}

pub struct ExecProc {
    pub token: u64,
    pub id: String,
    pub tty: bool,
    phase: Phase,
    pidfd: Option<OwnedFd>,
    /// Output: pipes, or the pty master (all "stdout").
    pub stdout: Option<File>,
    pub stderr: Option<File>,
    pub stdin: Option<StdinPipe>,
    /// Whether the process has stdin at all (it may still be pending on the terminal).
    pub wants_stdin: bool,
    terminal: Option<OwnedFd>,
    console: Option<ConsoleSocket>,
    files: ExecFiles,
    /// A size asked for before the terminal existed.
    pending_size: Option<(u16, u16)>,
    pub exit_code: Option<i32>,
    pub drain_until: Option<Instant>,
    /// Input that came before a terminal existed.
    pub early_input: Vec<u8>,
}

impl ExecProc {
    pub fn spawn(cfg: &Config, rt: &Runtime, token: u64, id: &str, tty: bool, stdin: bool) -> Result<ExecProc> {
        let console = match tty {
            true => Some(ConsoleSocket::bind(&cfg.state_dir, &format!("exec-{token}.sock"))?),
            false => None,
        };
        let files = ExecFiles {
            process: cfg.state_file(&format!("exec-{id}.json")),
            pid_file: cfg.state_file(&format!("exec-{token}.pid")),
            log: cfg.state_file(&format!("exec-{token}.log")),
            console: console.as_ref().map(|c| c.path.clone()),
        };
        let mut ours = (None, None, None);
        let stdio = if tty {
            CreateStdio { stdin: Stdio::null(), stdout: Stdio::null(), stderr: Stdio::null() }
        } else {
            let (out_r, out_w) = pipe()?;
            let (err_r, err_w) = pipe()?;
            let theirs_in = if stdin {
                let (r, w) = pipe()?;
                set_nonblocking(&w)?;
                ours.2 = Some(File::from(w));
                Stdio::from(r)
            } else {
                Stdio::null()
            };
            set_nonblocking(&out_r)?;
            set_nonblocking(&err_r)?;
            ours.0 = Some(File::from(out_r));
            ours.1 = Some(File::from(err_r));
            CreateStdio { stdin: theirs_in, stdout: Stdio::from(out_w), stderr: Stdio::from(err_w) }
        };
        let child = rt.spawn_exec(&files, stdio)?;
        let runtime_pid = i32::try_from(child.id()).map_err(|_| Error::Runtime("pid out of range".into()))?;
        // The child is reaped through `process::reap`, not through `Child`.
        drop(child);
        let pidfd = process::pidfd_open(runtime_pid)?;
        Ok(ExecProc {
            token,
            id: id.to_string(),
            tty,
            phase: Phase::Starting { runtime_pid },
            pidfd: Some(pidfd),
            stdout: ours.0,
            stderr: ours.1,
            stdin: ours.2.map(StdinPipe::new),
            wants_stdin: stdin,
            terminal: None,
            console,
            files,
            pending_size: None,
            exit_code: None,
            drain_until: None,
            early_input: Vec::new(),
        })
    }

    pub fn pidfd(&self) -> Option<RawFd> {
        self.pidfd.as_ref().map(AsRawFd::as_raw_fd)
    }

    pub fn starting(&self) -> bool {
        matches!(self.phase, Phase::Starting { .. })
    }

    /// The pidfd is readable: the runtime or the process exited.
    pub fn on_exit(&mut self) -> Event {
        self.pidfd = None;
        match self.phase {
            Phase::Starting { runtime_pid } => {
                let status = process::reap_status(runtime_pid);
                let started = match status {
                    Some(st) if libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0 => self.started(),
                    Some(st) => Err(exec_failure(&self.files.log, std::os::unix::process::ExitStatusExt::from_raw(st))),
                    None => Err("runtime exec: lost its status".to_string()),
                };
                self.remove_files();
                match started {
                    Ok(pid) => Event::Started(pid),
                    Err(msg) => {
                        self.phase = Phase::Exited;
                        self.end_output();
                        Event::Failed(msg)
                    }
                }
            }
            Phase::Running { pid } => {
                let code = process::reap(pid);
                self.phase = Phase::Exited;
                self.exit_code = Some(code);
                self.stdin = None;
                Event::Exited
            }
            Phase::Exited => Event::Exited,
        }
    }

    fn started(&mut self) -> std::result::Result<i32, String> {
        let run = || -> Result<(i32, OwnedFd)> {
            let pid = process::read_pid_file(&self.files.pid_file)?;
            Ok((pid, process::pidfd_open(pid)?))
        };
        let (pid, pidfd) = run().map_err(|e| e.to_string())?;
        self.pidfd = Some(pidfd);
        self.phase = Phase::Running { pid };
        if let Some(sock) = self.console.take() {
            let master = sock.receive().map_err(|e| e.to_string())?;
            set_nonblocking(&master).map_err(|e| e.to_string())?;
            let dup = || master.try_clone().map(File::from).map_err(|e| e.to_string());
            self.stdout = Some(dup()?);
            if self.wants_stdin {
                let mut pipe = StdinPipe::new(dup()?);
                pipe.feed(&std::mem::take(&mut self.early_input));
                self.stdin = Some(pipe);
            }
            if let Some((rows, cols)) = self.pending_size.take() {
                let _ = console::set_winsize(master.as_raw_fd(), rows, cols);
            }
            self.terminal = Some(master);
        }
        Ok(pid)
    }

    fn remove_files(&self) {
        for f in [&self.files.process, &self.files.pid_file, &self.files.log] {
            let _ = std::fs::remove_file(f);
        }
    }

    fn end_output(&mut self) {
        self.stdout = None;
        self.stderr = None;
        self.stdin = None;
    }

    pub fn resize(&mut self, rows: u16, cols: u16) -> io::Result<()> {
        if !self.tty {
            return Err(io::Error::other("exec has no terminal"));
        }
        match &self.terminal {
            Some(t) => console::set_winsize(t.as_raw_fd(), rows, cols),
            None => {
                self.pending_size = Some((rows, cols));
                Ok(())
            }
        }
    }

    /// Reads one chunk of output and returns it framed; `None` when there
    /// was nothing to send (EOF closes the stream).
    pub fn read_output(&mut self, stream: Stream, chunk: &mut [u8]) -> Option<Vec<u8>> {
        let pipe = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        let f = pipe.as_mut()?;
        let n = match f.read(chunk) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => return None,
            // A pty master reads EIO once the last slave fd is closed.
            Err(_) => 0,
        };
        if n == 0 {
            *pipe = None;
            return None;
        }
        let mut frame = Vec::with_capacity(n + frames::HEADER_LEN);
        frames::encode(stream, &chunk[..n], &mut frame);
        Some(frame)
    }

    /// Exited, and its output is drained (or the grace time is over).
    pub fn over(&self, now: Instant) -> bool {
        matches!(self.phase, Phase::Exited)
            && ((self.stdout.is_none() && self.stderr.is_none()) || self.drain_until.is_some_and(|t| now >= t))
    }

    /// The last frame of the exec's connection: its exit code on stream 0.
    pub fn exit_frame(&self) -> Vec<u8> {
        let code = self.exit_code.unwrap_or(process::UNKNOWN_EXIT).to_string();
        let mut out = Vec::with_capacity(code.len() + frames::HEADER_LEN);
        out.push(0);
        out.extend_from_slice(&[0, 0, 0]);
        // A decimal i32 is at most 11 bytes.
        out.extend_from_slice(&(code.len() as u32).to_be_bytes());
        out.extend_from_slice(code.as_bytes());
        out
    }
}

impl Drop for ExecProc {
    fn drop(&mut self) {
        self.remove_files();
    }
}

/// Output fds to poll, with the stream they carry.
pub fn outputs(e: &ExecProc) -> impl Iterator<Item = (RawFd, Stream)> + '_ {
    [(e.stdout.as_ref(), Stream::Stdout), (e.stderr.as_ref(), Stream::Stderr)]
        .into_iter()
        .filter_map(|(f, s)| f.map(|f| (f.as_raw_fd(), s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_frame_is_stream_zero_with_decimal_code() {
        let e = ExecProc {
            token: 1,
            id: "x".into(),
            tty: false,
            phase: Phase::Exited,
            pidfd: None,
            stdout: None,
            stderr: None,
            stdin: None,
            wants_stdin: false,
            terminal: None,
            console: None,
            files: ExecFiles {
                process: "/nonexistent/p".into(),
                pid_file: "/nonexistent/q".into(),
                log: "/nonexistent/l".into(),
                console: None,
            },
            pending_size: None,
            exit_code: Some(137),
            drain_until: None,
            early_input: Vec::new(),
        };
        assert_eq!(e.exit_frame(), b"\0\0\0\0\0\0\0\x03137");
        assert!(e.over(Instant::now()));
    }
}
