//! Timestamps as the Engine API writes them (RFC 3339 with nanoseconds,
//! UTC) and the forms clients send in `since`/`until` filters.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Docker's zero time, printed for "never" (e.g. `FinishedAt` of a running container).
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Nanoseconds since the Unix epoch (negative before it).
pub fn unix_nanos(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// Formats Unix nanoseconds as `2006-01-02T15:04:05.999999999Z` (trailing zeros
/// of the fraction trimmed, as Go's RFC3339Nano does).
pub fn format_rfc3339_nanos(nanos: i128) -> String {
    let secs = nanos.div_euclid(1_000_000_000) as i64;
    let frac = nanos.rem_euclid(1_000_000_000) as u32;
    let (y, mo, d, h, mi, s) = civil_from_unix(secs);
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if frac != 0 {
        let f = format!("{frac:09}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

pub fn format_system_time(t: SystemTime) -> String {
    format_rfc3339_nanos(unix_nanos(t))
}

/// Days-from-civil inverse (Howard Hinnant's algorithm), proleptic Gregorian.
fn civil_from_unix(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (rem / 3600) as u32, ((rem % 3600) / 60) as u32, (rem % 60) as u32)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339 timestamp (`Z` or `±hh:mm` offset, optional fraction)
/// into Unix nanoseconds.
pub fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)? as u32, num(8..10)? as u32);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac: i128 = 0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let f = &r[..digits.min(9)];
        frac = f.parse::<i128>().ok()? * 10i128.pow(9 - f.len() as u32);
        rest = &r[digits..];
    }
    let offset: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            // `hh:mm`, two digits each, so no offset can overflow.
            let (oh, om) = rest.get(1..)?.split_once(':')?;
            let two_digits = |x: &str| -> Option<i64> {
                (x.len() == 2 && x.bytes().all(|c| c.is_ascii_digit())).then(|| x.parse().ok()).flatten()
            };
            let (oh, om) = (two_digits(oh)?, two_digits(om)?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    Some(secs as i128 * 1_000_000_000 + frac)
}

/// Parses a `since`/`until` value as Docker does: a Unix timestamp with an
/// optional fraction (`1700000000.5`), an RFC 3339 time, or a duration
/// relative to `now` (`10m`, `1h30m`, `45s`). Returns Unix nanoseconds;
/// None for anything else, including values too large to represent.
pub fn parse_time_filter(s: &str, now: SystemTime) -> Option<i128> {
    let s = s.trim();
    // A duration goes back from now; Go's leading sign is allowed, so
    // `-1h` is an hour ahead.
    let (ahead, unsigned) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if let Some(d) = parse_duration(unsigned) {
        let d = d.as_nanos() as i128;
        return Some(if ahead { unix_nanos(now) + d } else { unix_nanos(now) - d });
    }
    if let Some(n) = parse_rfc3339(s) {
        return Some(n);
    }
    if let Some(d) = s.strip_suffix('Z').and_then(|x| parse_rfc3339(&format!("{x}:00Z"))) {
        return Some(d);
    }
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = secs.strip_prefix('-').unwrap_or(secs);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // Nanoseconds must fit Go's int64 time (about ±292 years), as dockerd's do.
    let secs: i64 = secs.parse().ok()?;
    let f = &frac[..frac.len().min(9)];
    let frac_ns: i128 = if f.is_empty() { 0 } else { f.parse::<i128>().ok()? * 10i128.pow(9 - f.len() as u32) };
    Some(i128::from(secs) * 1_000_000_000 + frac_ns)
}

/// Go-style durations: `300ms`, `10s`, `1.5h`, `2h45m`. Computed in integer
/// nanoseconds; None past Go's limit (int64 nanoseconds, about 2,562,047 h),
/// so no input can overflow.
pub fn parse_duration(s: &str) -> Option<Duration> {
    const MAX_NANOS: u128 = i64::MAX as u128;
    if s.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(a) => a.split_at(a.bytes().take_while(u8::is_ascii_digit).count()),
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let u = after.bytes().take_while(|c| !c.is_ascii_digit() && *c != b'.').count();
        let unit: u128 = match &after[..u] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &after[u..];
        let mut value: u128 = 0;
        for c in int_part.bytes() {
            value = value.checked_mul(10)?.checked_add(u128::from(c - b'0'))?;
            if value > MAX_NANOS {
                return None;
            }
        }
        let mut value = value * unit;
        // The fraction's digits, each worth a tenth of the one before;
        // digits below a nanosecond are dropped, as Go does.
        let mut scale = unit;
        for c in frac_part.bytes() {
            scale /= 10;
            if scale == 0 {
                break;
            }
            value += u128::from(c - b'0') * scale;
        }
        total = total.checked_add(value)?;
        if total > MAX_NANOS {
            return None;
        }
    }
    Some(Duration::from_nanos(total as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(format_rfc3339_nanos(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339_nanos(1_700_000_000_123_456_789), "2023-11-14T22:13:20.123456789Z");
        assert_eq!(format_rfc3339_nanos(1_700_000_000_500_000_000), "2023-11-14T22:13:20.5Z");
        assert_eq!(format_rfc3339_nanos(951_782_400 * 1_000_000_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn parses_rfc3339_round_trip() {
        for n in [0i128, 1_700_000_000_123_456_789, 951_782_400_000_000_000] {
            assert_eq!(parse_rfc3339(&format_rfc3339_nanos(n)), Some(n));
        }
        assert_eq!(parse_rfc3339("2023-11-14T23:13:20+01:00"), Some(1_700_000_000_000_000_000));
        assert_eq!(parse_rfc3339("nonsense"), None);
        assert_eq!(parse_rfc3339("2023-13-14T23:13:20Z"), None);
    }

    #[test]
    fn parses_filters() {
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(parse_time_filter("10s", now), Some(990_000_000_000));
        assert_eq!(parse_time_filter("1m30s", now), Some(910_000_000_000));
        assert_eq!(parse_time_filter("500", now), Some(500_000_000_000));
        assert_eq!(parse_time_filter("500.25", now), Some(500_250_000_000));
        assert_eq!(parse_time_filter("1970-01-01T00:00:10Z", now), Some(10_000_000_000));
        assert_eq!(parse_time_filter("yesterday", now), None);
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("5x"), None);
    }

    #[test]
    fn huge_or_odd_values_are_refused_not_panics() {
        let now = SystemTime::now();
        for bad in [
            "99999999999999999999h",
            "2562048h",
            "9223372036854775808ns",
            "1e400h",
            ".",
            "h",
            "1.2.3s",
            "99999999999999999999999999999999999999999",
            "-99999999999999999999",
            "5.12345678é",
            "1.é",
            "2023-11-14T23:13:20+99999999999999999:00",
            "2023-11-14T23:13:20+01:0é",
            "2023-11-14T23:13:2é",
        ] {
            assert_eq!(parse_time_filter(bad, now), None, "{bad}");
        }
        assert_eq!(parse_duration("2562047h"), Some(Duration::from_secs(2_562_047 * 3600)));
        assert_eq!(parse_duration("9223372036854775807ns"), Some(Duration::from_nanos(i64::MAX as u64)));
        assert_eq!(parse_duration("1.000000001s"), Some(Duration::from_nanos(1_000_000_001)));
        assert_eq!(parse_duration("1.0000000019s"), Some(Duration::from_nanos(1_000_000_001)));
        assert_eq!(parse_duration(".5s"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h0.5m"), Some(Duration::from_secs(3630)));
        assert_eq!(parse_duration("10µs"), Some(Duration::from_micros(10)));
        assert_eq!(parse_time_filter("-5.5", now), Some(-4_500_000_000));
        let t = UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(parse_time_filter("-1m", t), Some(1_060_000_000_000));
        assert_eq!(parse_time_filter("+1m", t), Some(940_000_000_000));
        assert_eq!(parse_time_filter("--1m", t), None);
    }
}
