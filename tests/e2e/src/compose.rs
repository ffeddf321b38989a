//! A compose project in a temporary directory, driven by `berth compose`
//! against a [`TestDaemon`].

use crate::{Out, TestDaemon};
use std::path::{Path, PathBuf};

pub struct ComposeProject {
    _dir: tempfile::TempDir,
    /// The project's `compose.yaml`.
    pub file: PathBuf,
    /// The project name passed with `-p`.
    pub name: String,
}

impl ComposeProject {
    /// A directory holding `compose.yaml` with `text`.
    pub fn new(name: &str, text: &str) -> ComposeProject {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("compose.yaml");
        std::fs::write(&file, text).expect("write compose.yaml");
        ComposeProject { _dir: dir, file, name: name.to_string() }
    }

    /// The project directory.
    pub fn dir(&self) -> &Path {
        self.file.parent().expect("dir")
    }

    /// Replaces the compose file, as a user editing it between commands.
    pub fn rewrite(&self, text: &str) {
        std::fs::write(&self.file, text).expect("rewrite compose.yaml");
    }

    /// `berth compose -f FILE -p NAME ARGS...`.
    pub fn compose(&self, d: &TestDaemon, args: &[&str]) -> Out {
        let f = self.file.display().to_string();
        let mut all = vec!["compose", "-f", f.as_str(), "-p", self.name.as_str()];
        all.extend_from_slice(args);
        d.berth(&all)
    }
}
