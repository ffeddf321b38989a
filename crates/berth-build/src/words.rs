//! Splitting instruction arguments into words and `key=value` pairs the way BuildKit's
//! parser does (`parseWords`, `parseNameVal`): quotes are kept here and removed later by
//! expansion, so `a="x y"` stays one word.

/// Whitespace-separated words; quoted runs (and escaped characters) do not split.
pub fn split_words(rest: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut buf = String::new();
    let mut in_word = false;
    let mut blank_ok = false;
    let mut quote: Option<char> = None;
    let mut chars = rest.chars().peekable();
    while let Some(ch) = chars.next() {
        if let Some(q) = quote {
            if ch == q {
                quote = None;
            }
            if ch == escape && q != '\'' {
                match chars.next() {
                    Some(n) => {
                        buf.push(ch);
                        buf.push(n);
                    }
                    None => quote = None,
                }
                continue;
            }
            buf.push(ch);
            continue;
        }
        if ch.is_whitespace() {
            if in_word && (blank_ok || !buf.is_empty()) {
                words.push(std::mem::take(&mut buf));
            }
            in_word = false;
            blank_ok = false;
            continue;
        }
        in_word = true;
        if ch == '\'' || ch == '"' {
            quote = Some(ch);
            blank_ok = true;
        }
        if ch == escape {
            if let Some(n) = chars.next() {
                buf.push(ch);
                buf.push(n);
            }
            continue;
        }
        buf.push(ch);
    }
    if in_word && (blank_ok || !buf.is_empty()) {
        words.push(buf);
    }
    words
}

/// ENV / LABEL arguments: `k=v k2="v 2"` or the legacy `key some value`.
/// Returns unexpanded (key, value) pairs.
pub fn name_values(rest: &str, instr: &str, escape: char) -> Result<Vec<(String, String)>, String> {
    let words = split_words(rest, escape);
    let Some(first) = words.first() else {
        return Err(format!("{instr} requires at least one argument"));
    };
    if !first.contains('=') {
        let trimmed = rest.trim_start();
        let Some((k, v)) = trimmed.split_once(char::is_whitespace) else {
            return Err(format!("{instr} must have two arguments"));
        };
        return Ok(vec![(k.to_string(), v.trim_start().to_string())]);
    }
    words
        .iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    format!("Syntax error - can't find = in \"{w}\". Must be of the form: name=value")
                })
        })
        .collect()
}

/// ARG arguments: `name` or `name=value`, several per line.
pub fn arg_pairs(rest: &str, escape: char) -> Vec<(String, Option<String>)> {
    split_words(rest, escape)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_quotes() {
        assert_eq!(
            split_words(r#"a="x y"  b=1 'c d' e\ f"#, '\\'),
            vec![r#"a="x y""#, "b=1", "'c d'", r"e\ f"]
        );
        assert_eq!(split_words(r#""" x"#, '\\'), vec![r#""""#, "x"]);
    }

    #[test]
    fn env_forms() {
        assert_eq!(
            name_values(r#"a=1 b="x y""#, "ENV", '\\').unwrap_or_default(),
            vec![("a".into(), "1".into()), ("b".into(), r#""x y""#.into())]
        );
        assert_eq!(
            name_values("key some  value", "ENV", '\\').unwrap_or_default(),
            vec![("key".into(), "some  value".into())]
        );
        assert!(name_values("a=1 b", "ENV", '\\').is_err());
        assert!(name_values("lonely", "ENV", '\\').is_err());
    }

    #[test]
    fn args() {
        assert_eq!(
            arg_pairs("A B=2 C=", '\\'),
            vec![
                ("A".into(), None),
                ("B".into(), Some("2".into())),
                ("C".into(), Some(String::new()))
            ]
        );
    }
}
