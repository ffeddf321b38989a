//! The image list's `reference=` filter: Go's path.Match over an image's
//! `name` or `name:tag`, in linear time (patterns are client input).

/// Docker's `reference=` filter: a glob over `name` or `name:tag`.
pub fn reference_matches(pattern: &str, tag: &str) -> bool {
    // A `:` before the last `/` is a registry's port, not a tag.
    let has_tag = |s: &str| s.rsplit('/').next().is_some_and(|last| last.contains(':'));
    let name = if has_tag(tag) { tag.rsplit_once(':').map_or(tag, |(n, _)| n) } else { tag };
    if has_tag(pattern) {
        glob(pattern, tag)
    } else {
        glob(pattern, name)
    }
}

/// `*` matches within a path segment, `?` one character (Go's path.Match).
/// Neither crosses a `/`, so pattern and name match segment by segment; in
/// a segment the pieces between stars are found leftmost first, which is
/// enough once the stars are unrestricted. No backtracking: at worst
/// O(len(p) * len(s)), where the recursive form was exponential in the
/// number of stars.
fn glob(p: &str, s: &str) -> bool {
    let (mut ps, mut ss) = (p.split('/'), s.split('/'));
    loop {
        match (ps.next(), ss.next()) {
            (None, None) => return true,
            (Some(pseg), Some(sseg)) if glob_segment(pseg.as_bytes(), sseg.as_bytes()) => {}
            _ => return false,
        }
    }
}

fn glob_segment(p: &[u8], s: &[u8]) -> bool {
    // A piece (no `*`) against bytes of the same length; `?` takes any one.
    let fits = |piece: &[u8], at: &[u8]| piece.iter().zip(at).all(|(a, b)| *a == b'?' || a == b);
    let mut pieces = p.split(|c| *c == b'*');
    let Some(first) = pieces.next() else { return s.is_empty() };
    if !p.contains(&b'*') {
        return first.len() == s.len() && fits(first, s);
    }
    if s.len() < first.len() || !fits(first, s) {
        return false;
    }
    let mut rest = &s[first.len()..];
    let middle: Vec<&[u8]> = pieces.collect();
    let Some((last, middle)) = middle.split_last() else { return true };
    for piece in middle {
        match (0..=rest.len().saturating_sub(piece.len())).find(|&i| rest.len() >= i + piece.len() && fits(piece, &rest[i..])) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && fits(last, &rest[rest.len() - last.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_filter_globs() {
        assert!(reference_matches("busybox", "busybox:latest"));
        assert!(reference_matches("busy*", "busybox:latest"));
        assert!(reference_matches("busybox:lat*", "busybox:latest"));
        assert!(!reference_matches("busybox:1", "busybox:latest"));
        assert!(!reference_matches("*", "foo/bar:1"));
        assert!(reference_matches("*/*", "foo/bar:1"));
        assert!(reference_matches("127.0.0.1:5000/many", "127.0.0.1:5000/many:one"));
        assert!(reference_matches("127.0.0.1:5000/many:one", "127.0.0.1:5000/many:one"));
        assert!(!reference_matches("127.0.0.1:5000/many:two", "127.0.0.1:5000/many:one"));
    }

    #[test]
    fn glob_matches_like_go_path_match() {
        for (p, s, want) in [
            ("", "", true),
            ("a*", "a", true),
            ("*a", "ba", true),
            ("a*b*c", "abxbc", true),
            ("a*b*c", "abxbcx", false),
            ("a?c", "abc", true),
            ("a?c", "a/c", false),
            ("a*c", "a/c", false),
            ("a/*/c", "a/b/c", true),
            ("a/*", "a/b/c", false),
            ("*x*y", "xxyxy", true),
            ("ab*ba", "aba", false),
            ("*", "", true),
            ("**", "abc", true),
            ("abc", "ab", false),
        ] {
            assert_eq!(glob(p, s), want, "{p} vs {s}");
        }
    }

    #[test]
    fn glob_is_not_exponential() {
        // The recursive matcher explored 2^40 paths on this one (minutes);
        // the piecewise one answers these correctly without recursion (no
        // timing here: speed is for bench/, the answers are for tests).
        let pattern = format!("{}b", "a*".repeat(40));
        assert!(!glob(&pattern, &"a".repeat(100)));
        assert!(glob(&pattern, &format!("{}b", "a".repeat(100))));
        let long = "*a".repeat(5000);
        assert!(!glob(&long, &"a".repeat(4000)));
        assert!(glob(&long, &"a".repeat(5000)));
    }
}
