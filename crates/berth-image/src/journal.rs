//! The ingest journal: recording new images (load, import, commit) writes
//! several files — one record per image, then `repositories.json`. A crash
//! in between would leave some images without their tags. The journal
//! (`<root>/ingest.json`, written before the first record and removed
//! after the tags) lets start-up tell: if every tag it names is in
//! `repositories.json` the ingest completed; else its new image records
//! are removed, and the layers they alone used go with the start-up
//! layer sweep. Either the old state or the new one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_store::{write_atomic, RecordDir};
use serde::{Deserialize, Serialize};

use crate::error::{ImageError, Result};

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Journal {
    /// Image ids (hex) whose records this ingest creates.
    pub new_images: Vec<String>,
    /// Tag (as stored in repositories.json) → image id, as it will be.
    pub tags: BTreeMap<String, String>,
}

pub(crate) fn path(root: &Path) -> PathBuf {
    root.join("ingest.json")
}

pub(crate) fn begin(root: &Path, j: &Journal) -> Result<()> {
    let data = serde_json::to_vec(j).map_err(|e| ImageError::Corrupt(e.to_string()))?;
    write_atomic(&path(root), &data)?;
    Ok(())
}

pub(crate) fn end(root: &Path) {
    let _ = std::fs::remove_file(path(root));
}

/// Start-up: finishes or rolls back an ingest a crash interrupted.
/// Returns the image ids whose records were removed.
pub(crate) fn recover<T: Serialize + serde::de::DeserializeOwned>(root: &Path, records: &RecordDir<T>) -> Vec<String> {
    let Ok(bytes) = std::fs::read(path(root)) else { return vec![] };
    let Ok(j) = serde_json::from_slice::<Journal>(&bytes) else {
        // Torn journal: written atomically, so it was never complete and
        // no record was written after it.
        end(root);
        return vec![];
    };
    let refs: BTreeMap<String, String> = std::fs::read(root.join("repositories.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let done = j.tags.iter().all(|(tag, id)| refs.get(tag).is_some_and(|r| r.trim_start_matches("sha256:") == id));
    let mut removed = vec![];
    if !done {
        for id in &j.new_images {
            if records.delete(id).is_ok() {
                removed.push(id.clone());
            }
        }
    }
    end(root);
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    fn crashed_ingest(root: &Path) -> std::result::Result<RecordDir<serde_json::Value>, Box<dyn std::error::Error>> {
        let records = RecordDir::open(&root.join("images"))?;
        records.put("aa", &serde_json::json!({"id": "aa"}))?;
        let j = Journal { new_images: vec!["aa".into()], tags: [("docker.io/library/x:1".to_string(), "aa".to_string())].into() };
        begin(root, &j)?;
        Ok(records)
    }

    #[test]
    fn an_ingest_cut_before_its_tags_is_rolled_back() -> TestResult {
        let t = tempfile::tempdir()?;
        let records = crashed_ingest(t.path())?;
        assert_eq!(recover(t.path(), &records), vec!["aa".to_string()]);
        assert!(records.get("aa")?.is_none());
        assert!(!path(t.path()).exists());
        Ok(())
    }

    #[test]
    fn an_ingest_cut_after_its_tags_is_kept() -> TestResult {
        let t = tempfile::tempdir()?;
        let records = crashed_ingest(t.path())?;
        std::fs::write(t.path().join("repositories.json"), br#"{"docker.io/library/x:1": "sha256:aa"}"#)?;
        assert!(recover(t.path(), &records).is_empty());
        assert!(records.get("aa")?.is_some());
        assert!(!path(t.path()).exists());
        Ok(())
    }

    #[test]
    fn no_journal_changes_nothing() -> TestResult {
        let t = tempfile::tempdir()?;
        let records: RecordDir<serde_json::Value> = RecordDir::open(&t.path().join("images"))?;
        records.put("bb", &serde_json::json!({}))?;
        assert!(recover(t.path(), &records).is_empty());
        assert!(records.get("bb")?.is_some());
        Ok(())
    }
}
