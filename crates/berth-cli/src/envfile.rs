//! `--env`/`--env-file` and `--label` values as docker reads them.

use std::collections::BTreeMap;

/// Parses an env file: `KEY=VAL` lines, `KEY` alone takes the value from
/// the environment (skipped if unset), blank lines and `#` comments ignored.
pub fn parse_env_file(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Vec<String>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((key, value)) => {
                if key.is_empty() {
                    return Err(format!("no variable name on line '{line}'"));
                }
                if key.contains(char::is_whitespace) {
                    return Err(format!("variable '{key}' contains whitespaces"));
                }
                out.push(format!("{key}={value}"));
            }
            None => {
                let key = line.trim_end();
                if key.contains(char::is_whitespace) {
                    return Err(format!("variable '{key}' contains whitespaces (line {})", n + 1));
                }
                if let Some(v) = lookup(key) {
                    out.push(format!("{key}={v}"));
                }
            }
        }
    }
    Ok(out)
}

/// `-e KEY` takes KEY's value from the environment; docker keeps the bare
/// name if it is unset (the daemon then leaves it out).
pub fn expand_env_flag(value: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    if value.starts_with('=') {
        return Err(format!("invalid environment variable: {value}"));
    }
    if value.contains('=') {
        return Ok(value.to_string());
    }
    Ok(match lookup(value) {
        Some(v) => format!("{value}={v}"),
        None => value.to_string(),
    })
}

/// `-l k=v` / `-l k` into a map (a bare key has an empty value).
pub fn labels_to_map(labels: &[String]) -> BTreeMap<String, String> {
    labels
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

pub fn env_lookup(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(k: &str) -> Option<String> {
        (k == "HOME").then(|| "/root".to_string())
    }

    #[test]
    fn parses_env_files() {
        let text = "\u{feff}# comment\nA=1\n\n  B=two words \nHOME\nUNSET\nC=\nD=x=y\n";
        assert_eq!(
            parse_env_file(text, fake).unwrap(),
            vec!["A=1", "B=two words ", "HOME=/root", "C=", "D=x=y"]
        );
    }

    #[test]
    fn rejects_bad_env_lines() {
        assert!(parse_env_file("=x\n", fake).is_err());
        assert!(parse_env_file("A B=x\n", fake).is_err());
        assert!(parse_env_file("A B\n", fake).is_err());
    }

    #[test]
    fn expands_env_flags_and_labels() {
        assert_eq!(expand_env_flag("A=1", fake).unwrap(), "A=1");
        assert_eq!(expand_env_flag("HOME", fake).unwrap(), "HOME=/root");
        assert_eq!(expand_env_flag("NOPE", fake).unwrap(), "NOPE");
        assert!(expand_env_flag("=x", fake).is_err());
        let m = labels_to_map(&["a=b".into(), "c".into(), "d=e=f".into()]);
        assert_eq!(m.get("a").map(String::as_str), Some("b"));
        assert_eq!(m.get("c").map(String::as_str), Some(""));
        assert_eq!(m.get("d").map(String::as_str), Some("e=f"));
    }
}
