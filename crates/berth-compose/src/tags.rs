//! The `!reset` and `!override` tags of override files.
//!
//! The YAML parser drops tags from the tree, so `yaml::parse_tagged`
//! reports where they were (a path of keys and indexes). A reset node is
//! taken out before interpolation and normalisation (its value does not
//! matter), an override node stays; after normalisation both are put back
//! as markers at the same path, which `merge` honours (reset: remove the
//! key from what came before; override: replace instead of merging) and
//! `strip` removes once every file is merged.

use serde_json::{Map, Value};

use crate::error::{ComposeError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    Reset,
    Override,
}

/// A tagged node: where it is in the file's tree and in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub path: Vec<Seg>,
    pub kind: TagKind,
    pub line: usize,
    pub column: usize,
}

// NUL cannot appear in a YAML document, so no file can spell these.
const RESET: &str = "\u{0}berth:reset";
const OVERRIDE: &str = "\u{0}berth:override";

pub fn is_reset(v: &Value) -> bool {
    v.as_str() == Some(RESET)
}

/// The value an override marker wraps, or the value itself.
pub fn take_override(v: Value) -> std::result::Result<Value, Value> {
    match v {
        Value::Object(mut m) if m.len() == 1 && m.contains_key(OVERRIDE) => {
            Ok(m.remove(OVERRIDE).unwrap_or(Value::Null))
        }
        other => Err(other),
    }
}

pub(crate) fn get_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn unsupported(file: &str, t: &Tagged, why: &str) -> ComposeError {
    ComposeError::Unsupported {
        file: file.to_string(),
        path: format!("line {}, column {} ({why})", t.line, t.column),
        key: match t.kind {
            TagKind::Reset => "!reset".into(),
            TagKind::Override => "!override".into(),
        },
    }
}

/// Takes the reset nodes out of a freshly parsed tree.
pub fn take_resets(v: &mut Value, tags: &[Tagged], file: &str) -> Result<()> {
    // Deepest and last first, so that indexes stay right.
    let mut resets: Vec<&Tagged> = tags.iter().filter(|t| t.kind == TagKind::Reset).collect();
    resets.sort_by_key(|t| std::cmp::Reverse(t.path.len()));
    for t in resets {
        let Some((Seg::Key(last), parent)) = t.path.split_last() else {
            return Err(unsupported(file, t, "only a mapping entry can be reset"));
        };
        if let Some(Value::Object(m)) = get_mut(v, parent) {
            m.remove(last);
        }
    }
    Ok(())
}

/// Puts the markers back into the normalised tree.
pub fn mark(v: &mut Value, tags: &[Tagged], file: &str) -> Result<()> {
    for t in tags {
        match t.kind {
            TagKind::Reset => {
                let Some((Seg::Key(last), parent)) = t.path.split_last() else {
                    return Err(unsupported(file, t, "only a mapping entry can be reset"));
                };
                match get_mut(v, parent) {
                    Some(Value::Object(m)) => {
                        m.insert(last.clone(), Value::String(RESET.into()));
                    }
                    _ => return Err(unsupported(file, t, "not at a place berth can reset")),
                }
            }
            TagKind::Override => {
                let Some(node) = get_mut(v, &t.path) else {
                    return Err(unsupported(file, t, "not at a place berth can override"));
                };
                let inner = std::mem::take(node);
                let mut m = Map::new();
                m.insert(OVERRIDE.into(), inner);
                *node = Value::Object(m);
            }
        }
    }
    Ok(())
}

/// Removes the markers: reset entries go, override markers give way to
/// their value.
pub fn strip(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, val| !is_reset(val));
            for val in m.values_mut() {
                *val = match take_override(std::mem::take(val)) {
                    Ok(v) | Err(v) => v,
                };
                strip(val);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

/// A copy without markers (for checking one file on its own).
pub fn stripped(v: &Value) -> Value {
    let mut c = v.clone();
    strip(&mut c);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tag(path: &[&str], kind: TagKind) -> Tagged {
        Tagged {
            path: path.iter().map(|s| Seg::Key(s.to_string())).collect(),
            kind,
            line: 1,
            column: 1,
        }
    }

    #[test]
    fn take_mark_and_strip() {
        let mut v = json!({"a": {"ports": ["x"], "env": {"FOO": null, "BAR": "1"}, "cmd": ["c"]}});
        let tags = vec![
            tag(&["a", "ports"], TagKind::Reset),
            tag(&["a", "env", "FOO"], TagKind::Reset),
            tag(&["a", "cmd"], TagKind::Override),
        ];
        take_resets(&mut v, &tags, "f").unwrap();
        assert_eq!(v, json!({"a": {"env": {"BAR": "1"}, "cmd": ["c"]}}));
        mark(&mut v, &tags, "f").unwrap();
        assert!(is_reset(&v["a"]["ports"]));
        assert!(is_reset(&v["a"]["env"]["FOO"]));
        assert_eq!(take_override(v["a"]["cmd"].clone()), Ok(json!(["c"])));
        strip(&mut v);
        assert_eq!(v, json!({"a": {"env": {"BAR": "1"}, "cmd": ["c"]}}));
    }

    #[test]
    fn reset_of_a_list_item_is_refused() {
        let mut v = json!({"a": ["x"]});
        let t = Tagged {
            path: vec![Seg::Key("a".into()), Seg::Index(0)],
            kind: TagKind::Reset,
            line: 3,
            column: 5,
        };
        let e = take_resets(&mut v, &[t], "f").unwrap_err().to_string();
        assert!(
            e.contains("!reset") && e.contains("line 3, column 5"),
            "{e}"
        );
    }
}
