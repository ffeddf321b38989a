//! Uploads in progress: `uploads/<id>/data` grows chunk by chunk and
//! becomes a blob only by a rename once its digest is verified.

use super::{random_id, Storage};
use std::fmt;
use std::fs;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;

/// An upload session id: 32 hex characters made here, so one from a URL
/// that parses is safe to join to a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UploadId(String);

impl FromStr for UploadId {
    type Err = ();
    fn from_str(s: &str) -> Result<UploadId, ()> {
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(UploadId(s.to_string()))
        } else {
            Err(())
        }
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Storage {
    fn upload_dir(&self, id: &UploadId) -> PathBuf {
        self.root.join("uploads").join(&id.0)
    }

    pub fn upload_data(&self, id: &UploadId) -> PathBuf {
        self.upload_dir(id).join("data")
    }

    /// Starts an upload into repository `name`.
    pub fn new_upload(&self, name: &str) -> io::Result<UploadId> {
        let id = UploadId(random_id()?);
        let dir = self.upload_dir(&id);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join("repo"), name)?;
        fs::File::create(dir.join("data"))?;
        Ok(id)
    }

    /// The bytes received so far, if `id` is an upload of repository `name`.
    pub fn upload_size(&self, name: &str, id: &UploadId) -> io::Result<Option<u64>> {
        let dir = self.upload_dir(id);
        match fs::read_to_string(dir.join("repo")) {
            Ok(r) if r == name => Ok(Some(fs::metadata(dir.join("data"))?.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Uploads whose data has not changed for `age` (gc removes them).
    pub fn stale_uploads(&self, age: std::time::Duration) -> io::Result<Vec<UploadId>> {
        let now = std::time::SystemTime::now();
        let mut out = Vec::new();
        for n in super::read_dir_names(&self.root.join("uploads"))? {
            let Ok(id) = n.parse::<UploadId>() else { continue };
            let modified = fs::metadata(self.upload_data(&id)).and_then(|m| m.modified());
            let old = match modified {
                Ok(t) => now.duration_since(t).is_ok_and(|d| d >= age),
                // No data file: a directory left by a crash mid-creation.
                Err(_) => true,
            };
            if old {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Empties tmp/ (gc only: no writer can be running then).
    pub fn clear_tmp(&self) -> io::Result<usize> {
        let dir = self.root.join("tmp");
        let names = super::read_dir_names(&dir)?;
        for n in &names {
            fs::remove_file(dir.join(n))?;
        }
        Ok(names.len())
    }

    pub fn remove_upload(&self, id: &UploadId) -> io::Result<()> {
        match fs::remove_dir_all(self.upload_dir(id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

    #[test]
    fn upload_then_commit() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let id = s.new_upload("a/b").unwrap();
        assert_eq!(s.upload_size("a/b", &id).unwrap(), Some(0));
        // Another repository cannot use it.
        assert_eq!(s.upload_size("c", &id).unwrap(), None);
        fs::write(s.upload_data(&id), b"abc").unwrap();
        assert_eq!(s.upload_size("a/b", &id).unwrap(), Some(3));
        let d = Digest::of(b"abc");
        s.commit_blob(&s.upload_data(&id), &d).unwrap();
        s.remove_upload(&id).unwrap();
        assert_eq!(s.blob_size(&d).unwrap(), Some(3));
        assert_eq!(s.upload_size("a/b", &id).unwrap(), None);
        assert!("../../etc".parse::<UploadId>().is_err());
        let young = s.new_upload("a").unwrap();
        assert!(s.stale_uploads(std::time::Duration::from_secs(3600)).unwrap().is_empty());
        assert_eq!(s.stale_uploads(std::time::Duration::ZERO).unwrap(), vec![young]);
        assert!(id.to_string().parse::<UploadId>().is_ok());
    }
}
