#![allow(clippy::unwrap_used)]
//! berth's loader against the Compose specification's JSON schema: for a
//! corpus of files, the loader accepts exactly what the schema accepts,
//! except files the schema accepts that use keys berth refuses as not yet
//! supported (`corpus/unsupported`) or that are not a valid project for
//! reasons a schema cannot see (`corpus/semantic`: undefined references,
//! cycles, a service without image or build).
//!
//! The schema is read from `../shared/reference/compose-spec/` beside the
//! repository (or `BERTH_COMPOSE_SCHEMA`); it is not copied into the repo.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_compose::{load, ComposeError, LoadOptions};

fn schema_path() -> PathBuf {
    if let Some(p) = std::env::var_os("BERTH_COMPOSE_SCHEMA") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/compose-spec/compose-spec.json")
}

fn validator() -> jsonschema::Validator {
    let path = schema_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the Compose JSON schema is needed for this test: {} ({e}); set BERTH_COMPOSE_SCHEMA to its path",
            path.display()
        )
    });
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .expect("schema compiles")
}

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    files
}

fn schema_accepts(v: &jsonschema::Validator, file: &Path) -> bool {
    let text = std::fs::read_to_string(file).unwrap();
    let value = berth_compose::yaml::parse(&file.display().to_string(), &text)
        .expect("corpus files are YAML");
    v.is_valid(&value)
}

fn berth_load(file: &Path) -> Result<(), ComposeError> {
    let t = tempfile::tempdir().unwrap();
    let copy = t.path().join("compose.yaml");
    std::fs::copy(file, &copy).unwrap();
    load(&LoadOptions {
        working_dir: t.path().to_path_buf(),
        files: vec![copy],
        environment: BTreeMap::from([("HOME".to_string(), "/home/u".to_string())]),
        profiles: vec!["*".to_string()],
        ..Default::default()
    })
    .map(drop)
}

#[test]
fn valid_files_are_accepted_by_both() {
    let v = validator();
    for f in corpus("valid") {
        assert!(schema_accepts(&v, &f), "schema refuses {}", f.display());
        if let Err(e) = berth_load(&f) {
            panic!("berth refuses {}: {e}", f.display());
        }
    }
}

#[test]
fn invalid_files_are_refused_by_both() {
    let v = validator();
    for f in corpus("invalid") {
        assert!(!schema_accepts(&v, &f), "schema accepts {}", f.display());
        match berth_load(&f) {
            Ok(()) => panic!("berth accepts {}", f.display()),
            Err(e @ (ComposeError::Unsupported { .. } | ComposeError::Project(_))) => {
                panic!("{}: refused for the wrong reason: {e}", f.display())
            }
            Err(_) => {}
        }
    }
}

#[test]
fn spec_keys_berth_cannot_honour_are_refused_not_ignored() {
    let v = validator();
    for f in corpus("unsupported") {
        assert!(schema_accepts(&v, &f), "schema refuses {}", f.display());
        match berth_load(&f) {
            Err(ComposeError::Unsupported { .. }) => {}
            other => panic!(
                "{}: expected a not-supported error, got {other:?}",
                f.display()
            ),
        }
    }
}

#[test]
fn schema_valid_but_not_a_project() {
    let v = validator();
    for f in corpus("semantic") {
        assert!(schema_accepts(&v, &f), "schema refuses {}", f.display());
        match berth_load(&f) {
            Err(ComposeError::Project(m)) => assert!(!m.is_empty()),
            other => panic!("{}: expected a project error, got {other:?}", f.display()),
        }
    }
}

#[test]
fn course_fixtures_match_the_schema() {
    let v = validator();
    for name in [
        "node-redis/docker-compose.yml",
        "voting/compose.yaml",
        "five/docker-compose.yml",
    ] {
        let f = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        assert!(schema_accepts(&v, &f), "schema refuses {name}");
    }
}
