//! Signal names and numbers as the docker CLI and Engine API spell them.

use crate::RuntimeError;

/// Highest real-time signal on Linux (SIGRTMAX); numbers above it are rejected.
const SIGRTMAX: i32 = 64;
/// Lowest real-time signal as Go (and so Docker) names it.
const SIGRTMIN: i32 = 34;

/// Classic signals; the first name for a number is its canonical name.
const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// Parses "SIGTERM", "TERM", "sigterm", "15", "RTMIN+3" into a signal number.
///
/// Like Docker, a number is taken as is (but must be a real signal, 1..=64) and
/// a name is matched case-insensitively with an optional "SIG" prefix.
pub fn parse_signal(s: &str) -> Result<i32, RuntimeError> {
    let invalid = || RuntimeError::InvalidSignal(s.to_string());
    if let Ok(n) = s.parse::<i64>() {
        return if (1..=i64::from(SIGRTMAX)).contains(&n) {
            i32::try_from(n).map_err(|_| invalid())
        } else {
            Err(invalid())
        };
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, n)) = SIGNALS.iter().find(|(k, _)| *k == name) {
        return Ok(n);
    }
    realtime_signal(name).ok_or_else(invalid)
}

/// "RTMIN", "RTMIN+n" (n 1..=15), "RTMAX", "RTMAX-n" (n 1..=14), as in Docker's table.
fn realtime_signal(name: &str) -> Option<i32> {
    let offset = |rest: &str, max: i32| -> Option<i32> {
        // Only plain decimal digits: "+ 3" or "++3" are not signal names.
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        rest.parse::<i32>().ok().filter(|n| (1..=max).contains(n))
    };
    match name {
        "RTMIN" => Some(SIGRTMIN),
        "RTMAX" => Some(SIGRTMAX),
        _ => {
            if let Some(rest) = name.strip_prefix("RTMIN+") {
                offset(rest, 15).map(|n| SIGRTMIN + n)
            } else if let Some(rest) = name.strip_prefix("RTMAX-") {
                offset(rest, 14).map(|n| SIGRTMAX - n)
            } else {
                None
            }
        }
    }
}

/// The canonical name of a signal number ("SIGTERM"), or `None` if it is not one.
pub fn signal_name(n: i32) -> Option<String> {
    if let Some((name, _)) = SIGNALS.iter().find(|(_, v)| *v == n) {
        return Some(format!("SIG{name}"));
    }
    match n {
        SIGRTMIN => Some("SIGRTMIN".to_string()),
        SIGRTMAX => Some("SIGRTMAX".to_string()),
        n if (SIGRTMIN + 1..=SIGRTMIN + 15).contains(&n) => {
            Some(format!("SIGRTMIN+{}", n - SIGRTMIN))
        }
        n if (SIGRTMAX - 14..SIGRTMAX).contains(&n) => Some(format!("SIGRTMAX-{}", SIGRTMAX - n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_numbers() {
        for (s, n) in [
            ("SIGTERM", 15),
            ("TERM", 15),
            ("15", 15),
            ("sigkill", 9),
            ("kill", 9),
            ("SIGHUP", 1),
            ("SIGIOT", 6),
            ("SIGCLD", 17),
            ("usr1", 10),
            ("RTMIN", 34),
            ("SIGRTMIN+3", 37),
            ("RTMAX-1", 63),
            ("SIGRTMAX", 64),
            ("64", 64),
        ] {
            assert_eq!(parse_signal(s).ok(), Some(n), "{s}");
        }
    }

    #[test]
    fn rejects_hostile_and_unknown() {
        for s in [
            "",
            "0",
            "-9",
            "65",
            "99999999999999999999",
            "SIG",
            "FOO",
            "SIGFOO",
            "RTMIN+16",
            "RTMIN+",
            "RTMIN+-1",
            "RTMAX-15",
            "RTMIN++3",
            "TERM ",
            " 15",
            "SIGSIGTERM",
        ] {
            let err = parse_signal(s).expect_err(s);
            assert_eq!(err.to_string(), format!("Invalid signal: {s}"));
        }
    }

    #[test]
    fn names_round_trip() {
        for n in 1..=64 {
            if n == 32 || n == 33 {
                // Reserved by libc; neither Go nor Docker names them.
                assert_eq!(signal_name(n), None);
                continue;
            }
            let name = signal_name(n).unwrap_or_else(|| panic!("no name for {n}"));
            assert_eq!(parse_signal(&name).ok(), Some(n), "{name}");
        }
        assert_eq!(signal_name(15).as_deref(), Some("SIGTERM"));
        assert_eq!(signal_name(6).as_deref(), Some("SIGABRT"));
        assert_eq!(signal_name(0), None);
        assert_eq!(signal_name(65), None);
    }
}
