//! Crash-safe metadata: one JSON file per key, written to a temp name, synced and renamed.

use std::fs::{self, File};
use std::io::{self, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{IoContext, Result, StoreError};
use crate::quarantine::{Quarantine, Quarantined};
use crate::tmp::unique_name;

/// Write `data` to `path` so that a crash leaves either the old or the new content.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    write_replacing(path, data, true)
}

/// Removes the temp files of writes a crash interrupted (`.tmp-*` beside
/// the records). Only for start-up, when no write is in flight.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        if e.file_name().to_string_lossy().starts_with(".tmp-") {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Temp file and rename, fsynced (file and directory) when `sync`. Without
/// it a process crash still leaves the old or the new content, and so does
/// a power loss on ext4 (a rename over a file flushes its data first), but
/// the old content may come back after one.
fn write_replacing(path: &Path, data: &[u8], sync: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{}", unique_name(&format!("tmp-{name}"))));
    let res = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(data)?;
        if sync {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)?;
        if sync {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res.at(path)
}

/// What a start-up load found: the readable records, sorted by key, and the damaged
/// ones it moved aside.
#[derive(Debug)]
pub struct Loaded<T> {
    pub records: Vec<(String, T)>,
    pub quarantined: Vec<Quarantined>,
}

/// A directory of `<key>.json` records of one type.
#[derive(Debug)]
pub struct RecordDir<T> {
    dir: PathBuf,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for RecordDir<T> {
    fn clone(&self) -> Self {
        RecordDir {
            dir: self.dir.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> RecordDir<T> {
    pub fn open(dir: &Path) -> Result<RecordDir<T>> {
        fs::create_dir_all(dir).at(dir)?;
        Ok(RecordDir {
            dir: dir.to_path_buf(),
            _t: PhantomData,
        })
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        let bad = key.is_empty()
            || key.starts_with('.')
            || key.contains(['/', '\\', '\0'])
            || key.contains("..");
        if bad {
            return Err(StoreError::InvalidKey(key.to_string()));
        }
        Ok(self.dir.join(format!("{key}.json")))
    }

    /// Stores `value` durably (fsynced).
    pub fn put(&self, key: &str, value: &T) -> Result<()> {
        self.put_with(key, value, true)
    }

    /// Stores `value` atomically but without fsync: for changes whose loss
    /// in a power cut is harmless because the reader reconciles them (a
    /// container's run state, checked against its shim at start-up).
    pub fn put_unsynced(&self, key: &str, value: &T) -> Result<()> {
        self.put_with(key, value, false)
    }

    fn put_with(&self, key: &str, value: &T, sync: bool) -> Result<()> {
        let path = self.path(key)?;
        let data =
            serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))?;
        write_replacing(&path, &data, sync)
    }

    pub fn get(&self, key: &str) -> Result<Option<T>> {
        let path = self.path(key)?;
        match fs::read(&path) {
            Ok(data) => serde_json::from_slice(&data)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    /// The keys of the records present, sorted; temp files of interrupted
    /// writes (`.name.json...`) are skipped.
    fn keys(&self) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        for entry in fs::read_dir(&self.dir).at(&self.dir)? {
            let name = entry.at(&self.dir)?.file_name().to_string_lossy().into_owned();
            match name.strip_suffix(".json") {
                Some(key) if !key.starts_with('.') => keys.push(key.to_string()),
                _ => {}
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// All records, sorted by key.
    pub fn list(&self) -> Result<Vec<(String, T)>> {
        let mut out = Vec::new();
        for key in self.keys()? {
            if let Some(v) = self.get(&key)? {
                out.push((key, v));
            }
        }
        Ok(out)
    }

    /// All records, like `list`, except that one that cannot be read or parsed is moved
    /// to the quarantine under this directory's name (`containers`, `volumes`, ...)
    /// instead of failing the whole load. Only an unreadable directory is an error.
    pub fn load(&self, q: &Quarantine) -> Result<Loaded<T>> {
        let mut loaded = Loaded {
            records: Vec::new(),
            quarantined: Vec::new(),
        };
        remove_stale_temps(&self.dir);
        for key in self.keys()? {
            match self.get(&key) {
                Ok(Some(v)) => loaded.records.push((key, v)),
                Ok(None) => {}
                Err(e) => loaded.quarantined.push(self.quarantine(q, &key, &e.to_string())?),
            }
        }
        Ok(loaded)
    }

    /// Moves one record aside, for a record whose own file parses but which is unusable
    /// (an image whose config blob is gone).
    pub fn quarantine(&self, q: &Quarantine, key: &str, reason: &str) -> Result<Quarantined> {
        let kind = self
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "records".to_string());
        Ok(q.move_aside(&kind, &self.path(key)?, reason))
    }

    pub fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(StoreError::io(&path, e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Rec {
        n: u32,
    }

    #[test]
    fn put_get_list_delete() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| StoreError::io("tmp", e))?;
        let rd: RecordDir<Rec> = RecordDir::open(&t.path().join("recs"))?;
        assert_eq!(rd.get("a")?, None);
        rd.put("b", &Rec { n: 2 })?;
        rd.put("a", &Rec { n: 1 })?;
        rd.put("a", &Rec { n: 3 })?;
        assert_eq!(rd.get("a")?, Some(Rec { n: 3 }));
        fs::write(t.path().join("recs/.tmp-x.json"), b"garbage").at("x")?;
        let keys: Vec<_> = rd.list()?.into_iter().map(|(k, v)| (k, v.n)).collect();
        assert_eq!(keys, vec![("a".to_string(), 3), ("b".to_string(), 2)]);
        rd.delete("a")?;
        rd.delete("a")?;
        assert_eq!(rd.get("a")?, None);
        Ok(())
    }

    #[test]
    fn unsynced_puts_replace_whole_records_and_leave_no_temp_files() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| StoreError::io("tmp", e))?;
        let rd: RecordDir<Rec> = RecordDir::open(&t.path().join("recs"))?;
        rd.put("a", &Rec { n: 1 })?;
        rd.put_unsynced("a", &Rec { n: 2 })?;
        assert_eq!(rd.get("a")?, Some(Rec { n: 2 }));
        assert!(rd.put_unsynced("../x", &Rec { n: 3 }).is_err());
        let names: Vec<_> = fs::read_dir(t.path().join("recs"))
            .at("dir")?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<io::Result<_>>()
            .at("entries")?;
        assert_eq!(names, vec!["a.json".to_string()]);
        Ok(())
    }

    #[test]
    fn load_moves_damaged_records_aside_and_keeps_the_rest() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| StoreError::io("tmp", e))?;
        let rd: RecordDir<Rec> = RecordDir::open(&t.path().join("containers"))?;
        rd.put("a", &Rec { n: 1 })?;
        rd.put("c", &Rec { n: 3 })?;
        // Truncated, garbage, empty, and the wrong shape.
        fs::write(t.path().join("containers/b.json"), b"{\"n\":").at("b")?;
        fs::write(t.path().join("containers/d.json"), b"\xff\x00garbage").at("d")?;
        fs::write(t.path().join("containers/e.json"), b"").at("e")?;
        fs::write(t.path().join("containers/f.json"), b"\"x\"").at("f")?;
        let q = Quarantine::new(t.path());
        let loaded = rd.load(&q)?;
        let keys: Vec<_> = loaded.records.iter().map(|(k, v)| (k.as_str(), v.n)).collect();
        assert_eq!(keys, vec![("a", 1), ("c", 3)]);
        let mut moved: Vec<_> = loaded
            .quarantined
            .iter()
            .map(|q| (q.kind.as_str(), q.from.file_name().map(|n| n.to_string_lossy().into_owned())))
            .collect();
        moved.sort();
        let want: Vec<_> = ["b", "d", "e", "f"]
            .iter()
            .map(|k| ("containers", Some(format!("{k}.json"))))
            .collect();
        assert_eq!(moved, want);
        for qd in &loaded.quarantined {
            let to = qd.to.as_ref().ok_or_else(|| StoreError::NotFound(qd.to_string()))?;
            assert!(to.starts_with(t.path().join("quarantine/containers")), "{qd}");
            assert!(to.is_file() && !qd.from.exists(), "{qd}");
        }
        // The next start finds nothing left to move.
        let again = rd.load(&q)?;
        assert_eq!(again.records.len(), 2);
        assert!(again.quarantined.is_empty());
        Ok(())
    }

    #[test]
    fn rejects_bad_keys() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| StoreError::io("tmp", e))?;
        let rd: RecordDir<Rec> = RecordDir::open(t.path())?;
        for k in ["", "../x", "a/b", "..", ".hidden", "a\0b"] {
            assert!(
                matches!(rd.put(k, &Rec { n: 1 }), Err(StoreError::InvalidKey(_))),
                "{k:?}"
            );
            assert!(rd.get(k).is_err());
        }
        assert_eq!(fs::read_dir(t.path()).at("t")?.count(), 0);
        Ok(())
    }
}
