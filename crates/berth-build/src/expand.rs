//! Variable substitution in Dockerfile words, following BuildKit's shell-word rules
//! (`frontend/dockerfile/shell`): `$V`, `${V}`, `${V:-d}`, `${V-d}`, `${V:+a}`, `${V+a}`,
//! `${V:?m}`, `${V?m}`, `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`, `${V/p/r}`, `${V//p/r}`,
//! single quotes (literal), double quotes (`$` expands, the escape
//! character escapes `"`, `$` and itself), and the escape character outside quotes.

use crate::pattern::{glob, pattern};

/// The variables a word is expanded against: `K=V` entries, the last one of a name wins.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    entries: Vec<(String, String)>,
}

impl Vars {
    pub fn new() -> Self {
        Vars::default()
    }

    /// From `K=V` strings (an image's Env); an entry without `=` is an empty value.
    pub fn from_env(env: &[String]) -> Self {
        let mut v = Vars::new();
        for e in env {
            let (k, val) = e.split_once('=').unwrap_or((e.as_str(), ""));
            v.set(k, val);
        }
        v
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.entries.retain(|(k, _)| k != key);
        self.entries.push((key.to_string(), value.to_string()));
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Expands one word (quotes removed, escapes applied).
pub fn process_word(word: &str, vars: &Vars, escape: char) -> Result<String, String> {
    let mut sw = ShellWord::new(word, vars, escape);
    let (result, _) = sw.process_stop_on(None)?;
    Ok(result)
}

/// Expands and splits on unquoted whitespace (EXPOSE's word-to-words expansion).
pub fn process_words(word: &str, vars: &Vars, escape: char) -> Result<Vec<String>, String> {
    let mut sw = ShellWord::new(word, vars, escape);
    let (_, words) = sw.process_stop_on(None)?;
    Ok(words)
}

/// A heredoc's body (unquoted delimiter) as BuildKit expands it (`SkipProcessQuotes`):
/// `$` expansions, quotes kept as characters, the escape character still escaping
/// the next one (and dropped).
pub fn process_heredoc(body: &str, vars: &Vars, escape: char) -> Result<String, String> {
    let mut sw = ShellWord::new(body, vars, escape);
    let mut out = String::new();
    while let Some(ch) = sw.peek() {
        if ch == '$' {
            out.push_str(&sw.process_dollar()?);
            continue;
        }
        sw.next();
        if ch == escape {
            if let Some(n) = sw.next() {
                out.push(n);
            }
            continue;
        }
        out.push(ch);
    }
    Ok(out)
}

struct ShellWord<'a> {
    chars: Vec<char>,
    pos: usize,
    vars: &'a Vars,
    escape: char,
    source: &'a str,
}

/// Accumulates words split at unquoted, unescaped whitespace.
#[derive(Default)]
struct Words {
    buf: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() {
            if self.in_word && !self.buf.is_empty() {
                self.words.push(std::mem::take(&mut self.buf));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(ch);
        }
    }
    fn add_raw_char(&mut self, ch: char) {
        self.buf.push(ch);
        self.in_word = true;
    }
    fn add_string(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }
    fn add_raw_string(&mut self, s: &str) {
        self.buf.push_str(s);
        self.in_word = true;
    }
    fn finish(mut self) -> Vec<String> {
        if !self.buf.is_empty() {
            self.words.push(self.buf);
        }
        self.words
    }
}

impl<'a> ShellWord<'a> {
    fn new(word: &'a str, vars: &'a Vars, escape: char) -> Self {
        ShellWord {
            chars: word.chars().collect(),
            pos: 0,
            vars,
            escape,
            source: word,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn wrap(&self, e: String) -> String {
        format!("failed to process \"{}\": {e}", self.source)
    }

    fn process_stop_on(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        self.process_stop_on_raw(stop, false)
    }

    /// `raw`: the escape character is kept with what it escapes (patterns).
    fn process_stop_on_raw(&mut self, stop: Option<char>, raw: bool) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.next();
                return Ok((result, words.finish()));
            }
            match ch {
                '$' => {
                    let v = self.process_dollar()?;
                    result.push_str(&v);
                    words.add_string(&v);
                }
                '\'' => {
                    let v = self.process_single_quote()?;
                    result.push_str(&v);
                    words.add_raw_string(&v);
                }
                '"' => {
                    let v = self.process_double_quote()?;
                    result.push_str(&v);
                    words.add_raw_string(&v);
                }
                _ => {
                    self.next();
                    if ch == self.escape {
                        if raw {
                            result.push(ch);
                        }
                        // The escape character escapes the next one; a trailing one is dropped.
                        match self.next() {
                            Some(c) => {
                                words.add_raw_char(c);
                                result.push(c);
                            }
                            None => break,
                        }
                    } else {
                        words.add_char(ch);
                        result.push(ch);
                    }
                }
            }
        }
        if let Some(s) = stop {
            return Err(self.wrap(format!(
                "unexpected end of statement while looking for matching {s}"
            )));
        }
        Ok((result, words.finish()))
    }

    /// Pattern operations are quadratic or worse in the value's length: a bound keeps a
    /// hostile Dockerfile from pinning the builder (BuildKit has no such case to guard).
    fn check_pattern_size(&self, len: usize) -> Result<(), String> {
        if len > 4096 {
            return Err(self.wrap(format!("value of {len} characters is too long for a pattern substitution (berth's limit: 4096)")));
        }
        Ok(())
    }

    /// The word inside `${...}` up to `stop`, with BuildKit's missing-brace message.
    fn braced_word(&mut self, stop: char, raw: bool) -> Result<String, String> {
        match self.process_stop_on_raw(Some(stop), raw) {
            Ok((w, _)) => Ok(w),
            Err(e) => {
                if self.peek().is_none() {
                    let what = if stop == '/' { "'/' in ${}" } else { "'}'" };
                    return Err(self.wrap(format!("syntax error: missing {what}")));
                }
                Err(e)
            }
        }
    }

    fn process_single_quote(&mut self) -> Result<String, String> {
        self.next();
        let mut out = String::new();
        loop {
            match self.next() {
                None => {
                    return Err(self.wrap(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    ))
                }
                Some('\'') => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn process_double_quote(&mut self) -> Result<String, String> {
        self.next();
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(self.wrap(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    ))
                }
                Some('"') => {
                    self.next();
                    return Ok(out);
                }
                Some('$') => out.push_str(&self.process_dollar()?),
                Some(_) => {
                    let mut ch = self.next().unwrap_or_default();
                    if ch == self.escape {
                        match self.peek() {
                            None => continue,
                            Some(c) if c == '"' || c == '$' || c == self.escape => {
                                ch = self.next().unwrap_or_default();
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(ch);
                }
            }
        }
    }

    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_ascii_digit() {
                while let Some(d) = self.peek().filter(|c| c.is_ascii_digit()) {
                    self.next();
                    name.push(d);
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.next();
                return ch.to_string();
            }
            if !ch.is_alphanumeric() && ch != '_' {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }

    fn process_dollar(&mut self) -> Result<String, String> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(self.vars.get(&name).unwrap_or_default().to_string());
        }
        self.next();
        match self.peek() {
            None => return Err(self.wrap("syntax error: missing '}'".into())),
            Some('{' | '}' | ':') => return Err(self.wrap("syntax error: bad substitution".into())),
            _ => {}
        }
        let name = self.process_name();
        let mut modifier = String::new();
        let mut ch = self.next();
        if let Some(c) = ch {
            modifier.push(c);
        }
        let mut null_is_unset = false;
        match ch {
            None => return Err(self.wrap("syntax error: missing '}'".into())),
            Some('}') => return Ok(self.vars.get(&name).unwrap_or_default().to_string()),
            Some(':') => {
                null_is_unset = true;
                ch = self.next();
                if let Some(c) = ch {
                    modifier.push(c);
                }
            }
            _ => {}
        }
        match ch {
            Some(op @ ('#' | '%')) if !null_is_unset => {
                let word = self.braced_word('}', true)?;
                let value = self.vars.get(&name).unwrap_or_default().to_string();
                let (greedy, pat) = match word.strip_prefix(op) {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, word),
                };
                let toks = pattern(&pat, self.escape);
                let v: Vec<char> = value.chars().collect();
                self.check_pattern_size(v.len())?;
                let mut cuts: Vec<usize> = (0..=v.len()).collect();
                if greedy == (op == '#') {
                    cuts.reverse();
                }
                for k in cuts {
                    let hit = if op == '#' { glob(&toks, &v[..k]) } else { glob(&toks, &v[k..]) };
                    if hit {
                        let rest: String = if op == '#' { v[k..].iter().collect() } else { v[..k].iter().collect() };
                        return Ok(rest);
                    }
                }
                Ok(value)
            }
            Some('/') if !null_is_unset => {
                let all = self.peek() == Some('/');
                if all {
                    self.next();
                }
                let pat = self.braced_word('/', true)?;
                let rep = self.braced_word('}', true)?;
                let value: Vec<char> = self.vars.get(&name).unwrap_or_default().chars().collect();
                let toks = pattern(&pat, self.escape);
                self.check_pattern_size(value.len())?;
                let mut out = String::new();
                let mut i = 0;
                let mut replaced = false;
                while i <= value.len() {
                    let m = if replaced && !all {
                        None
                    } else {
                        (i..=value.len()).rev().find(|&j| glob(&toks, &value[i..j]))
                    };
                    match m {
                        Some(j) if j > i || !toks.is_empty() => {
                            out.push_str(&rep);
                            replaced = true;
                            if j == i {
                                if let Some(c) = value.get(i) {
                                    out.push(*c);
                                }
                                i += 1;
                            } else {
                                i = j;
                            }
                        }
                        _ => {
                            if let Some(c) = value.get(i) {
                                out.push(*c);
                            }
                            i += 1;
                        }
                    }
                }
                Ok(out)
            }
            Some(op @ ('-' | '+' | '?')) => {
                let word = match self.process_stop_on(Some('}')) {
                    Ok((w, _)) => w,
                    Err(e) => {
                        if self.peek().is_none() {
                            return Err(self.wrap("syntax error: missing '}'".into()));
                        }
                        return Err(e);
                    }
                };
                let value = self.vars.get(&name);
                let unset = value.is_none() || (null_is_unset && value == Some(""));
                match op {
                    '-' => Ok(if unset { word } else { value.unwrap_or_default().to_string() }),
                    '+' => Ok(if unset { String::new() } else { word }),
                    _ => {
                        if value.is_none() || unset {
                            let default = if value.is_none() {
                                "is not allowed to be unset"
                            } else {
                                "is not allowed to be empty"
                            };
                            let msg = if word.is_empty() { default.to_string() } else { word };
                            return Err(self.wrap(format!("{name}: {msg}")));
                        }
                        Ok(value.unwrap_or_default().to_string())
                    }
                }
            }
            _ => Err(self.wrap(format!("unsupported modifier ({modifier}) in substitution"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars::from_env(&["A=1".into(), "EMPTY=".into(), "SP=a b".into(), "A=one".into()])
    }

    fn w(s: &str) -> String {
        process_word(s, &vars(), '\\').unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn plain_and_braced() {
        assert_eq!(w("$A"), "one");
        assert_eq!(w("${A}x"), "onex");
        assert_eq!(w("$Ax"), "");
        assert_eq!(w("$NOPE-"), "-");
        assert_eq!(w("a$"), "a$");
        assert_eq!(w("$1"), "");
    }

    #[test]
    fn modifiers() {
        assert_eq!(w("${NOPE:-d}"), "d");
        assert_eq!(w("${EMPTY:-d}"), "d");
        assert_eq!(w("${EMPTY-d}"), "");
        assert_eq!(w("${A:-d}"), "one");
        assert_eq!(w("${A:+alt}"), "alt");
        assert_eq!(w("${EMPTY:+alt}"), "");
        assert_eq!(w("${EMPTY+alt}"), "alt");
        assert_eq!(w("${NOPE+alt}"), "");
        assert_eq!(w("${NOPE:-$A}"), "one");
        assert_eq!(w("${NOPE:-'x y'}"), "x y");
        assert!(w("${NOPE?}").contains("NOPE: is not allowed to be unset"));
        assert!(w("${EMPTY:?boom}").contains("EMPTY: boom"));
        assert!(w("${A").contains("missing '}'"));
        assert!(w("${}").contains("bad substitution"));
        assert!(w("${A:#x}").contains("unsupported modifier (:#)"));
    }

    #[test]
    fn patterns() {
        let v = Vars::from_env(&["P=/usr/local/bin.tar.gz".into(), "S=aXbXc".into()]);
        let w = |s: &str| process_word(s, &v, '\\').unwrap_or_else(|e| format!("ERR {e}"));
        assert_eq!(w("${P#*/}"), "usr/local/bin.tar.gz");
        assert_eq!(w("${P##*/}"), "bin.tar.gz");
        assert_eq!(w("${P%.*}"), "/usr/local/bin.tar");
        assert_eq!(w("${P%%.*}"), "/usr/local/bin");
        assert_eq!(w("${S/X/-}"), "a-bXc");
        assert_eq!(w("${S//X/-}"), "a-b-c");
        assert_eq!(w("${S//[a-b]/}"), "XXc");
        assert_eq!(w("${NOPE#x}"), "");
        assert!(w("${S/X").contains("missing '/' in ${}"));
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(w("'$A'"), "$A");
        assert_eq!(w("\"$A\""), "one");
        assert_eq!(w("\"a\\\"b\\$A\\x\""), "a\"b$A\\x");
        assert_eq!(w("\\$A"), "$A");
        assert_eq!(w("a\\ b"), "a b");
        assert_eq!(w("x\\"), "x");
        assert!(w("'abc").contains("matching single-quote"));
        assert!(w("\"abc").contains("matching double-quote"));
        assert_eq!(process_word("`$A", &vars(), '`').unwrap_or_default(), "$A");
    }

    #[test]
    fn heredoc_bodies_keep_quotes() {
        assert_eq!(
            process_heredoc("say \"$A\" '${B:-x}' \\$A \\\\ \\q\n", &vars(), '\\').unwrap_or_default(),
            "say \"one\" 'x' $A \\ q\n"
        );
    }

    #[test]
    fn words_split_on_unquoted_whitespace() {
        let v = vars();
        assert_eq!(
            process_words("80 $SP '1 2'", &v, '\\').unwrap_or_default(),
            vec!["80", "a", "b", "1 2"]
        );
    }
}
