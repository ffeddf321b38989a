//! YAML text to a JSON-shaped value tree.
//!
//! yaml-rust2 parses (YAML 1.2 core schema, as Compose's go-yaml v3: `yes`
//! and `80:80` stay strings) and resolves anchors; this module turns its
//! tree into `serde_json::Value`, applying merge keys (`<<`), which the
//! parser leaves to the application, and making every mapping key a string.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;
use yaml_rust2::{Yaml, YamlLoader};

use crate::error::{ComposeError, Result};
use crate::tags::{Seg, TagKind, Tagged};

/// Nesting beyond this is refused: a hostile file must not exhaust the stack.
const MAX_DEPTH: usize = 256;

/// Aliases may repeat anchored nodes, but a file may not expand to more
/// nodes than this (a "billion laughs" file would exhaust memory).
const MAX_EXPANDED_NODES: u64 = 1_000_000;

fn syntax(file: &str, e: &yaml_rust2::ScanError) -> ComposeError {
    ComposeError::Yaml {
        file: file.to_string(),
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_string(),
    }
}

/// An open collection during the pre-scan.
struct Open {
    anchor: usize,
    /// Nodes inside so far, aliases expanded.
    size: u64,
    /// This collection is a mapping key (a complex key).
    is_key: bool,
    kind: OpenKind,
}

enum OpenKind {
    Map {
        key: Option<String>,
        expecting_key: bool,
    },
    Seq {
        index: usize,
    },
}

impl Open {
    /// The parent moves on after one of its values is complete.
    fn advance(&mut self) {
        match &mut self.kind {
            OpenKind::Map { key, expecting_key } => {
                *key = None;
                *expecting_key = true;
            }
            OpenKind::Seq { index } => *index += 1,
        }
    }
}

/// One pass over the parser's events before loading: counts the nodes
/// aliases expand to, bounds the nesting, and records where the `!reset`
/// and `!override` tags are (the loader drops tags).
/// The path of the node about to start under the open collections.
fn current_path(open: &[Open]) -> Vec<Seg> {
    open.iter()
        .map(|o| match &o.kind {
            OpenKind::Map { key, .. } => Seg::Key(key.clone().unwrap_or_default()),
            OpenKind::Seq { index } => Seg::Index(*index),
        })
        .collect()
}

/// A plain scalar Go's YAML reads as an octal integer (`0440`), which the
/// YAML 1.2 core schema reads as decimal. Compose files mean octal there
/// (`mode: 0440`).
fn is_go_octal(v: &str) -> Option<i64> {
    let digits = v.strip_prefix('0')?;
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    i64::from_str_radix(digits, 8).ok()
}

/// What the pre-scan found: tags, and octal integers by path.
struct Scan {
    tags: Vec<Tagged>,
    octals: Vec<(Vec<Seg>, i64)>,
}

fn prescan(file: &str, text: &str) -> Result<Scan> {
    let mut parser = Parser::new_from_str(text);
    let mut anchor_size: HashMap<usize, u64> = HashMap::new();
    let mut open: Vec<Open> = Vec::new();
    let mut total: u64 = 0;
    let mut tags = Vec::new();
    let mut octals = Vec::new();
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| syntax(file, &e))?;
        let (anchor, tag) = match &ev {
            Event::Scalar(_, _, a, t) | Event::SequenceStart(a, t) | Event::MappingStart(a, t) => {
                (*a, t.clone())
            }
            Event::StreamEnd => break,
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(done) = open.pop() else { continue };
                if done.anchor > 0 {
                    anchor_size.insert(done.anchor, done.size);
                }
                if let Some(parent) = open.last_mut() {
                    parent.size = parent.size.saturating_add(done.size);
                    if done.is_key {
                        if let OpenKind::Map { expecting_key, .. } = &mut parent.kind {
                            *expecting_key = false;
                        }
                    } else {
                        parent.advance();
                    }
                }
                total = total.saturating_add(1);
                continue;
            }
            Event::Alias(_) => (0, None),
            _ => continue,
        };
        let is_key = matches!(
            open.last(),
            Some(Open {
                kind: OpenKind::Map {
                    expecting_key: true,
                    ..
                },
                ..
            })
        );
        let kind = tag.and_then(|t| match (t.handle.as_str(), t.suffix.as_str()) {
            ("!", "reset") => Some(TagKind::Reset),
            ("!", "override") => Some(TagKind::Override),
            _ => None,
        });
        if let Some(kind) = kind {
            let t = Tagged {
                path: current_path(&open),
                kind,
                line: mark.line(),
                column: mark.col() + 1,
            };
            // A tag copied by an alias or a merge key, or on a key, has no
            // single place in the tree: refused rather than guessed.
            let shared = anchor > 0
                || open.iter().any(|o| o.anchor > 0)
                || t.path.contains(&Seg::Key("<<".into()));
            if shared || is_key {
                return Err(ComposeError::Unsupported {
                    file: file.to_string(),
                    path: format!(
                        "line {}, column {} (on a key, an anchor or a merge key)",
                        t.line, t.column
                    ),
                    key: format!(
                        "!{}",
                        if kind == TagKind::Reset {
                            "reset"
                        } else {
                            "override"
                        }
                    ),
                });
            }
            tags.push(t);
        }
        let added = match ev {
            Event::Scalar(v, style, ..) => {
                if !is_key && style == TScalarStyle::Plain {
                    if let Some(n) = is_go_octal(&v) {
                        octals.push((current_path(&open), n));
                    }
                }
                if anchor > 0 {
                    anchor_size.insert(anchor, 1);
                }
                if is_key {
                    if let Some(Open {
                        kind: OpenKind::Map { key, expecting_key },
                        ..
                    }) = open.last_mut()
                    {
                        *key = Some(v);
                        *expecting_key = false;
                    }
                } else if let Some(parent) = open.last_mut() {
                    parent.advance();
                }
                1
            }
            Event::Alias(id) => {
                let n = anchor_size.get(&id).copied().unwrap_or(1);
                if let Some(parent) = open.last_mut() {
                    if is_key {
                        if let OpenKind::Map { expecting_key, .. } = &mut parent.kind {
                            *expecting_key = false;
                        }
                    } else {
                        parent.advance();
                    }
                }
                n
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let kind = if matches!(ev, Event::MappingStart(..)) {
                    OpenKind::Map {
                        key: None,
                        expecting_key: true,
                    }
                } else {
                    OpenKind::Seq { index: 0 }
                };
                open.push(Open {
                    anchor,
                    size: 1,
                    is_key,
                    kind,
                });
                // Refused before the loader builds (and later drops) a tree
                // deep enough to exhaust the stack.
                if open.len() > MAX_DEPTH {
                    return Err(ComposeError::invalid(file, "YAML nesting is too deep"));
                }
                continue;
            }
            _ => continue,
        };
        total = total.saturating_add(added);
        if let Some(parent) = open.last_mut() {
            parent.size = parent.size.saturating_add(added);
        }
        if total > MAX_EXPANDED_NODES || open.iter().any(|o| o.size > MAX_EXPANDED_NODES) {
            return Err(ComposeError::invalid(
                file,
                format!("YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes"),
            ));
        }
    }
    Ok(Scan { tags, octals })
}

/// Parses one compose file's text. An empty file is an empty mapping.
/// The `!reset` and `!override` tags are refused here: only a compose
/// file's loader knows what to do with them ([`parse_tagged`]).
pub fn parse(file: &str, text: &str) -> Result<Value> {
    let (v, tags) = parse_tagged(file, text)?;
    if let Some(t) = tags.first() {
        return Err(ComposeError::Unsupported {
            file: file.to_string(),
            path: format!("line {}, column {}", t.line, t.column),
            key: if t.kind == TagKind::Reset {
                "!reset".into()
            } else {
                "!override".into()
            },
        });
    }
    Ok(v)
}

/// Parses one compose file's text and says where its `!reset` and
/// `!override` tags are.
pub fn parse_tagged(file: &str, text: &str) -> Result<(Value, Vec<Tagged>)> {
    let scan = prescan(file, text)?;
    let mut v = build(file, text)?;
    for (path, n) in scan.octals {
        if let Some(node) = crate::tags::get_mut(&mut v, &path) {
            if node.is_number() {
                *node = Value::Number(n.into());
            }
        }
    }
    Ok((v, scan.tags))
}

fn build(file: &str, text: &str) -> Result<Value> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| syntax(file, &e))?;
    let mut docs = docs.into_iter();
    let first = docs.next();
    if docs.next().is_some() {
        return Err(ComposeError::invalid(
            file,
            "multiple YAML documents in one compose file are not supported",
        ));
    }
    match first {
        None | Some(Yaml::Null) => Ok(Value::Object(Map::new())),
        Some(doc) => {
            let v = convert(file, doc, 0)?;
            if !v.is_object() {
                return Err(ComposeError::invalid(
                    file,
                    "top-level object must be a mapping",
                ));
            }
            Ok(v)
        }
    }
}

fn convert(file: &str, y: Yaml, depth: usize) -> Result<Value> {
    if depth > MAX_DEPTH {
        return Err(ComposeError::invalid(file, "YAML nesting is too deep"));
    }
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Integer(i) => Value::Number(i.into()),
        Yaml::Real(s) => match s.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Value::Number(n),
            None => Value::String(s),
        },
        Yaml::String(s) => Value::String(s),
        Yaml::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|i| convert(file, i, depth + 1))
                .collect::<Result<_>>()?,
        ),
        Yaml::Hash(h) => {
            let mut out = Map::new();
            let mut merged: Vec<Map<String, Value>> = Vec::new();
            for (k, v) in h {
                let key = key_string(file, k)?;
                let v = convert(file, v, depth + 1)?;
                if key == "<<" {
                    merged.extend(merge_sources(file, v)?);
                } else {
                    out.insert(key, v);
                }
            }
            // Explicit keys win over merged ones; earlier merge sources win
            // over later ones (YAML merge key semantics).
            for src in merged {
                for (k, v) in src {
                    out.entry(k).or_insert(v);
                }
            }
            Value::Object(out)
        }
        Yaml::Alias(_) | Yaml::BadValue => {
            return Err(ComposeError::invalid(file, "unresolved YAML alias"))
        }
    })
}

fn merge_sources(file: &str, v: Value) -> Result<Vec<Map<String, Value>>> {
    match v {
        Value::Object(m) => Ok(vec![m]),
        Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Value::Object(m) => Ok(m),
                _ => Err(ComposeError::invalid(
                    file,
                    "merge key << takes a mapping or a list of mappings",
                )),
            })
            .collect(),
        _ => Err(ComposeError::invalid(
            file,
            "merge key << takes a mapping or a list of mappings",
        )),
    }
}

fn key_string(file: &str, k: Yaml) -> Result<String> {
    Ok(match k {
        Yaml::String(s) | Yaml::Real(s) => s,
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".to_string(),
        _ => return Err(ComposeError::invalid(file, "mapping keys must be scalars")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_follow_yaml_1_2_core_schema() {
        let v = parse(
            "f",
            "a: yes\nb: 80:80\nc: 1.5\nd: true\ne: ~\nf: '8'\ng: 8\n",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"a":"yes","b":"80:80","c":1.5,"d":true,"e":null,"f":"8","g":8})
        );
    }

    #[test]
    fn anchors_and_merge_keys() {
        let text = "x-common: &common\n  image: busybox\n  restart: always\nservices:\n  a:\n    <<: *common\n    restart: \"no\"\n  b: *common\n";
        let v = parse("f", text).unwrap();
        assert_eq!(
            v["services"]["a"],
            json!({"image":"busybox","restart":"no"})
        );
        assert_eq!(
            v["services"]["b"],
            json!({"image":"busybox","restart":"always"})
        );
    }

    #[test]
    fn merge_key_with_list_first_wins() {
        let text = "a: &a {k: 1, x: 1}\nb: &b {k: 2, y: 2}\nc:\n  <<: [*a, *b]\n";
        let v = parse("f", text).unwrap();
        assert_eq!(v["c"], json!({"k":1,"x":1,"y":2}));
    }

    #[test]
    fn syntax_error_has_file_line_and_column() {
        let err = parse("compose.yaml", "services:\n  web:\n    image: [busybox\n").unwrap_err();
        match err {
            ComposeError::Yaml {
                file, line, column, ..
            } => {
                assert_eq!(file, "compose.yaml");
                assert!(line >= 3, "line {line}");
                assert!(column >= 1);
            }
            other => panic!("{other:?}"),
        }
        let err = parse("c.yml", "a: b\n  c: d\n").unwrap_err().to_string();
        assert!(err.starts_with("yaml: c.yml: line 2, column "), "{err}");
    }

    #[test]
    fn empty_file_and_non_mapping() {
        assert_eq!(parse("f", "").unwrap(), json!({}));
        assert!(parse("f", "- a\n").is_err());
        assert!(parse("f", "a: 1\n---\nb: 2\n").is_err());
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let e = parse("bomb.yaml", &text).unwrap_err().to_string();
        assert!(e.contains("YAML aliases expand to more than"), "{e}");
        // Modest reuse is fine.
        assert!(parse("f", "a: &a [1, 2]\nb: [*a, *a]\n").is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let text = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let e = parse("deep.yaml", &text).unwrap_err().to_string();
        assert!(
            e.contains("recursion limit exceeded") || e.contains("too deep"),
            "{e}"
        );
        let block: String = (0..1000)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let e = parse("deep.yaml", &block).unwrap_err().to_string();
        assert!(e.contains("too deep"), "{e}");
        let text = format!("a: {}1{}\n", "[".repeat(200), "]".repeat(200));
        assert!(parse("ok.yaml", &text).is_ok());
    }

    #[test]
    fn merge_changing_tags_are_refused() {
        for text in [
            "ports: !reset []\n",
            "ports: !override\n  - 80\n",
            "a: !reset null\n",
        ] {
            match parse("f", text) {
                Err(ComposeError::Unsupported { key, .. }) => {
                    assert!(key == "!reset" || key == "!override")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(parse("f", "a: !!str 80\n").is_ok());
    }

    #[test]
    fn tag_paths() {
        let text = "services:\n  a:\n    ports: !reset []\n    env:\n      X: !reset null\n    list:\n      - keep\n      - !override {k: v}\n  b: !override\n    image: x\n";
        let (_, tags) = parse_tagged("f", text).unwrap();
        let key = |s: &str| Seg::Key(s.into());
        assert_eq!(tags.len(), 4);
        assert_eq!(
            (tags[0].path.clone(), tags[0].kind),
            (
                vec![key("services"), key("a"), key("ports")],
                TagKind::Reset
            )
        );
        assert_eq!(tags[0].line, 3);
        assert_eq!(
            tags[1].path,
            vec![key("services"), key("a"), key("env"), key("X")]
        );
        assert_eq!(
            (tags[2].path.clone(), tags[2].kind),
            (
                vec![key("services"), key("a"), key("list"), Seg::Index(1)],
                TagKind::Override
            )
        );
        assert_eq!(tags[3].path, vec![key("services"), key("b")]);
        // Tags on keys or inside anchors are refused.
        assert!(parse_tagged("f", "? !reset a\n: 1\n").is_err());
        assert!(parse_tagged("f", "a: &x\n  b: !reset 1\nc: *x\n").is_err());
    }

    #[test]
    fn leading_zero_integers_are_octal_as_in_go() {
        let v = parse("f", "a: 0440\nb: '0440'\nc: 10\nd: 0\ne: [0755]\nf: 089\n").unwrap();
        assert_eq!(v["a"], 0o440);
        assert_eq!(v["b"], "0440");
        assert_eq!(v["c"], 10);
        assert_eq!(v["d"], 0);
        assert_eq!(v["e"][0], 0o755);
        assert_eq!(v["f"], 89);
    }

    #[test]
    fn numeric_keys_become_strings() {
        let v = parse("f", "1: a\ntrue: b\n").unwrap();
        assert_eq!(v, json!({"1":"a","true":"b"}));
    }
}
