//! Repository names and tags, checked against the distribution spec's
//! grammar before any of them becomes part of a path on disk (so `..`,
//! absolute paths, empty components and `%`-escapes never get that far).

use crate::error::{ApiError, Code};

/// Longest repository name distribution accepts.
const NAME_MAX: usize = 255;

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let bad = || ApiError::new(Code::NameInvalid, "invalid repository name").with_detail(serde_json::json!({"name": name}));
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(bad());
    }
    if name.split('/').all(component_ok) {
        Ok(())
    } else {
        Err(bad())
    }
}

fn component_ok(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = c.as_bytes();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    // Between alphanumeric runs: one '.', one or two '_', or any run of '-'.
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
pub fn is_tag(s: &str) -> bool {
    let b = s.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty() && b.len() <= 128 && word(b[0]) && b.iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "library/busybox", "a.b/c-d/e__f", "x--y", "0/1/2"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(256);
        for bad in ["", "A", "../etc", "a/../b", "/a", "a/", "a//b", ".a", "a.", "a..b", "a___b", "a%2e", "a b", "a\\b", &long] {
            assert_eq!(check_name(bad).unwrap_err().code, Code::NameInvalid, "{bad}");
        }
    }

    #[test]
    fn tags() {
        for ok in ["latest", "v1.0", "_x", "A-b.c", &"t".repeat(128)] {
            assert!(is_tag(ok), "{ok}");
        }
        for bad in ["", ".x", "-x", "a/b", "a:b", &"t".repeat(129), ".."] {
            assert!(!is_tag(bad), "{bad}");
        }
    }
}
