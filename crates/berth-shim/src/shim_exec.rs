//! The loop's side of exec processes: starting them for a client, moving
//! their output to it, feeding their stdin, and ending the connection with
//! the exit code.

use std::os::fd::RawFd;
use std::time::Instant;

use super::{Shim, Slot, DRAIN_GRACE, READ_CHUNK};
use crate::control::{Client, Role};
use crate::exec::{self, Event, ExecProc};
use crate::frames::Stream;

/// Exec processes running at once; more are refused.
const MAX_EXECS: usize = 256;

impl Shim<'_> {
    fn exec_client(&mut self, token: u64) -> Option<&mut Client> {
        self.clients
            .iter_mut()
            .find(|c| matches!(c.role, Role::Exec { token: t, .. } if t == token))
    }

    pub(super) fn start_exec(&mut self, i: usize, id: &str, tty: bool, stdin: bool, rest: &[u8]) {
        if self.exit_code.is_some() {
            return self.reply(i, "err container not running\n");
        }
        if self.execs.len() >= MAX_EXECS || self.execs.iter().any(|e| e.id == id) {
            return self.reply(i, "err too many execs, or a duplicate exec id\n");
        }
        let token = self.next_token;
        self.next_token += 1;
        match ExecProc::spawn(self.cfg, &self.rt, token, id, tty, stdin) {
            Ok(mut e) => {
                if !rest.is_empty() {
                    e.feed_stdin(rest);
                }
                self.execs.push(e);
                let c = &mut self.clients[i];
                c.role = Role::Exec { token, stdin };
                // Without stdin, POLLHUP alone tells us the client left.
                c.reading = stdin;
            }
            Err(e) => self.reply(i, &format!("err {}", crate::daemon::one_line(&e.to_string()))),
        }
    }

    pub(super) fn poll_execs(&self, add: &mut impl FnMut(RawFd, i16, Slot)) {
        for (k, e) in self.execs.iter().enumerate() {
            if let Some(fd) = e.pidfd() {
                add(fd, libc::POLLIN, Slot::ExecPid(k));
            }
            // Output waits for the `ok <pid>` reply, which comes first on the wire.
            if !e.starting() {
                for (fd, s) in exec::outputs(e) {
                    add(fd, libc::POLLIN, Slot::ExecOut(k, s));
                }
            }
            if let Some(s) = &e.stdin {
                if s.wants_write() {
                    add(s.fd(), libc::POLLOUT, Slot::ExecStdin(k));
                }
            }
        }
    }

    /// Whether to read the input of the exec's client now: not while its
    /// stdin is full or not there yet (a terminal arrives after the runtime).
    pub(super) fn exec_stdin_room(&self, token: u64) -> bool {
        match self.execs.iter().find(|e| e.token == token) {
            Some(e) => match &e.stdin {
                Some(s) => s.room() > 0,
                None => !(e.wants_stdin && e.starting()),
            },
            None => true, // input is read and discarded
        }
    }

    pub(super) fn exec_deadline(&self) -> Option<Instant> {
        self.execs.iter().filter_map(|e| e.drain_until).min()
    }

    pub(super) fn exec_exited(&mut self, k: usize) {
        let e = &mut self.execs[k];
        let token = e.token;
        match e.on_exit() {
            Event::Started(pid) => {
                if let Some(c) = self.exec_client(token) {
                    c.send(format!("ok {pid}\n").as_bytes());
                }
            }
            Event::Failed(msg) => {
                if let Some(c) = self.exec_client(token) {
                    c.role = Role::Reply;
                    c.reading = false;
                    c.closing = true;
                    c.send(format!("err {}", crate::daemon::one_line(&msg)).as_bytes());
                }
            }
            Event::Exited => e.drain_until = Some(Instant::now() + DRAIN_GRACE),
        }
    }

    pub(super) fn read_exec_output(&mut self, k: usize, stream: Stream) {
        let e = &mut self.execs[k];
        let token = e.token;
        if let Some(frame) = e.read_output(stream, &mut self.chunk) {
            if let Some(c) = self.exec_client(token) {
                c.send(&frame);
            }
        }
    }

    pub(super) fn write_exec_stdin(&mut self, k: usize, revents: i16) {
        let e = &mut self.execs[k];
        if revents & libc::POLLERR != 0 {
            e.stdin = None;
        } else if let Some(s) = &mut e.stdin {
            if !s.flush() {
                e.stdin = None;
            }
        }
    }

    pub(super) fn read_exec_stdin(&mut self, i: usize, token: u64) {
        let mut buf = std::mem::take(&mut self.chunk);
        let k = self.execs.iter().position(|e| e.token == token);
        let room = k
            .and_then(|k| self.execs[k].stdin.as_ref())
            .map_or(READ_CHUNK, |s| s.room().max(1));
        let want = room.min(buf.len());
        match self.clients[i].read_some(&mut buf[..want]) {
            None => {}
            Some(0) => {
                self.clients[i].reading = false;
                // EOF closes a pipe; a terminal stays open, as in Docker.
                if let Some(e) = k.map(|k| &mut self.execs[k]) {
                    if !e.tty {
                        if let Some(s) = &mut e.stdin {
                            if !s.close_after_flush() {
                                e.stdin = None;
                            }
                        }
                    }
                }
            }
            Some(n) => {
                if let Some(k) = k {
                    self.execs[k].feed_stdin(&buf[..n]);
                }
            }
        }
        self.chunk = buf;
    }

    /// Ends the connections of execs that are over with their exit frame.
    pub(super) fn end_execs(&mut self) {
        let now = Instant::now();
        let mut k = 0;
        while k < self.execs.len() {
            if self.execs[k].over(now) {
                let e = self.execs.swap_remove(k);
                self.send_exit_frame(&e);
            } else {
                k += 1;
            }
        }
    }

    /// The container is gone: whatever execs are left end now.
    pub(super) fn abandon_execs(&mut self) {
        for e in std::mem::take(&mut self.execs) {
            self.send_exit_frame(&e);
        }
    }

    fn send_exit_frame(&mut self, e: &ExecProc) {
        let frame = e.exit_frame();
        if let Some(c) = self.exec_client(e.token) {
            c.send(&frame);
            c.reading = false;
            c.closing = true;
        }
    }
}

impl ExecProc {
    /// Queues input for the process; dropped when its stdin is gone.
    pub fn feed_stdin(&mut self, data: &[u8]) {
        let early = self.wants_stdin && self.starting();
        let open = match &mut self.stdin {
            Some(s) => s.feed(data),
            None => {
                if early {
                    self.early_input.extend_from_slice(data);
                }
                return;
            }
        };
        if !open {
            self.stdin = None;
        }
    }
}




