//! Damaged metadata is moved aside, not fatal: one unreadable record must not keep the
//! daemon from starting, and moving it (rather than deleting) keeps it for a human to read.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// `<data-root>/quarantine/<kind>/<file>.<unix-time>`.
#[derive(Debug, Clone)]
pub struct Quarantine {
    dir: PathBuf,
}

/// One file moved aside at start-up, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// What the file held: `containers`, `images`, `repositories`, `layers`, ...
    pub kind: String,
    pub from: PathBuf,
    /// Where it went; `None` when the move itself failed (the record is still skipped).
    pub to: Option<PathBuf>,
    pub reason: String,
}

impl fmt::Display for Quarantined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.to {
            Some(to) => write!(
                f,
                "quarantined damaged {} record {} to {}: {}",
                self.kind,
                self.from.display(),
                to.display(),
                self.reason
            ),
            None => write!(
                f,
                "skipping damaged {} record {} (could not move it aside): {}",
                self.kind,
                self.from.display(),
                self.reason
            ),
        }
    }
}

impl Quarantine {
    pub fn new(data_root: &Path) -> Quarantine {
        Quarantine {
            dir: data_root.join("quarantine"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Move `path` to `<dir>/<kind>/<name>.<unix-time>`. Never fails: a move that cannot
    /// be done is reported in the result, since the caller skips the record either way.
    pub fn move_aside(&self, kind: &str, path: &Path, reason: &str) -> Quarantined {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "record".to_string());
        self.move_aside_as(kind, path, &name, reason)
    }

    /// `move_aside` under a chosen name, for files whose own name says nothing
    /// (every layer's metadata is `meta.json`).
    pub fn move_aside_as(&self, kind: &str, path: &Path, name: &str, reason: &str) -> Quarantined {
        let to = self.target(kind, name).and_then(|to| {
            fs::rename(path, &to)
                .map(|()| to)
                .map_err(|e| format!("moving to quarantine: {e}"))
        });
        let (to, reason) = match to {
            Ok(to) => (Some(to), reason.to_string()),
            Err(e) => (None, format!("{reason}; {e}")),
        };
        Quarantined {
            kind: kind.to_string(),
            from: path.to_path_buf(),
            to,
            reason,
        }
    }

    /// A free name; a second damaged copy of the same file in the same second gets a suffix.
    fn target(&self, kind: &str, name: &str) -> Result<PathBuf, String> {
        let dir = self.dir.join(kind);
        fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let base = dir.join(format!("{name}.{secs}"));
        if !base.exists() {
            return Ok(base);
        }
        (1..1000)
            .map(|n| dir.join(format!("{name}.{secs}.{n}")))
            .find(|p| !p.exists())
            .ok_or_else(|| format!("no free name for {name} in {}", dir.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_the_file_under_its_kind_and_keeps_earlier_copies() -> std::io::Result<()> {
        let t = tempfile::tempdir()?;
        let q = Quarantine::new(t.path());
        let f = t.path().join("repositories.json");
        fs::write(&f, b"{")?;
        let first = q.move_aside("repositories", &f, "truncated");
        fs::write(&f, b"x")?;
        let second = q.move_aside("repositories", &f, "garbage");
        assert!(!f.exists());
        let (Some(a), Some(b)) = (&first.to, &second.to) else {
            panic!("not moved: {first} / {second}");
        };
        assert_ne!(a, b);
        assert!(a.starts_with(t.path().join("quarantine/repositories")));
        assert_eq!(fs::read(a)?, b"{");
        assert_eq!(fs::read(b)?, b"x");
        assert!(first.to_string().contains("truncated"), "{first}");
        Ok(())
    }

    #[test]
    fn a_failed_move_is_reported_not_fatal() -> std::io::Result<()> {
        let t = tempfile::tempdir()?;
        let q = Quarantine::new(t.path());
        let gone = q.move_aside("containers", &t.path().join("missing.json"), "bad");
        assert_eq!(gone.to, None);
        assert!(gone.to_string().contains("could not move"), "{gone}");
        Ok(())
    }
}
