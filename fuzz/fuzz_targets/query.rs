//! Query strings, the `filters` JSON and the filter helpers every list and
//! prune endpoint runs, plus the image list's `reference=` glob.
#![no_main]

use berth_api::query::Query;
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let q = Query::parse(Some(raw));
    let _ = q.flag("all");
    let _ = q.int("limit");
    let _ = q.get_all("x");
    if let Ok(f) = q.filters() {
        let _ = f.validate(&["label", "label!", "until", "reference"]);
        let _ = f.until(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        let _ = f.labels_match(|k| (k.len() % 2 == 0).then_some("v"));
        // Each reference pattern against a tag built from the input: the
        // matcher must stay linear whatever the stars.
        for p in f.values("reference") {
            let _ = berth_image::reference_matches(p, raw);
            let _ = berth_image::reference_matches(p, "docker.io/library/busybox:latest");
        }
    }
    // The raw input as a filters document on its own (the common shape).
    let _ = berth_api::query::Filters::from_json(raw);
});
