//! Images as clients see them: `images` rows, creation times and labels.

use berth_api::image::ImageSummary;
use berth_image::Image;
use std::collections::BTreeMap;

/// Unix nanoseconds of the image's `created`, if it has one.
pub fn created_nanos(img: &Image) -> Option<i128> {
    img.created.as_deref().and_then(berth_api::time::parse_rfc3339)
}

pub fn created_secs(img: &Image) -> i64 {
    created_nanos(img).map(|n| (n / 1_000_000_000) as i64).unwrap_or(0)
}

pub fn labels(img: &Image) -> BTreeMap<String, String> {
    img.config.config.as_ref().and_then(|c| c.labels.clone()).unwrap_or_default()
}

/// One `images` row. `containers` and `shared_size` are -1 when not
/// computed, as dockerd leaves them.
pub fn summary(img: &Image, tags: Vec<String>, containers: i64, shared_size: i64) -> ImageSummary {
    ImageSummary {
        id: img.id.to_string(),
        parent_id: String::new(),
        repo_tags: tags,
        repo_digests: img.digests.clone(),
        created: created_secs(img),
        size: img.size as i64,
        shared_size,
        labels: labels(img),
        containers,
    }
}
