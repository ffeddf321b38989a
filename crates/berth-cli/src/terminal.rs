//! The local terminal for `-t` sessions: raw mode (restored on drop, so
//! also on errors), its window size, and passing size changes (SIGWINCH)
//! to the daemon's resize endpoint, as the docker CLI does.

use berth_client::{Client, Query};
use std::os::fd::RawFd;

const STDIN: RawFd = 0;
const STDOUT: RawFd = 1;

pub fn is_terminal(fd: RawFd) -> bool {
    // SAFETY: isatty takes any integer.
    unsafe { libc::isatty(fd) == 1 }
}

pub fn stdin_is_terminal() -> bool {
    is_terminal(STDIN)
}

pub fn stdout_is_terminal() -> bool {
    is_terminal(STDOUT)
}

/// Docker's check before attaching stdin to a TTY.
pub fn check_tty(attach_stdin: bool, tty: bool) -> anyhow::Result<()> {
    if attach_stdin && tty && !stdin_is_terminal() {
        anyhow::bail!("the input device is not a TTY");
    }
    Ok(())
}

/// Stdin in raw mode while this lives.
pub struct RawMode {
    saved: libc::termios,
}

impl RawMode {
    /// Raw mode on stdin, if it is a terminal.
    pub fn enable() -> Option<RawMode> {
        if !stdin_is_terminal() {
            return None;
        }
        // SAFETY: termios is plain data, filled in by tcgetattr.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: valid fd and out-pointer.
        if unsafe { libc::tcgetattr(STDIN, &mut saved) } != 0 {
            return None;
        }
        let mut raw = saved;
        // SAFETY: cfmakeraw edits the struct it is given.
        unsafe { libc::cfmakeraw(&mut raw) };
        // SAFETY: valid fd and termios.
        if unsafe { libc::tcsetattr(STDIN, libc::TCSANOW, &raw) } != 0 {
            return None;
        }
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restoring the settings read in `enable`.
        unsafe { libc::tcsetattr(STDIN, libc::TCSANOW, &self.saved) };
    }
}

/// (rows, columns) of our terminal (stdout's, as docker uses), if any.
pub fn size() -> Option<(u16, u16)> {
    for fd in [STDOUT, STDIN] {
        let mut ws = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCGWINSZ writes one winsize to a valid pointer.
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_row > 0 && ws.ws_col > 0 {
            return Some((ws.ws_row, ws.ws_col));
        }
    }
    None
}

/// Sends our size to `path` (`/containers/{id}/resize` or
/// `/exec/{id}/resize`) now and on every SIGWINCH, until aborted.
pub fn monitor_size(client: &Client, path: String) -> tokio::task::JoinHandle<()> {
    let client = client.clone();
    tokio::spawn(async move {
        let send = |(h, w): (u16, u16)| {
            let q = Query::new().non_empty("h", &h.to_string()).non_empty("w", &w.to_string());
            let client = client.clone();
            let path = path.clone();
            async move {
                let _ = client.post(&path, &q).await;
            }
        };
        // Listen before the first size is read, so no change is lost between.
        let winch = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change());
        if let Some(s) = size() {
            send(s).await;
        }
        let Ok(mut winch) = winch else { return };
        while winch.recv().await.is_some() {
            if let Some(s) = size() {
                send(s).await;
            }
        }
    })
}

/// Waits for an attach session's streams while keeping the container's
/// terminal size in step with ours (for a TTY on a terminal).
pub async fn follow_attach(
    client: &Client,
    resize_path: String,
    tty: bool,
    streams: tokio::task::JoinHandle<anyhow::Result<crate::stdio::Ended>>,
) -> anyhow::Result<crate::stdio::Ended> {
    let resizer = (tty && stdout_is_terminal()).then(|| monitor_size(client, resize_path));
    let ended = match streams.await {
        Ok(r) => r,
        Err(e) => Err(anyhow::anyhow!("attach stream failed: {e}")),
    };
    if let Some(r) = &resizer {
        r.abort();
    }
    ended
}
