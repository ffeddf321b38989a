//! The shim's steady state: one poll(2) loop over the control socket and its
//! clients, the container's stdio pipes and the init process's pidfd.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use crate::args::Config;
use crate::container::Created;
use crate::console;
use crate::control::{Client, Command, Input, Role};
use crate::exec::ExecProc;
use crate::frames::{self, Stream};
use crate::logfile::JsonLog;
use crate::process;
use crate::runtime::Runtime;
use crate::stdin::StdinPipe;

#[path = "shim_exec.rs"]
mod shim_exec;

/// How long output may keep flowing after init exits (a process outside the
/// pid namespace could hold the pipes open forever).
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// Connections beyond this are refused, so a flood cannot exhaust fds.
const MAX_CLIENTS: usize = 512;
const READ_CHUNK: usize = 32 * 1024;

pub struct Shim<'a> {
    cfg: &'a Config,
    rt: Runtime<'a>,
    init_pid: i32,
    pidfd: Option<OwnedFd>,
    stdout: Option<File>,
    stderr: Option<File>,
    stdin: Option<StdinPipe>,
    /// The pty master of a container with a terminal.
    terminal: Option<OwnedFd>,
    execs: Vec<ExecProc>,
    next_token: u64,
    listener: Option<UnixListener>,
    clients: Vec<Client>,
    log: JsonLog,
    exit_code: Option<i32>,
    drain_until: Option<Instant>,
    chunk: Vec<u8>,
}

#[derive(Clone, Copy)]
enum Slot {
    Listener,
    Pidfd,
    Output(Stream),
    Stdin,
    Client(usize),
    ExecPid(usize),
    ExecOut(usize, Stream),
    ExecStdin(usize),
}

impl<'a> Shim<'a> {
    pub fn new(cfg: &'a Config, c: Created, listener: UnixListener, log: JsonLog) -> Self {
        Shim {
            cfg,
            rt: Runtime::new(cfg),
            init_pid: c.init_pid,
            pidfd: Some(c.pidfd),
            stdout: Some(c.stdout),
            stderr: c.stderr,
            stdin: c.stdin.map(StdinPipe::new),
            terminal: c.terminal,
            execs: Vec::new(),
            next_token: 0,
            listener: Some(listener),
            clients: Vec::new(),
            log,
            exit_code: None,
            drain_until: None,
            chunk: vec![0; READ_CHUNK],
        }
    }

    /// Runs until the container has exited and everything is recorded.
    pub fn run(mut self) {
        loop {
            let drained = self.stdout.is_none() && self.stderr.is_none() && self.execs.is_empty();
            let timeout = match self.drain_until {
                Some(t) if drained || Instant::now() >= t => break,
                Some(t) => Some(t),
                None => None,
            };
            let timeout = self.exec_deadline().into_iter().chain(timeout).min();
            let (mut fds, slots) = self.poll_set();
            if poll(&mut fds, timeout) {
                for (pfd, slot) in fds.iter().zip(slots) {
                    if pfd.revents != 0 {
                        self.dispatch(slot, pfd.revents);
                    }
                }
            }
            self.end_execs();
            self.clients.retain(|c| !c.finished());
        }
        self.finish();
    }

    fn poll_set(&self) -> (Vec<libc::pollfd>, Vec<Slot>) {
        let mut fds = Vec::with_capacity(self.clients.len() + 5);
        let mut slots = Vec::with_capacity(self.clients.len() + 5);
        let mut add = |fd: RawFd, events: i16, slot: Slot| {
            fds.push(libc::pollfd {
                fd,
                events,
                revents: 0,
            });
            slots.push(slot);
        };
        if let Some(l) = &self.listener {
            if self.clients.len() < MAX_CLIENTS {
                add(l.as_raw_fd(), libc::POLLIN, Slot::Listener);
            }
        }
        if let Some(p) = &self.pidfd {
            add(p.as_raw_fd(), libc::POLLIN, Slot::Pidfd);
        }
        if let Some(f) = &self.stdout {
            add(f.as_raw_fd(), libc::POLLIN, Slot::Output(Stream::Stdout));
        }
        if let Some(f) = &self.stderr {
            add(f.as_raw_fd(), libc::POLLIN, Slot::Output(Stream::Stderr));
        }
        let stdin_room = match &self.stdin {
            Some(s) => {
                if s.wants_write() {
                    add(s.fd(), libc::POLLOUT, Slot::Stdin);
                }
                s.room() > 0
            }
            None => true, // input is read and discarded
        };
        self.poll_execs(&mut add);
        for (i, c) in self.clients.iter().enumerate() {
            let mut ev = 0;
            let room = match c.role {
                Role::Attach { stdin: true } => stdin_room,
                Role::Exec { token, stdin: true } => self.exec_stdin_room(token),
                _ => true,
            };
            if c.reading && room {
                ev |= libc::POLLIN;
            }
            if c.pending() > 0 {
                ev |= libc::POLLOUT;
            }
            // Registered even with no events: POLLHUP tells us the peer left.
            add(c.stream.as_raw_fd(), ev, Slot::Client(i));
        }
        (fds, slots)
    }

    fn dispatch(&mut self, slot: Slot, revents: i16) {
        match slot {
            Slot::Listener => self.accept(),
            Slot::Pidfd => self.reap(),
            Slot::Output(s) => self.read_output(s),
            Slot::Stdin => self.write_stdin(revents),
            Slot::Client(i) => self.client_event(i, revents),
            Slot::ExecPid(k) => self.exec_exited(k),
            Slot::ExecOut(k, s) => self.read_exec_output(k, s),
            Slot::ExecStdin(k) => self.write_exec_stdin(k, revents),
        }
    }

    fn accept(&mut self) {
        let Some(l) = &self.listener else { return };
        while self.clients.len() < MAX_CLIENTS {
            match l.accept() {
                Ok((s, _)) => {
                    if s.set_nonblocking(true).is_ok() {
                        self.clients.push(Client::new(s));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }

    fn reap(&mut self) {
        self.pidfd = None;
        self.exit_code = Some(process::reap(self.init_pid));
        self.drain_until = Some(Instant::now() + DRAIN_GRACE);
        // Nobody is left to read stdin.
        self.stdin = None;
    }

    fn read_output(&mut self, stream: Stream) {
        let pipe = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        let Some(f) = pipe else { return };
        let n = match f.read(&mut self.chunk) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return
            }
            Err(_) => 0,
        };
        if n == 0 {
            *pipe = None;
            self.log.finish(stream);
            return;
        }
        let data = &self.chunk[..n];
        self.log.write(stream, data);
        let mut frame = Vec::with_capacity(n + frames::HEADER_LEN);
        frames::encode(stream, data, &mut frame);
        for c in &mut self.clients {
            if matches!(c.role, Role::Attach { .. }) && !c.closing {
                c.send(&frame);
            }
        }
    }

    /// Applies `f` to the stdin pipe, closing it when `f` says so.
    fn with_stdin(&mut self, f: impl FnOnce(&mut StdinPipe) -> bool) {
        if let Some(s) = &mut self.stdin {
            if !f(s) {
                self.stdin = None;
            }
        }
    }

    fn write_stdin(&mut self, revents: i16) {
        if revents & libc::POLLERR != 0 {
            self.stdin = None; // the container closed its stdin
        } else {
            self.with_stdin(StdinPipe::flush);
        }
    }

    /// An `attach stdin` client stopped sending: with `--stdin-once` that
    /// closes the container's stdin (after what is buffered).
    fn stdin_client_done(&mut self) {
        // A terminal's input is never closed: the next attach types into it.
        if self.cfg.stdin_once && !self.cfg.tty {
            self.with_stdin(StdinPipe::close_after_flush);
        }
    }

    fn client_event(&mut self, i: usize, revents: i16) {
        let c = &mut self.clients[i];
        if revents & libc::POLLOUT != 0 {
            c.flush();
        }
        if c.reading && revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            let role = c.role;
            match role {
                Role::Pending => self.read_command(i),
                Role::Attach { stdin: true } => self.read_stdin_client(i),
                Role::Exec { token, stdin: true } => self.read_exec_stdin(i, token),
                _ => self.clients[i].reading = false,
            }
        }
        let c = &mut self.clients[i];
        if revents & (libc::POLLHUP | libc::POLLERR) != 0 && !c.reading {
            c.dead = true;
        }
    }

    fn read_command(&mut self, i: usize) {
        let c = &mut self.clients[i];
        match c.read_command() {
            Input::Incomplete => {}
            Input::Gone => c.dead = true,
            Input::TooLong => self.reply(i, "err unknown command\n"),
            Input::Line(Err(msg), _) => self.reply(i, &format!("err {msg}\n")),
            Input::Line(Ok(cmd), rest) => self.command(i, cmd, &rest),
        }
    }

    fn reply(&mut self, i: usize, text: &str) {
        let c = &mut self.clients[i];
        c.role = Role::Reply;
        c.reading = false;
        c.closing = true;
        c.send(text.as_bytes());
    }

    fn resize(&mut self, i: usize, rows: u16, cols: u16, exec: Option<String>) {
        let r = match exec {
            Some(id) => match self.execs.iter_mut().find(|e| e.id == id) {
                Some(e) => e.resize(rows, cols).map_err(|e| e.to_string()),
                None => Err("no such exec".to_string()),
            },
            // Docker ignores resizing a container without a terminal.
            None => match &self.terminal {
                Some(t) if self.exit_code.is_none() => {
                    console::set_winsize(t.as_raw_fd(), rows, cols).map_err(|e| e.to_string())
                }
                Some(_) => Err("container not running".to_string()),
                None => Ok(()),
            },
        };
        match r {
            Ok(()) => self.reply(i, "ok\n"),
            Err(m) => self.reply(i, &format!("err {}", crate::daemon::one_line(&m))),
        }
    }

    fn command(&mut self, i: usize, cmd: Command, rest: &[u8]) {
        match cmd {
            Command::Start => {
                let r = match self.rt.start() {
                    Ok(()) => "ok\n".to_string(),
                    Err(e) => format!("err {}", crate::daemon::one_line(&e.to_string())),
                };
                self.reply(i, &r);
            }
            Command::Kill(sig) => {
                let r = match self.exit_code {
                    None if process::kill(self.init_pid, sig).is_ok() => "ok\n",
                    _ => "err container not running\n",
                };
                self.reply(i, r);
            }
            Command::State => {
                let r = match self.exit_code {
                    None => format!("running {}\n", self.init_pid),
                    Some(code) => format!("exited {code}\n"),
                };
                self.reply(i, &r);
            }
            Command::Wait => {
                let c = &mut self.clients[i];
                c.role = Role::Waiter;
                c.reading = false;
            }
            Command::Resize { rows, cols, exec } => self.resize(i, rows, cols, exec),
            Command::Exec { id, tty, stdin } => self.start_exec(i, &id, tty, stdin, rest),
            Command::Attach { stdin } => {
                let c = &mut self.clients[i];
                c.role = Role::Attach { stdin };
                c.reading = stdin;
                c.send(b"ok\n");
                if stdin && !rest.is_empty() {
                    self.with_stdin(|s| s.feed(rest));
                }
            }
        }
    }

    fn read_stdin_client(&mut self, i: usize) {
        let room = match &self.stdin {
            Some(s) => s.room().max(1),
            None => READ_CHUNK,
        };
        let mut buf = std::mem::take(&mut self.chunk);
        let want = room.min(buf.len());
        let got = self.clients[i].read_some(&mut buf[..want]);
        match got {
            None => {}
            Some(0) => {
                self.clients[i].reading = false;
                self.stdin_client_done();
            }
            Some(n) => self.with_stdin(|s| s.feed(&buf[..n])),
        }
        self.chunk = buf;
    }

    /// Everything after init's exit: record it, answer and close clients.
    fn finish(mut self) {
        for (pipe, stream) in [
            (self.stdout.take(), Stream::Stdout),
            (self.stderr.take(), Stream::Stderr),
        ] {
            if pipe.is_some() {
                self.log.finish(stream);
            }
        }
        self.stdin = None;
        self.abandon_execs();
        let code = self.exit_code.unwrap_or(process::UNKNOWN_EXIT);
        // Before the exit file, so berthd sees both together.
        if self.cfg.cgroup.as_deref().is_some_and(crate::oom::was_oom_killed) {
            let _ = std::fs::write(self.cfg.state_file("oom"), "1");
        }
        // Nothing useful to do if this fails; berthd sees no exit file.
        let _ = process::write_exit_file(&self.cfg.state_dir, code);
        let answer = format!("exit {code}\n");
        for c in &mut self.clients {
            match c.role {
                Role::Waiter => c.send(answer.as_bytes()),
                Role::Pending => c.dead = true,
                Role::Reply | Role::Attach { .. } | Role::Exec { .. } => {}
            }
            c.reading = false;
            c.closing = true;
        }
        self.listener = None;
        let _ = std::fs::remove_file(self.cfg.state_file("shim.sock"));
        self.flush_clients(Instant::now() + DRAIN_GRACE);
        // The runtime's cleanup (cgroups, state) runs after berthd has its
        // answer: it is off the path `run --rm` waits on. The shim exits only
        // once it is done, so "no shim left" still means "nothing left".
        self.rt.delete();
    }

    /// Gives clients a bounded time to take their last bytes.
    fn flush_clients(&mut self, until: Instant) {
        self.clients.retain(|c| !c.finished());
        while !self.clients.is_empty() && Instant::now() < until {
            let mut fds: Vec<libc::pollfd> = self
                .clients
                .iter()
                .map(|c| libc::pollfd {
                    fd: c.stream.as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                })
                .collect();
            if poll(&mut fds, Some(until)) {
                for (c, p) in self.clients.iter_mut().zip(&fds) {
                    if p.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                        c.dead = true;
                    } else if p.revents & libc::POLLOUT != 0 {
                        c.flush();
                    }
                }
            }
            self.clients.retain(|c| !c.finished());
        }
    }
}

/// poll(2) until an event or `until`; false if nothing happened (timeout, EINTR).
fn poll(fds: &mut [libc::pollfd], until: Option<Instant>) -> bool {
    let timeout = until.map_or(-1, |t| {
        let left = t.saturating_duration_since(Instant::now());
        // Round up so we never wake just before the deadline and spin.
        i32::try_from(left.as_millis() + 1).unwrap_or(i32::MAX)
    });
    // SAFETY: fds is a valid, exclusively borrowed slice of pollfd.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
    n > 0
}
