//! Writing a value tree as YAML the way `docker compose config` prints it:
//! two-space indentation, list items under their key, strings quoted only
//! when they would read back as something else.
//!
//! [`ordered`] builds the tree from any `Serialize` value keeping the order
//! fields are written in, so the output follows struct field order (as
//! Compose's does), which `serde_json::to_value` would sort away.

use serde::Serialize;
use yaml_rust2::{Yaml, YamlLoader};

/// An ordered tree of `v`: its JSON text, read back by the YAML parser
/// (JSON is YAML; the parser's mappings keep insertion order).
pub fn ordered<T: Serialize>(v: &T) -> Result<OrderedValue, String> {
    let text = serde_json::to_string(v).map_err(|e| e.to_string())?;
    let mut docs = YamlLoader::load_from_str(&text).map_err(|e| e.to_string())?;
    if docs.is_empty() {
        return Err("nothing to write".into());
    }
    Ok(OrderedValue(docs.swap_remove(0)))
}

/// A value tree with ordered mappings, ready to print.
pub struct OrderedValue(Yaml);

impl OrderedValue {
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        match &self.0 {
            Yaml::Hash(h) if !h.is_empty() => write_omap(&mut out, h, 0),
            other => {
                out.push_str(&yinline(other));
                out.push('\n');
            }
        }
        out
    }
}

fn ykey(k: &Yaml) -> String {
    match k {
        Yaml::String(s) => scalar_str(s),
        other => yinline(other),
    }
}

fn write_omap(out: &mut String, h: &yaml_rust2::yaml::Hash, indent: usize) {
    for (k, v) in h {
        out.push_str(&" ".repeat(indent));
        out.push_str(&ykey(k));
        out.push(':');
        ywrite_after_key(out, v, indent);
    }
}

fn ywrite_after_key(out: &mut String, v: &Yaml, indent: usize) {
    match v {
        Yaml::Hash(h) if !h.is_empty() => {
            out.push('\n');
            write_omap(out, h, indent + 2);
        }
        Yaml::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_oseq(out, a, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&yinline(other));
            out.push('\n');
        }
    }
}

fn write_oseq(out: &mut String, items: &[Yaml], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Yaml::Hash(h) if !h.is_empty() => {
                let mut first = true;
                for (k, v) in h {
                    if !first {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    first = false;
                    out.push_str(&ykey(k));
                    out.push(':');
                    ywrite_after_key(out, v, indent + 2);
                }
            }
            Yaml::Array(a) if !a.is_empty() => {
                out.push('\n');
                write_oseq(out, a, indent + 2);
            }
            other => {
                out.push_str(&yinline(other));
                out.push('\n');
            }
        }
    }
}

fn yinline(v: &Yaml) -> String {
    match v {
        Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => "null".into(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Real(r) => r.clone(),
        Yaml::String(s) => scalar_str(s),
        Yaml::Array(_) => "[]".into(),
        Yaml::Hash(_) => "{}".into(),
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
    if matches!(
        lower.as_str(),
        "null"
            | "~"
            | "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | ".inf"
            | "-.inf"
            | ".nan"
    ) {
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
            ordered(&v).unwrap().to_yaml(),
            "a:\n  e: {}\n  list:\n    - k: 1\n      m: x\n    - s\n  nl: null\n  q: \"8080\"\n  t: \"yes\"\n"
        );
    }

    #[test]
    fn ordered_follows_struct_order() {
        #[derive(Serialize)]
        struct S {
            zeta: u8,
            alpha: Vec<&'static str>,
            mid: std::collections::BTreeMap<&'static str, Option<&'static str>>,
        }
        let s = S {
            zeta: 1,
            alpha: vec!["8080", "x"],
            mid: [("k", None)].into(),
        };
        assert_eq!(
            ordered(&s).unwrap().to_yaml(),
            "zeta: 1\nalpha:\n  - \"8080\"\n  - x\nmid:\n  k: null\n"
        );
    }

    #[test]
    fn round_trips_through_the_parser() {
        let v = json!({"s": ["", " a", "a: b", "#x", "-", "multi\nline", "quote\"d", "1.5", "null", "ok"], "n": [1, 2.5, true]});
        let back = crate::yaml::parse("t", &ordered(&v).unwrap().to_yaml()).unwrap();
        assert_eq!(back, v);
    }
}
