#![allow(clippy::unwrap_used)]
//! Hostile input: every prefix of every corpus and fixture file, and
//! pseudo-random mutations of them, load to a project or to an error —
//! never a panic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_compose::{load, LoadOptions};

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut out = Vec::new();
    let mut dirs = vec![root.join("corpus"), root.join("fixtures")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() > 40, "corpus not found");
    out
}

fn try_load(dir: &Path, text: &str) {
    let o = LoadOptions {
        working_dir: dir.to_path_buf(),
        files: vec!["-".into()],
        stdin: Some(text.to_string()),
        environment: BTreeMap::from([("HOME".to_string(), "/home/u".to_string())]),
        profiles: vec!["*".to_string()],
        ..Default::default()
    };
    let _ = load(&o);
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn prefixes_and_mutations_never_panic() {
    let t = tempfile::tempdir().unwrap();
    let pieces = [
        "$",
        "${",
        "}",
        ":",
        "- ",
        "\n",
        "  ",
        "&a ",
        "*a",
        "<<: ",
        "!reset ",
        "!override ",
        "[",
        "{",
        "'",
        "\"",
        "#",
        "${X:-${Y}}",
        "x-",
        "80:80",
        "~",
        "\t",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for f in inputs() {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.char_indices() {
            try_load(t.path(), &text[..i]);
        }
        for _ in 0..100 {
            let mut m = text.clone();
            for _ in 0..(1 + rng.next() % 3) {
                let boundaries: Vec<usize> =
                    m.char_indices().map(|(i, _)| i).chain([m.len()]).collect();
                let at = boundaries[(rng.next() as usize) % boundaries.len()];
                let piece = pieces[(rng.next() as usize) % pieces.len()];
                if rng.next().is_multiple_of(2) {
                    m.insert_str(at, piece);
                } else {
                    let end = boundaries.iter().copied().find(|b| *b > at).unwrap_or(at);
                    m.replace_range(at..end, piece);
                }
            }
            try_load(t.path(), &m);
        }
    }
}
