//! `created_by` strings exactly as dockerd's classic builder writes them, and the Go
//! formatting (`%q`, `%v`, durations) they are made of.

/// The default SHELL on Linux.
pub fn default_shell() -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into()]
}

/// A config-only step: `/bin/sh -c #(nop)  CMD ["sh"]` (shell, `#(nop) `, comment, joined
/// with spaces — hence the two spaces).
pub fn nop(shell: &[String], comment: &str) -> String {
    let mut parts: Vec<String> = shell.to_vec();
    parts.push("#(nop) ".into());
    parts.push(comment.into());
    parts.join(" ")
}

/// WORKDIR, COPY and ADD use a single-argument comment: `/bin/sh -c #(nop) WORKDIR /app`.
pub fn nop_single(shell: &[String], comment: &str) -> String {
    let mut parts: Vec<String> = shell.to_vec();
    parts.push(format!("#(nop) {comment}"));
    parts.join(" ")
}

pub use berth_api::gofmt::quote_list as go_quote_list;

/// Go's `%v` of a `[]string`: `[a b]`.
pub fn go_list(v: &[String]) -> String {
    format!("[{}]", v.join(" "))
}

/// Go's `time.Duration.String()` for nanoseconds.
pub fn go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let body = if u < 1_000_000_000 {
        // Sub-second: the largest unit that keeps the integer part non-zero.
        let (unit, div) = if u < 1_000 {
            ("ns", 1u64)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        format!("{}{unit}", frac(u, div))
    } else {
        let secs_total = u / 1_000_000_000;
        let h = secs_total / 3600;
        let m = secs_total % 3600 / 60;
        let s = frac(u % 60_000_000_000, 1_000_000_000);
        let mut out = String::new();
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&format!("{s}s"));
        out
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// `v / div` with the fraction's trailing zeros dropped (`1.5`, `2`).
fn frac(v: u64, div: u64) -> String {
    let int = v / div;
    let rem = v % div;
    if rem == 0 {
        return int.to_string();
    }
    let width = div.to_string().len() - 1;
    let f = format!("{rem:0width$}");
    format!("{int}.{}", f.trim_end_matches('0'))
}

/// Parses a Go duration (`1h2m3.5s`, `300ms`, `10us`); `None` when malformed.
pub fn parse_go_duration(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += n * mult;
    }
    let v = total.round() as i64;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nop_forms() {
        let sh = default_shell();
        assert_eq!(nop(&sh, &format!("CMD {}", go_quote_list(&["sh".into()]))), "/bin/sh -c #(nop)  CMD [\"sh\"]");
        assert_eq!(nop_single(&sh, "WORKDIR /app"), "/bin/sh -c #(nop) WORKDIR /app");
    }

    #[test]
    fn go_formats() {
        assert_eq!(go_list(&["/a".into(), "/b".into()]), "[/a /b]");
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(5_000_000_000), "5s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(100_000_000), "100ms");
        assert_eq!(parse_go_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("x"), None);
    }
}
