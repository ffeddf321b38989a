//! `docker history`: one entry per config history item, newest first.

use berth_store::Digest;

use crate::error::{ImageError, Result};
use crate::store::ImageStore;
use crate::timestamp::parse_rfc3339;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The image id on the newest entry, `<missing>` below it (as Docker shows for
    /// images whose intermediate images are not local).
    pub id: String,
    /// Unix seconds (0 if unknown).
    pub created: i64,
    pub created_by: String,
    pub tags: Vec<String>,
    /// Unpacked size of the layer this step made (0 for empty layers).
    pub size: u64,
    pub comment: String,
}

impl ImageStore {
    pub fn history(&self, id: &Digest) -> Result<Vec<HistoryEntry>> {
        let image = self.resolve(&id.to_string())?;
        let mut layers = image.layers.iter();
        let mut out = Vec::new();
        for h in &image.config.history {
            let size = if h.empty_layer {
                0
            } else {
                let chain = layers.next().ok_or_else(|| {
                    ImageError::Corrupt(format!(
                        "{id}: too many non-empty layers in History section"
                    ))
                })?;
                self.layers.info(chain)?.size
            };
            out.push(HistoryEntry {
                id: "<missing>".into(),
                created: h.created.as_deref().and_then(parse_rfc3339).unwrap_or(0),
                created_by: h.created_by.clone().unwrap_or_default(),
                tags: Vec::new(),
                size,
                comment: h.comment.clone().unwrap_or_default(),
            });
        }
        out.reverse();
        // Rows name the image and then its recorded parents, one per row,
        // as dockerd's history walks an image's parent chain (the
        // classic builder's intermediate images).
        let mut next = Some(image);
        for row in out.iter_mut() {
            let Some(img) = next.take() else { break };
            row.id = img.id.to_string();
            row.tags = img.tags.clone();
            next = self.parent_of(&img).and_then(|p| self.resolve(&p.to_string()).ok());
        }
        Ok(out)
    }
}
