//! The variables a project is interpolated with, and `.env` / `env_file`
//! parsing. The process environment beats the project's `.env` (or the
//! `--env-file` files given instead of it), as in Compose v2.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{ComposeError, Result};
use crate::interpolate::{interpolate, Lookup};

/// Process environment over the values read from env files.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// The process environment (or what the caller passes as one).
    pub process: BTreeMap<String, String>,
    /// Values from `.env` / `--env-file`, lowest priority.
    pub files: BTreeMap<String, String>,
}

impl Lookup for Environment {
    fn get(&self, name: &str) -> Option<String> {
        self.process
            .get(name)
            .or_else(|| self.files.get(name))
            .cloned()
    }
}

impl Environment {
    pub fn from_process() -> Self {
        Environment {
            process: std::env::vars().collect(),
            files: BTreeMap::new(),
        }
    }

    /// Reads an env file into `files` (later files override earlier ones).
    pub fn load_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|source| ComposeError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let lookup = self.clone();
        let vars = parse_dotenv(&path.display().to_string(), &text, &lookup)?;
        self.files
            .extend(vars.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        Ok(())
    }
}

/// Parses dotenv text. A bare `KEY` line maps to the lookup's value, or to
/// `None` when it has none (an env_file then leaves the variable unset).
/// Unquoted and double-quoted values are interpolated (earlier lines of the
/// file first, then `lookup`); single-quoted values are literal.
pub fn parse_dotenv(
    file: &str,
    text: &str,
    lookup: &dyn Lookup,
) -> Result<Vec<(String, Option<String>)>> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, raw)) = lines.next() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let err = |m: &str| ComposeError::EnvFile {
            file: file.to_string(),
            message: format!("line {}: {m}", n + 1),
        };
        let (key, rest) = match line.find('=') {
            Some(i) => (line[..i].trim_end(), Some(&line[i + 1..])),
            None => (line.trim_end(), None),
        };
        if key.is_empty() || key.chars().any(|c| c.is_whitespace()) {
            return Err(err(&format!(
                "unexpected character in variable name {key:?}"
            )));
        }
        let Some(rest) = rest else {
            out.push((key.to_string(), lookup.get(key)));
            continue;
        };
        let rest = rest.trim_start();
        let known = Known {
            file: &out,
            outer: lookup,
        };
        let value = if let Some(body) = rest.strip_prefix('\'') {
            let (v, _) =
                quoted(body, '\'', &mut lines).ok_or_else(|| err("unterminated quoted value"))?;
            v
        } else if let Some(body) = rest.strip_prefix('"') {
            let (v, _) =
                quoted(body, '"', &mut lines).ok_or_else(|| err("unterminated quoted value"))?;
            let v = unescape(&v);
            interpolate(&v, key, &known, &mut Vec::new())?
        } else {
            let v = match rest.find(" #") {
                Some(i) => &rest[..i],
                None => rest,
            };
            interpolate(v.trim_end(), key, &known, &mut Vec::new())?
        };
        out.push((key.to_string(), Some(value)));
    }
    Ok(out)
}

/// Values defined earlier in the same file, then the outer lookup.
struct Known<'a> {
    file: &'a [(String, Option<String>)],
    outer: &'a dyn Lookup,
}

impl Lookup for Known<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.outer.get(name).or_else(|| {
            self.file
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.clone())
        })
    }
}

/// Reads a quoted value that may span lines; returns it and the text after
/// the closing quote.
fn quoted<'a>(
    first: &str,
    q: char,
    lines: &mut impl Iterator<Item = (usize, &'a str)>,
) -> Option<(String, String)> {
    let mut acc = String::new();
    let mut cur = first.to_string();
    loop {
        let mut escaped = false;
        for (i, c) in cur.char_indices() {
            if q == '"' && c == '\\' && !escaped {
                escaped = true;
                continue;
            }
            if c == q && !escaped {
                acc.push_str(&cur[..i]);
                return Some((acc, cur[i + 1..].to_string()));
            }
            escaped = false;
        }
        acc.push_str(&cur);
        acc.push('\n');
        cur = lines.next()?.1.to_string();
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<(String, Option<String>)> {
        let env: BTreeMap<String, String> = [("HOME".to_string(), "/root".to_string())].into();
        parse_dotenv(".env", text, &env).unwrap()
    }

    fn kv(k: &str, v: &str) -> (String, Option<String>) {
        (k.to_string(), Some(v.to_string()))
    }

    #[test]
    fn forms() {
        let got = parse(
            "# comment\nA=1\nexport B = two \nC='lit $HOME'\nD=\"q\\n$HOME\"\nE=x #c\nF=\nHOME\nNOPE\nG=${A}-${B}\n",
        );
        assert_eq!(
            got,
            vec![
                kv("A", "1"),
                kv("B", "two"),
                kv("C", "lit $HOME"),
                kv("D", "q\n/root"),
                kv("E", "x"),
                kv("F", ""),
                kv("HOME", "/root"),
                ("NOPE".to_string(), None),
                kv("G", "1-two"),
            ]
        );
    }

    #[test]
    fn multiline_quoted() {
        assert_eq!(
            parse("K=\"a\nb\"\nL=1\n"),
            vec![kv("K", "a\nb"), kv("L", "1")]
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let env = BTreeMap::new();
        let e = parse_dotenv(".env", "A=1\nB C=2\n", &env)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(".env: line 2:"), "{e}");
        assert!(parse_dotenv(".env", "A='open\n", &env).is_err());
    }

    #[test]
    fn process_environment_beats_files() {
        let mut e = Environment::default();
        e.process.insert("A".into(), "proc".into());
        e.files.insert("A".into(), "file".into());
        e.files.insert("B".into(), "file".into());
        assert_eq!(e.get("A").as_deref(), Some("proc"));
        assert_eq!(e.get("B").as_deref(), Some("file"));
    }

    #[test]
    fn load_file_reads_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.env"), "X=1\nY=1\n").unwrap();
        std::fs::write(dir.path().join("b.env"), "Y=2\n").unwrap();
        let mut e = Environment::default();
        e.load_file(&dir.path().join("a.env")).unwrap();
        e.load_file(&dir.path().join("b.env")).unwrap();
        assert_eq!(e.get("X").as_deref(), Some("1"));
        assert_eq!(e.get("Y").as_deref(), Some("2"));
        assert!(e.load_file(&dir.path().join("missing.env")).is_err());
    }
}
