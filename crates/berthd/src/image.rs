//! Images as clients see them: `images` rows, and the filters on images
//! that compare creation times (`before`, `since`, `until`) or labels.

use crate::http::query::Filters;
use berth_api::image::ImageSummary;
use berth_api::ApiError;
use berth_image::{Image, ImageStore};
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

/// The creation-time window of `images`' `before`, `since` and `until`
/// filters: `before`/`since` name an image, `until` is a time.
#[derive(Debug, Default, Clone, Copy)]
pub struct CreatedWindow {
    /// Only images created strictly before this.
    before: Option<i128>,
    /// Only images created strictly after this.
    after: Option<i128>,
}

impl CreatedWindow {
    pub fn from_filters(f: &Filters, store: &ImageStore) -> Result<CreatedWindow, ApiError> {
        let of_image = |key: &str| -> Result<Option<i128>, ApiError> {
            match f.values(key).first() {
                None => Ok(None),
                Some(name) => {
                    let img = store.resolve(name).map_err(crate::error::image_error)?;
                    Ok(Some(created_nanos(&img).unwrap_or(0)))
                }
            }
        };
        let before = [of_image("before")?, crate::common_filters::until(f)?].into_iter().flatten().min();
        Ok(CreatedWindow { before, after: of_image("since")? })
    }

    pub fn contains(&self, img: &Image) -> bool {
        let t = created_nanos(img).unwrap_or(0);
        self.before.is_none_or(|b| t < b) && self.after.is_none_or(|a| t > a)
    }
}
