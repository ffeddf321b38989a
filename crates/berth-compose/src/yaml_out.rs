//! Writing a value tree as YAML the way `docker compose config` prints it:
//! two-space indentation, list items under their key, strings quoted only
//! when they would read back as something else.

use serde_json::Value;

/// YAML text of `v` (a mapping at the top), ending with a newline.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m.iter(), 0),
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

/// Writes the entries of a mapping in the order given, at `indent`.
pub fn write_map<'a>(out: &mut String, entries: impl Iterator<Item = (&'a String, &'a Value)>, indent: usize) {
    for (k, v) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(&scalar_str(k));
        out.push(':');
        write_value_after_key(out, v, indent);
    }
}

fn write_value_after_key(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m.iter(), indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => {
                // First entry on the dash line, the rest aligned under it.
                let mut first = true;
                for (k, v) in m {
                    if !first {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    first = false;
                    out.push_str(&scalar_str(k));
                    out.push(':');
                    write_value_after_key(out, v, indent + 2);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                write_seq(out, a, indent + 2);
            }
            other => {
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

fn inline(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_str(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A string as a plain scalar when that reads back as the same string,
/// double-quoted otherwise.
pub fn scalar_str(s: &str) -> String {
    if needs_quotes(s) {
        quote(s)
    } else {
        s.to_string()
    }
}

fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s != s.trim() {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(lower.as_str(), "null" | "~" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | ".inf" | "-.inf" | ".nan") {
        return true;
    }
    if s.parse::<f64>().is_ok() || s.starts_with("0x") || s.starts_with("0o") {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return true;
    }
    s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.chars().any(|c| c.is_control())
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shape() {
        let v = json!({"a": {"list": [{"k": 1, "m": "x"}, "s"], "e": {}, "nl": null, "q": "8080", "t": "yes"}});
        assert_eq!(
            to_yaml(&v),
            "a:\n  e: {}\n  list:\n    - k: 1\n      m: x\n    - s\n  nl: null\n  q: \"8080\"\n  t: \"yes\"\n"
        );
    }

    #[test]
    fn round_trips_through_the_parser() {
        let v = json!({"s": ["", " a", "a: b", "#x", "-", "multi\nline", "quote\"d", "1.5", "null", "ok"], "n": [1, 2.5, true]});
        let back = crate::yaml::parse("t", &to_yaml(&v)).unwrap();
        assert_eq!(back, v);
    }
}
