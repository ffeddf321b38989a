//! The `since`/`until` parsers of events, logs and prune filters, and the
//! RFC 3339 readers of image configs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    if let Some(t) = berth_api::time::parse_time_filter(s, now) {
        let _ = berth_api::time::format_rfc3339_nanos(t);
    }
    let _ = berth_api::time::parse_duration(s);
    if let Some(t) = berth_api::time::parse_rfc3339(s) {
        let _ = berth_api::time::format_rfc3339_nanos(t);
    }
    let _ = berth_image::timestamp::parse_rfc3339(s);
});
