//! Go's `json.Indent`: re-indents raw JSON text without re-encoding it, so
//! key order and escapes stay exactly as the daemon sent them.

/// Indents `src` with `indent` per level; empty `[]`/`{}` stay compact.
/// Returns `None` if brackets do not balance.
pub fn indent(src: &str, indent: &str) -> Option<String> {
    let mut out = String::with_capacity(src.len() * 2);
    let mut depth: usize = 0;
    let mut in_string = false;
    let mut escaped = false;
    let mut need_indent = false; // just opened a container; newline before first value
    let chars: Vec<char> = src.chars().collect();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(indent);
        }
    };
    for &c in &chars {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        if need_indent && c != ']' && c != '}' {
            need_indent = false;
            depth += 1;
            newline(&mut out, depth);
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                need_indent = true;
            }
            '}' | ']' => {
                if need_indent {
                    need_indent = false; // empty container stays compact
                } else {
                    depth = depth.checked_sub(1)?;
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c => out.push(c),
        }
    }
    if depth != 0 || in_string || need_indent {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_like_go() {
        let src = r#"[{"Id":"x","Args":[],"Config":{"Env":["A=1","B=\"]"]},"E":{}}]"#;
        let want = "[\n    {\n        \"Id\": \"x\",\n        \"Args\": [],\n        \"Config\": {\n            \"Env\": [\n                \"A=1\",\n                \"B=\\\"]\"\n            ]\n        },\n        \"E\": {}\n    }\n]";
        assert_eq!(indent(src, "    ").unwrap(), want);
    }

    #[test]
    fn rejects_unbalanced() {
        assert!(indent("[{]", "  ").is_none());
        assert!(indent("]", "  ").is_none());
        assert!(indent("[", "  ").is_none());
        assert!(indent("\"abc", "  ").is_none());
    }
}
