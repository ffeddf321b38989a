//! Phase timings for the hot paths (start, exit), logged with `-D`, so
//! where the time goes on `run` is visible without a profiler.

use std::time::Instant;

/// Records how long each named phase of one operation took.
pub struct PhaseTimer {
    what: String,
    start: Instant,
    last: Instant,
    parts: Vec<(&'static str, f64)>,
}

impl PhaseTimer {
    pub fn new(what: impl Into<String>) -> PhaseTimer {
        let now = Instant::now();
        PhaseTimer { what: what.into(), start: now, last: now, parts: Vec::new() }
    }

    /// Ends the current phase, naming it.
    pub fn mark(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.parts.push((phase, (now - self.last).as_secs_f64() * 1000.0));
        self.last = now;
    }

    /// Logs `what: phase 1.2ms, ... total 3.4ms` at debug level.
    pub fn finish(self) {
        if !crate::daemon::debug_enabled() {
            return;
        }
        let mut line = format!("{}:", self.what);
        for (p, ms) in &self.parts {
            line.push_str(&format!(" {p} {ms:.1}ms"));
        }
        line.push_str(&format!(" total {:.1}ms", self.start.elapsed().as_secs_f64() * 1000.0));
        crate::daemon::log(&line);
    }
}
