//! YAML text to a JSON-shaped value tree.
//!
//! yaml-rust2 parses (YAML 1.2 core schema, as Compose's go-yaml v3: `yes`
//! and `80:80` stay strings) and resolves anchors; this module turns its
//! tree into `serde_json::Value`, applying merge keys (`<<`), which the
//! parser leaves to the application, and making every mapping key a string.

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

use crate::error::{ComposeError, Result};

/// Nesting beyond this is refused: a hostile file must not exhaust the stack.
const MAX_DEPTH: usize = 256;

/// Parses one compose file's text. An empty file is an empty mapping.
pub fn parse(file: &str, text: &str) -> Result<Value> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| ComposeError::Yaml {
        file: file.to_string(),
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
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
                return Err(ComposeError::invalid(file, "top-level object must be a mapping"));
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
                _ => Err(ComposeError::invalid(file, "merge key << takes a mapping or a list of mappings")),
            })
            .collect(),
        _ => Err(ComposeError::invalid(file, "merge key << takes a mapping or a list of mappings")),
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
        let v = parse("f", "a: yes\nb: 80:80\nc: 1.5\nd: true\ne: ~\nf: '8'\ng: 8\n").unwrap();
        assert_eq!(v, json!({"a":"yes","b":"80:80","c":1.5,"d":true,"e":null,"f":"8","g":8}));
    }

    #[test]
    fn anchors_and_merge_keys() {
        let text = "x-common: &common\n  image: busybox\n  restart: always\nservices:\n  a:\n    <<: *common\n    restart: \"no\"\n  b: *common\n";
        let v = parse("f", text).unwrap();
        assert_eq!(v["services"]["a"], json!({"image":"busybox","restart":"no"}));
        assert_eq!(v["services"]["b"], json!({"image":"busybox","restart":"always"}));
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
            ComposeError::Yaml { file, line, column, .. } => {
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
    fn numeric_keys_become_strings() {
        let v = parse("f", "1: a\ntrue: b\n").unwrap();
        assert_eq!(v, json!({"1":"a","true":"b"}));
    }
}
