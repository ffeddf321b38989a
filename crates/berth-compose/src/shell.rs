//! Splitting a string `command:` / `entrypoint:` into words the way Compose
//! does (POSIX shell quoting, no expansion).

/// Splits `s` into words: whitespace separates, single quotes are literal,
/// double quotes allow `\"` `\\` `\$` and `` \` `` escapes, a backslash
/// outside quotes escapes the next character.
pub fn split_command(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match it.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unterminated single quote in {s:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match it.next() {
                        Some('"') => break,
                        Some('\\') => match it.peek() {
                            Some(&n @ ('"' | '\\' | '$' | '`')) => {
                                cur.push(n);
                                it.next();
                            }
                            _ => cur.push('\\'),
                        },
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unterminated double quote in {s:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match it.next() {
                    Some(n) => cur.push(n),
                    None => return Err(format!("trailing backslash in {s:?}")),
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split_command;

    #[test]
    fn words_and_quotes() {
        assert_eq!(
            split_command("echo hi  there").unwrap(),
            ["echo", "hi", "there"]
        );
        assert_eq!(
            split_command("sh -c 'echo $A; x'").unwrap(),
            ["sh", "-c", "echo $A; x"]
        );
        assert_eq!(
            split_command(r#"a "b \"c\" d" e\ f ''"#).unwrap(),
            ["a", "b \"c\" d", "e f", ""]
        );
        assert_eq!(split_command("").unwrap(), Vec::<String>::new());
        assert!(split_command("'open").is_err());
        assert!(split_command("\"open").is_err());
    }
}
