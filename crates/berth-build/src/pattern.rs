//! Shell patterns for `${V#p}`, `${V%p}`, `${V/p/r}`: `*`, `?`, `[...]`, escapes.

/// A shell pattern: `*`, `?`, `[...]`, and escaped literals.
#[derive(Debug, PartialEq)]
pub enum Pat {
    Lit(char),
    Any,
    One,
    Class(bool, Vec<(char, char)>),
}

pub fn pattern(p: &str, escape: char) -> Vec<Pat> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' => out.push(Pat::Any),
            '?' => out.push(Pat::One),
            '[' => {
                let mut j = i + 1;
                let neg = matches!(chars.get(j), Some('!' | '^'));
                if neg {
                    j += 1;
                }
                let mut ranges = Vec::new();
                while j < chars.len() && (chars[j] != ']' || ranges.is_empty()) {
                    let lo = chars[j];
                    if chars.get(j + 1) == Some(&'-') && chars.get(j + 2).is_some_and(|c| *c != ']') {
                        ranges.push((lo, chars[j + 2]));
                        j += 3;
                    } else {
                        ranges.push((lo, lo));
                        j += 1;
                    }
                }
                if j >= chars.len() {
                    out.push(Pat::Lit('['));
                } else {
                    out.push(Pat::Class(neg, ranges));
                    i = j;
                }
            }
            c if c == escape && i + 1 < chars.len() => {
                i += 1;
                out.push(Pat::Lit(chars[i]));
            }
            c => out.push(Pat::Lit(c)),
        }
        i += 1;
    }
    out
}

/// Does the whole of `s` match? Dynamic programming: O(tokens × length).
pub fn glob(p: &[Pat], s: &[char]) -> bool {
    let n = s.len();
    let mut next = vec![false; n + 1];
    next[n] = true;
    for t in p.iter().rev() {
        let mut cur = vec![false; n + 1];
        for j in (0..=n).rev() {
            let c = s.get(j);
            cur[j] = match t {
                Pat::Any => next[j] || (c.is_some() && cur[j + 1]),
                Pat::Lit(l) => c == Some(l) && next[j + 1],
                Pat::One => c.is_some() && next[j + 1],
                Pat::Class(neg, r) => c.is_some_and(|c| r.iter().any(|(lo, hi)| lo <= c && c <= hi) != *neg) && next[j + 1],
            };
        }
        next = cur;
    }
    next[0]
}
