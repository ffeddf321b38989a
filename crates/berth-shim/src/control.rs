//! The control socket protocol: one command line per connection, and the
//! per-connection state (bounded, non-blocking in both directions).
//!
//! - `start` → `ok` | `err <msg>`; `kill <signum>` → `ok` |
//!   `err container not running`; `state` → `running <pid>` | `exited <code>`.
//!   The connection closes after the reply.
//! - `wait` → `exit <code>` once the container exited and its output was logged.
//! - `attach` / `attach stdin` → `ok`, then Docker-multiplexed output frames
//!   until the container exits; with `stdin`, the client's bytes go to the
//!   container's stdin, and its EOF closes that stdin under `--stdin-once`.
//! - `resize <rows> <cols> [<exec id>]` → `ok` | `err <msg>`: the window size
//!   of the container's terminal (or of an exec's).
//! - `exec <exec id> [tty] [stdin]` → runs `<state-dir>/exec-<exec id>.json`
//!   in the container; `ok <pid>` once it runs (or `err <msg>`), then its
//!   output as frames, then one frame on stream 0 (never used for output)
//!   carrying its exit code in decimal, and the connection closes. With
//!   `stdin`, the client's bytes are its stdin; the client's EOF closes it
//!   (unless it has a terminal).
//! - anything else → `err unknown command` (or `err invalid signal`).

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;

/// A command line longer than this is refused.
pub const MAX_COMMAND: usize = 256;
/// A client whose unsent output grows beyond this is dropped: a slow reader
/// must never hold up the container or the other clients.
pub const MAX_BACKLOG: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start,
    Kill(i32),
    State,
    Wait,
    Attach { stdin: bool },
    Resize { rows: u16, cols: u16, exec: Option<String> },
    Exec { id: String, tty: bool, stdin: bool },
}

/// Exec ids become file names: 1 to 64 ASCII letters and digits.
fn exec_id(word: &str) -> Result<String, &'static str> {
    if word.is_empty() || word.len() > 64 || !word.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("invalid exec id");
    }
    Ok(word.to_string())
}

/// A window dimension: canonical decimal, 1 to 65535.
fn dimension(word: &str) -> Result<u16, &'static str> {
    match word.parse::<u16>() {
        Ok(n) if n > 0 && n.to_string() == word => Ok(n),
        _ => Err("invalid size"),
    }
}

/// Parses one command line (without its `\n`); the error is the reply text.
pub fn parse_command(line: &[u8]) -> Result<Command, &'static str> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = std::str::from_utf8(line).map_err(|_| "unknown command")?;
    let mut words = line.split(' ');
    let cmd = match (words.next(), words.next()) {
        (Some("start"), None) => Command::Start,
        (Some("state"), None) => Command::State,
        (Some("wait"), None) => Command::Wait,
        (Some("attach"), None) => Command::Attach { stdin: false },
        (Some("attach"), Some("stdin")) => Command::Attach { stdin: true },
        (Some("resize"), Some(rows)) => {
            let rows = dimension(rows)?;
            let cols = dimension(words.next().ok_or("invalid size")?)?;
            let exec = words.next().map(exec_id).transpose()?;
            Command::Resize { rows, cols, exec }
        }
        (Some("exec"), Some(id)) => {
            let id = exec_id(id)?;
            let mut flags = (false, false);
            for w in words.by_ref() {
                match w {
                    "tty" if !flags.0 && !flags.1 => flags.0 = true,
                    "stdin" if !flags.1 => flags.1 = true,
                    _ => return Err("unknown command"),
                }
            }
            Command::Exec { id, tty: flags.0, stdin: flags.1 }
        }
        (Some("kill"), Some(word)) => {
            let sig: i32 = word.parse().map_err(|_| "invalid signal")?;
            // Canonical decimal only: "+9" and "09" are refused like other junk.
            if !(1..=libc::SIGRTMAX()).contains(&sig) || sig.to_string() != word {
                return Err("invalid signal");
            }
            Command::Kill(sig)
        }
        _ => return Err("unknown command"),
    };
    if words.next().is_some() {
        return Err("unknown command");
    }
    Ok(cmd)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Waiting for the command line.
    Pending,
    /// Got its reply; closes once it is sent.
    Reply,
    /// `wait`: answered when the container has exited and its output is drained.
    Waiter,
    /// `attach`: receives output frames; `stdin` means its input feeds the container.
    Attach { stdin: bool },
    /// `exec`: the connection of the exec with this token.
    Exec { token: u64, stdin: bool },
}

/// What reading a pending client's command produced.
pub enum Input {
    /// No complete line yet.
    Incomplete,
    /// A command line, plus whatever the client sent after it.
    Line(Result<Command, &'static str>, Vec<u8>),
    /// The client went away.
    Gone,
    /// No newline within `MAX_COMMAND` bytes.
    TooLong,
}

pub struct Client {
    pub stream: UnixStream,
    pub role: Role,
    /// Poll for input (command line, or stdin data for `attach stdin`).
    pub reading: bool,
    /// Close as soon as `out` is sent.
    pub closing: bool,
    pub dead: bool,
    line: Vec<u8>,
    out: Vec<u8>,
    sent: usize,
}

impl Client {
    pub fn new(stream: UnixStream) -> Client {
        Client {
            stream,
            role: Role::Pending,
            reading: true,
            closing: false,
            dead: false,
            line: Vec::new(),
            out: Vec::new(),
            sent: 0,
        }
    }

    pub fn read_command(&mut self) -> Input {
        let mut buf = [0u8; MAX_COMMAND];
        let room = MAX_COMMAND - self.line.len();
        match self.read_some(&mut buf[..room]) {
            None => Input::Incomplete,
            Some(0) => Input::Gone,
            Some(n) => {
                self.line.extend_from_slice(&buf[..n]);
                match self.line.iter().position(|&b| b == b'\n') {
                    Some(nl) => {
                        let rest = self.line.split_off(nl + 1);
                        let cmd = parse_command(&self.line[..nl]);
                        self.line = Vec::new();
                        Input::Line(cmd, rest)
                    }
                    None if self.line.len() >= MAX_COMMAND => Input::TooLong,
                    None => Input::Incomplete,
                }
            }
        }
    }

    /// One non-blocking read: `None` if nothing is there, `Some(0)` at EOF or error.
    pub fn read_some(&mut self, buf: &mut [u8]) -> Option<usize> {
        loop {
            return match self.stream.read(buf) {
                Ok(n) => Some(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
                Err(_) => Some(0),
            };
        }
    }

    /// Queues `data` and sends what the socket takes now. A client that has
    /// fallen more than `MAX_BACKLOG` behind is marked dead.
    pub fn send(&mut self, data: &[u8]) {
        if self.dead {
            return;
        }
        if self.pending() + data.len() > MAX_BACKLOG {
            self.dead = true;
            return;
        }
        if self.sent > 0 && self.sent == self.out.len() {
            self.out.clear();
            self.sent = 0;
        }
        self.out.extend_from_slice(data);
        self.flush();
    }

    pub fn flush(&mut self) {
        while self.sent < self.out.len() {
            match self.stream.write(&self.out[self.sent..]) {
                Ok(0) => {
                    self.dead = true;
                    return;
                }
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.dead = true;
                    return;
                }
            }
        }
        // Reclaim the sent prefix once it dominates the buffer.
        if self.sent > 0 && self.sent * 2 >= self.out.len() {
            self.out.drain(..self.sent);
            self.sent = 0;
        }
    }

    pub fn pending(&self) -> usize {
        self.out.len() - self.sent
    }

    /// The client can be dropped: dead, or done and fully answered.
    pub fn finished(&self) -> bool {
        self.dead || (self.closing && self.pending() == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(parse_command(b"start"), Ok(Command::Start));
        assert_eq!(parse_command(b"state\r"), Ok(Command::State));
        assert_eq!(parse_command(b"wait"), Ok(Command::Wait));
        assert_eq!(
            parse_command(b"attach"),
            Ok(Command::Attach { stdin: false })
        );
        assert_eq!(
            parse_command(b"attach stdin"),
            Ok(Command::Attach { stdin: true })
        );
        assert_eq!(parse_command(b"kill 9"), Ok(Command::Kill(9)));
        assert_eq!(parse_command(b"kill 15"), Ok(Command::Kill(15)));
        assert_eq!(
            parse_command(b"resize 30 100"),
            Ok(Command::Resize { rows: 30, cols: 100, exec: None })
        );
        assert_eq!(
            parse_command(b"resize 1 65535 abc123"),
            Ok(Command::Resize { rows: 1, cols: 65535, exec: Some("abc123".into()) })
        );
        assert_eq!(
            parse_command(b"exec e1"),
            Ok(Command::Exec { id: "e1".into(), tty: false, stdin: false })
        );
        assert_eq!(
            parse_command(b"exec e1 tty stdin"),
            Ok(Command::Exec { id: "e1".into(), tty: true, stdin: true })
        );
        assert_eq!(
            parse_command(b"exec e1 stdin"),
            Ok(Command::Exec { id: "e1".into(), tty: false, stdin: true })
        );
    }

    #[test]
    fn rejects_hostile_resize_and_exec() {
        for bad in [
            &b"resize"[..],
            b"resize 30",
            b"resize 0 10",
            b"resize 10 0",
            b"resize 65536 1",
            b"resize -1 5",
            b"resize 010 5",
            b"resize 10 5 ../x",
            b"resize 10 5 a b",
            b"exec",
            b"exec ../../etc/passwd",
            b"exec a/b",
            b"exec e1 stdin tty",
            b"exec e1 tty tty",
            b"exec e1 bogus",
            b"exec e1 stdin stdin",
        ] {
            assert!(parse_command(bad).is_err(), "{bad:?}");
        }
        let long = format!("exec {}", "a".repeat(65));
        assert!(parse_command(long.as_bytes()).is_err());
    }

    #[test]
    fn rejects_hostile_lines() {
        for bad in [
            &b""[..],
            b" ",
            b"START",
            b"start now",
            b"attach stdout",
            b"attach stdin x",
            b"\xff\xfe",
            b"wait\0",
            b"kill",
            b"state ",
        ] {
            assert_eq!(parse_command(bad), Err("unknown command"), "{bad:?}");
        }
        for bad in [
            &b"kill 0"[..],
            b"kill -9",
            b"kill 99999999999",
            b"kill x",
            b"kill 65",
            b"kill +9",
            b"kill 09",
            b"kill 9 9",
            b"kill  9",
        ] {
            assert!(parse_command(bad).is_err(), "{bad:?}");
        }
    }

    fn pair() -> (Client, UnixStream) {
        let (a, b) = UnixStream::pair().expect("socketpair");
        a.set_nonblocking(true).expect("nonblocking");
        (Client::new(a), b)
    }

    #[test]
    fn reads_command_in_pieces_and_keeps_the_rest() {
        let (mut c, mut peer) = pair();
        assert!(matches!(c.read_command(), Input::Incomplete));
        peer.write_all(b"atta").expect("write");
        assert!(matches!(c.read_command(), Input::Incomplete));
        peer.write_all(b"ch stdin\nabc").expect("write");
        match c.read_command() {
            Input::Line(cmd, rest) => {
                assert_eq!(cmd, Ok(Command::Attach { stdin: true }));
                assert_eq!(rest, b"abc");
            }
            _ => panic!("expected a line"),
        }
        drop(peer);
        assert!(matches!(c.read_command(), Input::Gone));
    }

    #[test]
    fn refuses_over_long_line() {
        let (mut c, mut peer) = pair();
        peer.write_all(&[b'a'; MAX_COMMAND + 10]).expect("write");
        assert!(matches!(c.read_command(), Input::TooLong));
    }

    #[test]
    fn slow_client_is_dropped_not_waited_for() {
        let (mut c, peer) = pair();
        let chunk = vec![0u8; 64 * 1024];
        for _ in 0..(MAX_BACKLOG / chunk.len() + 64) {
            c.send(&chunk);
        }
        assert!(c.dead, "backlog beyond the bound must drop the client");
        drop(peer);
    }

    #[test]
    fn closed_peer_marks_dead() {
        let (mut c, peer) = pair();
        drop(peer);
        c.send(b"x");
        assert!(c.dead);
        assert!(c.finished());
    }

    #[test]
    fn reply_then_close() {
        let (mut c, mut peer) = pair();
        c.send(b"ok\n");
        c.closing = true;
        assert!(c.finished());
        let mut buf = [0u8; 3];
        peer.read_exact(&mut buf).expect("read");
        assert_eq!(&buf, b"ok\n");
    }
}
