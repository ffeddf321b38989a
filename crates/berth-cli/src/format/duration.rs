//! go-units `HumanDuration`: "5 seconds", "About a minute", "2 hours".

/// Describes an elapsed time in seconds the way `docker ps` does.
pub fn human_duration(secs: f64) -> String {
    let seconds = secs as i64;
    if seconds < 1 {
        return "Less than a second".to_string();
    }
    if seconds == 1 {
        return "1 second".to_string();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = (secs / 60.0) as i64;
    if minutes == 1 {
        return "About a minute".to_string();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    // Go rounds half away from zero to whole hours here.
    let hours = (secs / 3600.0).round() as i64;
    if hours == 1 {
        return "About an hour".to_string();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", (secs / 3600.0) as i64 / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_go_units() {
        let cases = [
            (-5.0, "Less than a second"),
            (0.5, "Less than a second"),
            (1.0, "1 second"),
            (5.0, "5 seconds"),
            (59.9, "59 seconds"),
            (60.0, "About a minute"),
            (119.0, "About a minute"),
            (120.0, "2 minutes"),
            (3599.0, "59 minutes"),
            (3600.0, "About an hour"),
            (5399.0, "About an hour"),
            (5400.0, "2 hours"),
            (47.0 * 3600.0, "47 hours"),
            (48.0 * 3600.0, "2 days"),
            (14.0 * 86400.0, "2 weeks"),
            (60.0 * 86400.0, "2 months"),
            (2.0 * 365.0 * 86400.0, "2 years"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }
}

/// Go's `time.Unix(secs, 0).UTC().String()`: `2024-01-02 15:04:05 +0000 UTC`.
pub fn go_time_string(unix_secs: i64) -> String {
    let s = berth_api::time::format_rfc3339_nanos(i128::from(unix_secs) * 1_000_000_000);
    let s = s.trim_end_matches('Z').replacen('T', " ", 1);
    format!("{s} +0000 UTC")
}

#[cfg(test)]
mod time_tests {
    #[test]
    fn go_time_strings() {
        assert_eq!(super::go_time_string(1_700_000_000), "2023-11-14 22:13:20 +0000 UTC");
    }
}
