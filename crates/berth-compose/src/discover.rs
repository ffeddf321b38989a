//! Finding the compose files when no `-f` is given: the first directory,
//! from the working directory up, that holds one of the default names; its
//! override file, if any, comes after it.

use std::path::{Path, PathBuf};

/// Compose v2's default file names, in the order it prefers them.
pub const DEFAULT_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
/// The override files merged after the default file found beside them.
pub const OVERRIDE_NAMES: [&str; 4] = [
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// The main file and its override (if present), or `None` when no
/// directory from `start` to the root has a compose file.
pub fn find_project_files(start: &Path) -> Option<Vec<PathBuf>> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if let Some(main) = DEFAULT_NAMES
            .iter()
            .map(|n| d.join(n))
            .find(|p| p.is_file())
        {
            let mut files = vec![main];
            if let Some(o) = OVERRIDE_NAMES
                .iter()
                .map(|n| d.join(n))
                .find(|p| p.is_file())
            {
                files.push(o);
            }
            return Some(files);
        }
        dir = d.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_in_parents_with_override() {
        let t = tempfile::tempdir().unwrap();
        let sub = t.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(
            find_project_files(&sub).filter(|f| f[0].starts_with(t.path())),
            None
        );
        std::fs::write(t.path().join("docker-compose.yml"), "services: {}").unwrap();
        std::fs::write(t.path().join("docker-compose.override.yml"), "").unwrap();
        let f = find_project_files(&sub).unwrap();
        assert_eq!(
            f,
            vec![
                t.path().join("docker-compose.yml"),
                t.path().join("docker-compose.override.yml")
            ]
        );
        // compose.yaml is preferred, in the nearer directory.
        std::fs::write(sub.join("compose.yml"), "").unwrap();
        std::fs::write(sub.join("compose.yaml"), "").unwrap();
        assert_eq!(
            find_project_files(&sub).unwrap(),
            vec![sub.join("compose.yaml")]
        );
    }
}
