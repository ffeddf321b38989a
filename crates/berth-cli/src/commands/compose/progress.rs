//! Compose v2's progress output on stderr: on a terminal a block redrawn
//! in place (`[+] Running 3/3` over ` ✔ Container p-web-1  Started  0.3s`
//! lines), elsewhere one plain line per event (` Container p-web-1  Started`),
//! as `--progress plain` prints them; `quiet` prints nothing and `json` one
//! object per event.
//!
//! Events come from concurrent creates and starts in one task, so the
//! state sits behind a plain mutex held only while formatting a write.

use super::Global;
use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Tty,
    Plain,
    Quiet,
    Json,
}

/// The mode `--progress` and `--ansi` ask for; `auto` is the block on a
/// terminal and plain lines otherwise, as Compose chooses.
pub fn mode(global: &Global) -> Mode {
    match global.progress.as_deref() {
        Some("quiet") => Mode::Quiet,
        Some("plain") => Mode::Plain,
        Some("json") => Mode::Json,
        Some("tty") => Mode::Tty,
        _ if global.ansi == "never" => Mode::Plain,
        _ if crate::terminal::is_terminal(2) => Mode::Tty,
        _ => Mode::Plain,
    }
}

/// `auto` without the flags (for callers that have no [`Global`]).
pub fn auto_mode() -> Mode {
    if crate::terminal::is_terminal(2) {
        Mode::Tty
    } else {
        Mode::Plain
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Working,
    Done,
    Error,
}

struct Entry {
    id: String,
    text: String,
    status: Status,
    started: Instant,
    ended: Option<Instant>,
}

struct State {
    entries: Vec<Entry>,
    /// Lines of the block already on the terminal (tty mode).
    drawn: usize,
}

pub struct Progress {
    mode: Mode,
    title: String,
    /// Plain lines of service steps (pull, push): ` web Pulled ` — Compose
    /// prints the step as the event's text where a container's state is
    /// its status text, hence one space instead of two.
    service_steps: bool,
    state: Mutex<State>,
}

impl Progress {
    /// A progress display; `title` is Compose's verb for the operation
    /// ("Running", "Stopping", "Removing", ...).
    pub fn new(global: &Global, title: &str) -> Progress {
        Progress::with_mode(mode(global), title)
    }

    pub fn with_mode(mode: Mode, title: &str) -> Progress {
        Progress { mode, title: title.to_string(), service_steps: false, state: Mutex::new(State { entries: Vec::new(), drawn: 0 }) }
    }

    /// The display of per-service steps (`pull`, `push`): the same block
    /// on a terminal, Compose's ` web Pulled ` plain lines elsewhere.
    pub fn service_steps(mode: Mode, title: &str) -> Progress {
        Progress { service_steps: true, ..Progress::with_mode(mode, title) }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn is_quiet(&self) -> bool {
        self.mode == Mode::Quiet
    }

    pub fn working(&self, id: &str, text: &str) {
        self.event(id, text, Status::Working);
    }

    pub fn done(&self, id: &str, text: &str) {
        self.event(id, text, Status::Done);
    }

    pub fn error(&self, id: &str, text: &str) {
        self.event(id, text, Status::Error);
    }

    pub fn event(&self, id: &str, text: &str, status: Status) {
        let Ok(mut st) = self.state.lock() else { return };
        let now = Instant::now();
        match st.entries.iter_mut().find(|e| e.id == id) {
            Some(e) => {
                e.text = text.to_string();
                e.status = status;
                e.ended = (status != Status::Working).then_some(now);
            }
            None => st.entries.push(Entry {
                id: id.to_string(),
                text: text.to_string(),
                status,
                started: now,
                ended: (status != Status::Working).then_some(now),
            }),
        }
        let mut err = std::io::stderr().lock();
        let _ = match self.mode {
            Mode::Quiet => Ok(()),
            Mode::Plain if self.service_steps => writeln!(err, " {id} {text} "),
            Mode::Plain => writeln!(err, " {id}  {text}"),
            Mode::Json => {
                let s = match status {
                    Status::Working => "Working",
                    Status::Done => "Done",
                    Status::Error => "Error",
                };
                writeln!(err, "{}", serde_json::json!({"id": id, "text": text, "status": s}))
            }
            Mode::Tty => {
                let block = render(&self.title, &st.entries, now);
                let up = if st.drawn > 0 { format!("\x1b[{}A", st.drawn) } else { String::new() };
                st.drawn = block.len();
                let body: String = block.iter().map(|l| format!("\r\x1b[2K{l}\n")).collect();
                write!(err, "{up}{body}")
            }
        };
    }

    /// Lines that are not events (a warning in the middle of the block)
    /// must not be overwritten by the next redraw.
    pub fn note(&self, line: &str) {
        let Ok(mut st) = self.state.lock() else { return };
        if self.mode == Mode::Tty {
            st.drawn = 0;
        }
        eprintln!("{line}");
    }
}

/// The tty block: the title with done/total, then one line per entry.
fn render(title: &str, entries: &[Entry], now: Instant) -> Vec<String> {
    let done = entries.iter().filter(|e| e.status != Status::Working).count();
    let width = entries.iter().map(|e| e.id.chars().count()).max().unwrap_or(0);
    let twidth = entries.iter().map(|e| e.text.chars().count()).max().unwrap_or(0);
    let mut out = vec![format!("[+] {title} {done}/{}", entries.len())];
    for e in entries {
        let icon = match e.status {
            Status::Working => "\x1b[34m⠿\x1b[0m",
            Status::Done => "\x1b[32m✔\x1b[0m",
            Status::Error => "\x1b[31m✘\x1b[0m",
        };
        let secs = e.ended.unwrap_or(now).duration_since(e.started).as_secs_f64();
        out.push(format!(" {icon} {:<width$}  {:<twidth$}  {secs:.1}s", e.id, e.text));
    }
    out
}

/// Compose's event names: `Container NAME`, `Network NAME`, `Volume NAME`
/// (quoted when created, as Compose prints it), `Image NAME`.
pub fn container(name: &str) -> String {
    format!("Container {name}")
}

pub fn network(name: &str) -> String {
    format!("Network {name}")
}

pub fn volume(name: &str) -> String {
    format!("Volume {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tty_block_counts_finished_entries() {
        let t = Instant::now();
        let e = |id: &str, text: &str, status| Entry { id: id.into(), text: text.into(), status, started: t, ended: Some(t) };
        let block = render("Running", &[e("Network p_default", "Created", Status::Done), e("Container p-web-1", "Starting", Status::Working)], t);
        assert_eq!(block[0], "[+] Running 1/2");
        assert!(block[1].contains("Network p_default  Created "), "{}", block[1]);
        assert!(block[2].contains("Container p-web-1  Starting"), "{}", block[2]);
    }
}
