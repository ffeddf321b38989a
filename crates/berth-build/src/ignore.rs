//! `.dockerignore`: Docker's pattern rules (moby/patternmatcher): one pattern a line, `#`
//! comments, `!` exceptions, patterns cleaned like `filepath.Clean` with a leading `/`
//! dropped, `*` and `?` within one path segment, `**` across segments, and a pattern that
//! matches a directory matching everything under it. The last matching pattern wins.

use crate::scope::clean;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
struct Pattern {
    exception: bool,
    text: String,
    regex: Vec<Tok>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(char),
    /// `?`: one char, not `/`.
    One,
    /// `*`: any run of non-`/` chars.
    Star,
    /// `**` (and `**/`): any run of chars, `/` included; at the end: everything.
    AnyDirs { at_end: bool },
    /// `[...]`: (negated, ranges).
    Class(bool, Vec<(char, char)>),
}

/// A compiled `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
}

/// Reads the patterns of a `.dockerignore` file's contents.
pub fn parse_patterns(contents: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in contents.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut p = line.trim();
        if p.is_empty() {
            continue;
        }
        let invert = p.starts_with('!');
        if invert {
            p = p[1..].trim();
        }
        let mut pat = if p.is_empty() { String::new() } else { clean(p) };
        if pat.len() > 1 && pat.starts_with('/') {
            pat.remove(0);
        }
        out.push(if invert { format!("!{pat}") } else { pat });
    }
    out
}

/// The ignore file for a build: `<dockerfile>.dockerignore` next to the Dockerfile
/// (a path relative to the context, or absolute on the client) when it exists, else
/// `.dockerignore` at the context root. `None` when neither exists.
pub fn read_ignore_file(context: &Path, dockerfile: Option<&Path>) -> io::Result<Option<String>> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(df) = dockerfile {
        let full = if df.is_absolute() { df.to_path_buf() } else { context.join(df) };
        let mut name = full.clone().into_os_string();
        name.push(".dockerignore");
        candidates.push(PathBuf::from(name));
    }
    candidates.push(context.join(".dockerignore"));
    for c in candidates {
        match fs::read_to_string(&c) {
            Ok(s) => return Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

fn compile(p: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                toks.push(Tok::AnyDirs { at_end: i >= chars.len() });
                continue;
            }
            '*' => toks.push(Tok::Star),
            '?' => toks.push(Tok::One),
            '\\' => {
                i += 1;
                match chars.get(i) {
                    Some(&n) => toks.push(Tok::Lit(n)),
                    None => return Err(format!("syntax error in pattern: {p}")),
                }
            }
            '[' => {
                let mut j = i + 1;
                let negated = matches!(chars.get(j), Some('^' | '!'));
                if negated {
                    j += 1;
                }
                let mut ranges = Vec::new();
                let mut closed = false;
                while j < chars.len() {
                    let mut lo = chars[j];
                    if lo == ']' && !ranges.is_empty() {
                        closed = true;
                        break;
                    }
                    if lo == '\\' {
                        j += 1;
                        lo = *chars.get(j).ok_or_else(|| format!("syntax error in pattern: {p}"))?;
                    }
                    let mut hi = lo;
                    if chars.get(j + 1) == Some(&'-') && chars.get(j + 2).is_some_and(|c| *c != ']') {
                        hi = chars[j + 2];
                        j += 2;
                    }
                    ranges.push((lo, hi));
                    j += 1;
                }
                if !closed {
                    return Err(format!("syntax error in pattern: {p}"));
                }
                toks.push(Tok::Class(negated, ranges));
                i = j;
            }
            c => toks.push(Tok::Lit(c)),
        }
        i += 1;
    }
    Ok(toks)
}

/// Whole-string match, by dynamic programming over (token, position) so that hostile
/// patterns (`*a*a*a*...`) cost O(tokens × length), never exponential time.
fn matches_toks(toks: &[Tok], s: &[char]) -> bool {
    let n = s.len();
    // next[j]: do toks[i+1..] match s[j..]; cur[j]: do toks[i..] match s[j..].
    let mut next = vec![false; n + 1];
    next[n] = true;
    for t in toks.iter().rev() {
        let mut cur = vec![false; n + 1];
        for j in (0..=n).rev() {
            let c = s.get(j);
            cur[j] = match t {
                Tok::Lit(l) => c == Some(l) && next[j + 1],
                Tok::One => c.is_some_and(|c| *c != '/') && next[j + 1],
                Tok::Class(neg, ranges) => {
                    c.is_some_and(|c| *c != '/' && (ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *neg))
                        && next[j + 1]
                }
                // Empty, or one non-`/` character and still a Star.
                Tok::Star => next[j] || (c.is_some_and(|c| *c != '/') && cur[j + 1]),
                Tok::AnyDirs { at_end: true } => true,
                // `(.*/)?`: nothing, or anything up to and including a `/`.
                Tok::AnyDirs { at_end: false } => next[j] || (j..n).any(|k| s[k] == '/' && next[k + 1]),
            };
        }
        next = cur;
    }
    next[0]
}

impl Matcher {
    /// Compiles patterns as [`parse_patterns`] returns them.
    pub fn new(patterns: &[String]) -> Result<Matcher, String> {
        let mut out = Vec::new();
        for p in patterns {
            let (exception, text) = match p.strip_prefix('!') {
                Some(t) => (true, t.to_string()),
                None => (false, p.clone()),
            };
            if text.is_empty() {
                return Err("illegal exclusion pattern: \"!\"".into());
            }
            let regex = compile(&text)?;
            out.push(Pattern { exception, text, regex });
        }
        Ok(Matcher { patterns: out })
    }

    /// The docker CLI always sends `.dockerignore` and the Dockerfile, even when a pattern
    /// excludes them (`TrimBuildFilesFromExcludes`): adds the exceptions for them.
    pub fn keeping_build_files(mut self, dockerfile: &str) -> Matcher {
        for f in [".dockerignore", dockerfile] {
            let f = clean(f).trim_start_matches('/').to_string();
            if f != "." && !f.starts_with("..") && self.excluded(&f) {
                // A literal name: no wildcard meaning for its characters.
                let regex = f.chars().map(Tok::Lit).collect();
                self.patterns.push(Pattern { exception: true, text: f, regex });
            }
        }
        self
    }

    /// From a `.dockerignore` file's contents.
    pub fn from_file_contents(contents: &str) -> Result<Matcher, String> {
        Matcher::new(&parse_patterns(contents))
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any `!` pattern exists (an excluded directory may then hold included files).
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }

    /// Is `rel` (a slash path relative to the context) excluded?
    pub fn excluded(&self, rel: &str) -> bool {
        let rel = clean(rel);
        let full: Vec<char> = rel.chars().collect();
        // The path itself and each parent directory, as patternmatcher checks them.
        let mut prefixes: Vec<&[char]> = vec![&full[..]];
        for (i, c) in full.iter().enumerate() {
            if *c == '/' {
                prefixes.push(&full[..i]);
            }
        }
        let mut excluded = false;
        for p in &self.patterns {
            if p.exception != excluded {
                // This pattern cannot change the result.
                continue;
            }
            if prefixes.iter().any(|s| matches_toks(&p.regex, s)) {
                excluded = !p.exception;
            }
        }
        excluded
    }

    /// Does the path itself (not a parent) match any pattern? (COPY wildcards, which
    /// follow `filepath.Match`: `*` and `?` stay within one segment.)
    pub fn matches_exactly(&self, rel: &str) -> bool {
        let chars: Vec<char> = rel.chars().collect();
        self.patterns.iter().any(|p| matches_toks(&p.regex, &chars))
    }

    /// Patterns as written (after cleaning), for messages.
    pub fn patterns(&self) -> impl Iterator<Item = String> + '_ {
        self.patterns
            .iter()
            .map(|p| if p.exception { format!("!{}", p.text) } else { p.text.clone() })
    }
}

/// Walks `root` and returns the slash paths (relative to it) of every entry the matcher
/// keeps, parents before children. An excluded directory is still walked when exception
/// patterns could re-include something under it; its included children are listed (and
/// the directory itself is not). Symlinks are listed, never followed.
pub fn included_paths(root: &Path, matcher: &Matcher) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    walk(root, "", matcher, &mut out)?;
    Ok(out)
}

fn walk(dir: &Path, rel: &str, m: &Matcher, out: &mut Vec<String>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let ft = e.file_type()?;
        let excluded = m.excluded(&child);
        if !excluded {
            out.push(child.clone());
        }
        if ft.is_dir() && (!excluded || m.has_exceptions()) {
            walk(&e.path(), &child, m, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Matcher {
        Matcher::from_file_contents(s).unwrap_or_default()
    }

    #[test]
    fn reads_patterns_like_docker() {
        assert_eq!(
            parse_patterns("# comment\n  /foo/../bar/ \n\n!./keep\n./a//b\n"),
            vec!["bar", "!keep", "a/b"]
        );
    }

    #[test]
    fn globs_and_parents() {
        let x = m("*.log\nbuild\ndocs/**/*.md\n");
        assert!(x.excluded("a.log"));
        assert!(!x.excluded("sub/a.log"));
        assert!(x.excluded("build"));
        assert!(x.excluded("build/out/x.o"));
        assert!(x.excluded("docs/a.md"));
        assert!(x.excluded("docs/x/y/a.md"));
        assert!(!x.excluded("docs/a.txt"));
        assert!(!x.excluded("builder"));
        let y = m("**/*.tmp\n**\n!src\n");
        assert!(!y.excluded("src/x.tmp"));
        assert!(y.excluded("other"));
        assert!(m("a?c\n").excluded("abc"));
        assert!(!m("a?c\n").excluded("a/c"));
        assert!(m("[a-c]x\n").excluded("bx"));
        assert!(!m("[^a-c]x\n").excluded("bx"));
    }

    #[test]
    fn hostile_patterns_stay_fast() {
        let x = m(&format!("{}b\n", "*a".repeat(30)));
        let long = "a".repeat(4000);
        let t = std::time::Instant::now();
        assert!(!x.excluded(&long));
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn last_match_wins_with_exceptions() {
        let x = m("*.md\n!README.md\nREADME*\n");
        assert!(x.excluded("a.md"));
        assert!(x.excluded("README.md"));
        let y = m("*.md\n!README.md\n");
        assert!(!y.excluded("README.md"));
    }

    #[test]
    fn build_files_are_always_sent() {
        let x = m("*\n").keeping_build_files("sub/Dockerfile.dev");
        assert!(!x.excluded(".dockerignore"));
        assert!(!x.excluded("sub/Dockerfile.dev"));
        assert!(x.excluded("other"));
    }

    #[test]
    fn walk_reincludes_children_of_excluded_dirs() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        fs::create_dir_all(t.path().join("vendor/keep"))?;
        fs::write(t.path().join("vendor/drop.txt"), "x")?;
        fs::write(t.path().join("vendor/keep/k.txt"), "x")?;
        fs::write(t.path().join("main.rs"), "x")?;
        let got = included_paths(t.path(), &m("vendor\n!vendor/keep\n"))?;
        assert_eq!(got, vec!["main.rs", "vendor/keep", "vendor/keep/k.txt"]);
        let got = included_paths(t.path(), &m("vendor\n"))?;
        assert_eq!(got, vec!["main.rs"]);
        Ok(())
    }

    #[test]
    fn dockerfile_specific_ignore_file_wins() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        fs::write(t.path().join(".dockerignore"), "a")?;
        assert_eq!(read_ignore_file(t.path(), Some(Path::new("sub/Dockerfile")))?.as_deref(), Some("a"));
        fs::create_dir(t.path().join("sub"))?;
        fs::write(t.path().join("sub/Dockerfile.dockerignore"), "b")?;
        assert_eq!(read_ignore_file(t.path(), Some(Path::new("sub/Dockerfile")))?.as_deref(), Some("b"));
        Ok(())
    }
}
