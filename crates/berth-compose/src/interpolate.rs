//! Variable interpolation as Compose v2 does it: `$VAR`, `${VAR}`, the
//! `:-` `-` `:?` `?` `:+` `+` operators with nested values, and `$$` for a
//! literal dollar. Applied to values only, never to mapping keys.

use serde_json::Value;

use crate::error::{ComposeError, Result};

/// Where variables come from: a lookup (the process environment over the
/// project's `.env`, see [`crate::env::Environment`]).
pub trait Lookup {
    fn get(&self, name: &str) -> Option<String>;
}

impl Lookup for std::collections::BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        std::collections::BTreeMap::get(self, name).cloned()
    }
}

/// Interpolates every string value in the tree, in place. `path` names the
/// value in errors (`services.web.image`). Unset variables without a default
/// become empty strings and are reported once each in `warnings`.
pub fn interpolate_tree(
    v: &mut Value,
    path: &str,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
) -> Result<()> {
    match v {
        Value::String(s) if s.contains('$') => {
            *s = interpolate(s, path, env, warnings)?;
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                // Compose names a list item `.[]`, whichever it is.
                interpolate_tree(item, &format!("{path}.[]"), env, warnings)?;
            }
        }
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                interpolate_tree(item, &p, env, warnings)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// Nested values deeper than this are refused (a hostile file must not
/// exhaust the stack).
const MAX_NESTING: usize = 64;

/// Interpolates one string.
pub fn interpolate(
    s: &str,
    path: &str,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
) -> Result<String> {
    nested(s, path, env, warnings, 0)
}

fn nested(
    s: &str,
    path: &str,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
    depth: usize,
) -> Result<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let invalid = || ComposeError::InvalidInterpolation {
        path: path.to_string(),
        value: s.to_string(),
    };
    while i < chars.len() {
        let c = chars[i];
        if c != '$' || i + 1 >= chars.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let next = chars[i + 1];
        if next == '$' {
            out.push('$');
            i += 2;
        } else if is_name_start(next) {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && is_name_char(chars[end]) {
                end += 1;
            }
            let name: String = chars[start..end].iter().collect();
            out.push_str(&resolve_plain(&name, env, warnings));
            i = end;
        } else if next == '{' {
            let close = matching_brace(&chars, i + 2).ok_or_else(invalid)?;
            let inner: String = chars[i + 2..close].iter().collect();
            if depth >= MAX_NESTING {
                return Err(invalid());
            }
            out.push_str(&braced(&inner, path, s, env, warnings, depth)?);
            i = close + 1;
        } else {
            // `$` before anything else is kept as it is.
            out.push('$');
            i += 1;
        }
    }
    Ok(out)
}

/// Index of the `}` closing a `${` whose content starts at `from`, counting
/// nested `${ ... }`.
fn matching_brace(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '$' if chars.get(i + 1) == Some(&'$') => i += 1,
            '$' if chars.get(i + 1) == Some(&'{') => {
                depth += 1;
                i += 1;
            }
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn resolve_plain(name: &str, env: &dyn Lookup, warnings: &mut Vec<String>) -> String {
    match env.get(name) {
        Some(v) => v,
        None => {
            warn_unset(name, warnings);
            String::new()
        }
    }
}

fn warn_unset(name: &str, warnings: &mut Vec<String>) {
    let w = format!("The \"{name}\" variable is not set. Defaulting to a blank string.");
    if !warnings.contains(&w) {
        warnings.push(w);
    }
}

fn braced(
    inner: &str,
    path: &str,
    whole: &str,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
    depth: usize,
) -> Result<String> {
    let invalid = || ComposeError::InvalidInterpolation {
        path: path.to_string(),
        value: whole.to_string(),
    };
    let name_len = inner.chars().take_while(|c| is_name_char(*c)).count();
    let name = &inner[..name_len];
    if name.is_empty() || !name.starts_with(is_name_start) {
        return Err(invalid());
    }
    let rest = &inner[name_len..];
    if rest.is_empty() {
        return Ok(resolve_plain(name, env, warnings));
    }
    let (op, arg) = [":-", ":?", ":+", "-", "?", "+"]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|a| (*op, a)))
        .ok_or_else(invalid)?;
    let value = env.get(name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    // The argument is itself interpolated, but only when it is used.
    let mut arg_value = || nested(arg, path, env, warnings, depth + 1);
    Ok(match op {
        ":-" if non_empty => value.unwrap_or_default(),
        ":-" => arg_value()?,
        "-" if set => value.unwrap_or_default(),
        "-" => arg_value()?,
        ":?" if non_empty => value.unwrap_or_default(),
        "?" if set => value.unwrap_or_default(),
        ":?" | "?" => {
            return Err(ComposeError::RequiredVariable {
                path: path.to_string(),
                name: name.to_string(),
                message: arg_value()?,
            })
        }
        ":+" if non_empty => arg_value()?,
        "+" if set => arg_value()?,
        _ => String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env() -> BTreeMap<String, String> {
        [
            ("FOO", "foo"),
            ("EMPTY", ""),
            ("BAR", "bar"),
            ("PORT", "8080"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn i(s: &str) -> String {
        interpolate(s, "p", &env(), &mut Vec::new()).unwrap()
    }

    #[test]
    fn plain_and_braced() {
        assert_eq!(i("$FOO"), "foo");
        assert_eq!(i("${FOO}"), "foo");
        assert_eq!(i("a${FOO}b$BAR.c"), "afoobbar.c");
        assert_eq!(
            i("$FOO_x"),
            "",
            "the name runs on through underscores and letters"
        );
        assert_eq!(i("${PORT}:80"), "8080:80");
    }

    #[test]
    fn defaults() {
        assert_eq!(i("${UNSET:-d}"), "d");
        assert_eq!(i("${EMPTY:-d}"), "d");
        assert_eq!(i("${EMPTY-d}"), "");
        assert_eq!(i("${UNSET-d}"), "d");
        assert_eq!(i("${FOO:-d}"), "foo");
        assert_eq!(i("${UNSET:-}"), "");
    }

    #[test]
    fn alternatives() {
        assert_eq!(i("${FOO:+alt}"), "alt");
        assert_eq!(i("${EMPTY:+alt}"), "");
        assert_eq!(i("${EMPTY+alt}"), "alt");
        assert_eq!(i("${UNSET+alt}"), "");
        assert_eq!(i("${FOO+$BAR}"), "bar");
    }

    #[test]
    fn nested_defaults() {
        assert_eq!(i("${UNSET:-${FOO}}"), "foo");
        assert_eq!(i("${UNSET:-${ALSO_UNSET:-deep}}"), "deep");
        assert_eq!(i("${UNSET:-x${BAR}y}z"), "xbaryz");
        assert_eq!(i("${UNSET:-a:b-c}"), "a:b-c");
    }

    #[test]
    fn required() {
        let e = interpolate("${UNSET:?set it please}", "p", &env(), &mut Vec::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "error while interpolating p: required variable UNSET is missing a value: set it please"
        );
        let e = interpolate("${EMPTY:?}", "p", &env(), &mut Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "error while interpolating p: required variable EMPTY is missing a value");
        assert_eq!(i("${EMPTY?x}"), "");
        let e = interpolate("${UNSET?$FOO}", "p", &env(), &mut Vec::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "error while interpolating p: required variable UNSET is missing a value: foo"
        );
        assert!(interpolate("${UNSET?e}", "p", &env(), &mut Vec::new()).is_err());
    }

    #[test]
    fn dollar_escapes_and_literals() {
        assert_eq!(i("$$FOO"), "$FOO");
        assert_eq!(i("$${FOO}"), "${FOO}");
        assert_eq!(i("cost: 5$"), "cost: 5$");
        assert_eq!(i("$1 $ x"), "$1 $ x");
        assert_eq!(i("${UNSET:-$$}"), "$");
    }

    #[test]
    fn invalid_formats() {
        for bad in [
            "${",
            "${FOO",
            "${}",
            "${FOO BAR}",
            "${1A}",
            "${FOO/a/b}",
            "${FOO:x}",
        ] {
            let e = interpolate(bad, "services.web.image", &env(), &mut Vec::new()).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("invalid interpolation format for services.web.image.\nYou may need to escape any $ with another $.\n{bad}")
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}x{}", "${U:-".repeat(5_000), "}".repeat(5_000));
        assert!(interpolate(&deep, "p", &env(), &mut Vec::new()).is_err());
        let ok = format!("{}x{}", "${U:-".repeat(10), "}".repeat(10));
        assert_eq!(i(&ok), "x");
    }

    #[test]
    fn unset_warns_once() {
        let mut w = Vec::new();
        let out = interpolate("$NOPE-${NOPE}", "p", &env(), &mut w).unwrap();
        assert_eq!(out, "-");
        assert_eq!(
            w,
            vec!["The \"NOPE\" variable is not set. Defaulting to a blank string.".to_string()]
        );
    }

    #[test]
    fn tree_interpolates_values_not_keys() {
        let mut v = serde_json::json!({"$FOO": "$FOO", "list": ["${BAR}", 3]});
        interpolate_tree(&mut v, "", &env(), &mut Vec::new()).unwrap();
        assert_eq!(v, serde_json::json!({"$FOO": "foo", "list": ["bar", 3]}));
    }

    #[test]
    fn tree_error_names_the_path() {
        let mut v = serde_json::json!({"services": {"web": {"ports": ["${"]}}});
        let e = interpolate_tree(&mut v, "", &env(), &mut Vec::new()).unwrap_err();
        assert!(e.to_string().starts_with("invalid interpolation format for services.web.ports.[].\n"), "{e}");
        let mut v = serde_json::json!({"services": {"web": {"environment": ["A=${UNSET:?must be set}"]}}});
        let e = interpolate_tree(&mut v, "", &env(), &mut Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "error while interpolating services.web.environment.[]: required variable UNSET is missing a value: must be set");
    }
}
