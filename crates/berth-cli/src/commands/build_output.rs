//! Showing a build's classic message stream: as plain lines (what the
//! docker CLI prints without BuildKit), or on a terminal in a BuildKit-like
//! form: one line per step with CACHED or its time, the RUN output
//! indented under it, and a summary at the end.

use serde_json::Value;
use std::io::Write;
use std::time::Instant;

/// How the build ended, from its messages.
#[derive(Debug, Default)]
pub struct Outcome {
    pub image_id: Option<String>,
    /// `errorDetail`: message and code.
    pub error: Option<(String, i64)>,
    /// berthd's `errorDetail.line` and `.instruction`: where the build failed.
    pub at: Option<(u64, Option<String>)>,
}

pub trait Render {
    fn message(&mut self, m: &Value, out: &mut dyn Write) -> std::io::Result<()>;
    fn finish(&mut self, _out: &mut dyn Write, _o: &Outcome) -> std::io::Result<()> {
        Ok(())
    }
}

fn text<'a>(m: &'a Value, k: &str) -> &'a str {
    m.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The docker CLI's own lines (also `-q`, whose one message is the ID).
pub struct Plain;

impl Render for Plain {
    fn message(&mut self, m: &Value, out: &mut dyn Write) -> std::io::Result<()> {
        if m.get("aux").is_some() || m.get("errorDetail").is_some() {
            return Ok(());
        }
        if m.get("progressDetail").and_then(Value::as_object).is_some_and(|d| !d.is_empty()) {
            return Ok(());
        }
        let id = text(m, "id");
        if !id.is_empty() {
            write!(out, "{id}: ")?;
        }
        if m.get("stream").is_some() {
            out.write_all(text(m, "stream").as_bytes())?;
        } else if !text(m, "status").is_empty() {
            writeln!(out, "{}", text(m, "status"))?;
        }
        out.flush()
    }
}

struct Step {
    label: String,
    started: Instant,
    cached: bool,
    /// RUN output not yet ending in a newline.
    partial: String,
    /// Whether anything was printed under the step's first line (which
    /// is otherwise rewritten in place when the step ends).
    below: bool,
}

/// The terminal form.
pub struct Steps {
    started: Instant,
    current: Option<Step>,
    steps: usize,
    cached: usize,
    tagged: Vec<String>,
}

impl Steps {
    pub fn new() -> Steps {
        Steps { started: Instant::now(), current: None, steps: 0, cached: 0, tagged: Vec::new() }
    }

    fn end_step(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let Some(mut s) = self.current.take() else { return Ok(()) };
        if !s.partial.is_empty() {
            writeln!(out, "  │ {}", std::mem::take(&mut s.partial))?;
        }
        if s.below {
            // The step's line scrolled up: its result gets a line of its own.
        } else {
            write!(out, "\r\x1b[2K")?;
        }
        if s.cached {
            self.cached += 1;
            writeln!(out, "\x1b[34m=> CACHED {}\x1b[0m", s.label)?;
        } else {
            writeln!(out, "\x1b[34m=> {}\x1b[0m  {:.1}s", s.label, s.started.elapsed().as_secs_f64())?;
        }
        Ok(())
    }

    fn output(&mut self, t: &str, out: &mut dyn Write) -> std::io::Result<()> {
        let Some(s) = self.current.as_mut() else {
            return out.write_all(t.as_bytes());
        };
        if !s.below {
            writeln!(out)?;
            s.below = true;
        }
        // A chunk of stderr, which dockerd wraps in red as a whole: red
        // line by line here, so the indent stays uncoloured.
        if let Some(red) = t.strip_prefix("\x1b[91m").and_then(|r| r.strip_suffix("\x1b[0m")) {
            if !s.partial.is_empty() {
                writeln!(out, "  │ {}", std::mem::take(&mut s.partial))?;
            }
            for line in red.lines() {
                writeln!(out, "  │ \x1b[91m{line}\x1b[0m")?;
            }
            return Ok(());
        }
        s.partial.push_str(t);
        while let Some(i) = s.partial.find('\n') {
            let line: String = s.partial.drain(..=i).collect();
            writeln!(out, "  │ {}", line.trim_end_matches('\n'))?;
        }
        Ok(())
    }
}

fn is_short_id(t: &str) -> bool {
    t.len() == 12 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Render for Steps {
    fn message(&mut self, m: &Value, out: &mut dyn Write) -> std::io::Result<()> {
        if m.get("aux").is_some() || m.get("errorDetail").is_some() {
            return Ok(());
        }
        let Some(t) = m.get("stream").and_then(Value::as_str) else {
            // Pull progress of a FROM: its status lines only.
            if m.get("progressDetail").and_then(Value::as_object).is_none_or(|d| d.is_empty()) && !text(m, "status").is_empty() {
                let id = text(m, "id");
                let sep = if id.is_empty() { "" } else { ": " };
                writeln!(out, "  {id}{sep}{}", text(m, "status"))?;
            }
            return out.flush();
        };
        if let Some(rest) = t.strip_prefix("Step ") {
            self.end_step(out)?;
            let (count, instr) = rest.trim_end().split_once(" : ").unwrap_or((rest.trim_end(), ""));
            self.steps += 1;
            self.current = Some(Step { label: format!("[{count}] {instr}"), started: Instant::now(), cached: false, partial: String::new(), below: false });
            write!(out, "\x1b[2m[{count}] {instr}\x1b[0m")?;
        } else if let Some(arrow) = t.strip_prefix(" ---> ") {
            let arrow = arrow.trim_end();
            if arrow == "Using cache" {
                if let Some(s) = self.current.as_mut() {
                    s.cached = true;
                }
            } else if is_short_id(arrow) {
                self.end_step(out)?;
            }
            // "Running in …", "Removed intermediate container …": noise here.
        } else if let Some(tag) = t.strip_prefix("Successfully tagged ") {
            self.tagged.push(tag.trim_end().to_string());
        } else if t.starts_with("Successfully built ") {
            self.end_step(out)?;
        } else {
            self.output(t, out)?;
        }
        out.flush()
    }

    fn finish(&mut self, out: &mut dyn Write, o: &Outcome) -> std::io::Result<()> {
        if o.error.is_some() {
            if let Some(s) = self.current.take() {
                if !s.partial.is_empty() {
                    writeln!(out, "  │ {}", s.partial)?;
                }
                if !s.below {
                    write!(out, "\r\x1b[2K")?;
                }
                writeln!(out, "\x1b[31m=> ERROR {}\x1b[0m  {:.1}s", s.label, s.started.elapsed().as_secs_f64())?;
            }
            return out.flush();
        }
        self.end_step(out)?;
        let id = o.image_id.as_deref().unwrap_or("").trim_start_matches("sha256:");
        writeln!(
            out,
            "Built {} in {:.2}s: {} steps, {} cached",
            &id[..id.len().min(12)],
            self.started.elapsed().as_secs_f64(),
            self.steps,
            self.cached
        )?;
        for t in &self.tagged {
            writeln!(out, "Tagged {t}")?;
        }
        out.flush()
    }
}

/// Picks the end state out of one message.
pub fn observe(m: &Value, o: &mut Outcome) {
    if let Some(id) = m.get("aux").and_then(|a| a.get("ID")).and_then(Value::as_str) {
        o.image_id = Some(id.to_string());
    }
    // With `q` the daemon sends the ID alone as a stream line.
    if let Some(id) = m.get("stream").and_then(Value::as_str).map(str::trim).filter(|s| s.starts_with("sha256:") && s.len() == 71) {
        o.image_id.get_or_insert_with(|| id.to_string());
    }
    if let Some(d) = m.get("errorDetail") {
        let msg = d.get("message").and_then(Value::as_str).or_else(|| m.get("error").and_then(Value::as_str)).unwrap_or("").to_string();
        let code = d.get("code").and_then(Value::as_i64).unwrap_or(0);
        o.error = Some((msg, code));
        if let Some(line) = d.get("line").and_then(Value::as_u64) {
            o.at = Some((line, d.get("instruction").and_then(Value::as_str).map(str::to_string)));
        }
    } else if let Some(e) = m.get("error").and_then(Value::as_str) {
        o.error = Some((e.to_string(), 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(r: &mut dyn Render, msgs: &[Value]) -> String {
        let mut out = Vec::new();
        let mut o = Outcome::default();
        for m in msgs {
            observe(m, &mut o);
            r.message(m, &mut out).unwrap();
        }
        r.finish(&mut out, &o).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn msgs() -> Vec<Value> {
        vec![
            json!({"stream": "Step 1/2 : FROM busybox\n"}),
            json!({"stream": " ---> 0123456789ab\n"}),
            json!({"stream": "Step 2/2 : RUN echo hi\n"}),
            json!({"stream": " ---> Running in 111111111111\n"}),
            json!({"stream": "hi\n"}),
            json!({"stream": " ---> Removed intermediate container 111111111111\n"}),
            json!({"stream": " ---> abcdefabcdef\n"}),
            json!({"aux": {"ID": "sha256:abcdefabcdef0000"}}),
            json!({"stream": "Successfully built abcdefabcdef\n"}),
            json!({"stream": "Successfully tagged app:latest\n"}),
        ]
    }

    #[test]
    fn plain_is_the_classic_text() {
        let s = run(&mut Plain, &msgs());
        assert!(s.starts_with("Step 1/2 : FROM busybox\n ---> 0123456789ab\n"), "{s}");
        assert!(s.ends_with("Successfully tagged app:latest\n"), "{s}");
    }

    #[test]
    fn steps_show_output_under_their_step_and_a_summary() {
        let s = run(&mut Steps::new(), &msgs());
        assert!(s.contains("[2/2] RUN echo hi"), "{s}");
        assert!(s.contains("  │ hi\n"), "{s}");
        assert!(s.contains("Built abcdefabcdef in "), "{s}");
        assert!(s.contains("Tagged app:latest"), "{s}");
        assert!(!s.contains("Running in"), "{s}");
    }
}
