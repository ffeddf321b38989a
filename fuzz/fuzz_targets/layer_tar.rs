//! The tar extractor, both ways berthd runs it: as an image layer
//! (`load`, `import`, `commit`; whiteouts become overlay whiteouts) and as
//! a plain archive (`PUT /containers/{id}/archive`). Whatever the tar
//! holds, nothing may be created outside the extraction directory, and no
//! device node may appear but the 0:0 whiteouts the extractor makes.
//! The TarGuard that bounds extension headers must also read every archive
//! exactly as the bare tar crate does, short of refusing a huge header.
#![no_main]

use berth_store::{extract_into, ExtractOptions, LayerStore, TarGuard};
use std::io::Read;
use libfuzzer_sys::fuzz_target;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, tar)) = data.split_first() else { return };
    guard_is_transparent(tar);
    let top = tempfile::tempdir().expect("temp dir");
    let inside = top.path().join("inside");
    let outside = top.path().join("outside");
    std::fs::create_dir(&inside).expect("mkdir");
    std::fs::create_dir(&outside).expect("mkdir");
    // A symlink the tar might try to write through.
    std::os::unix::fs::symlink(&outside, inside.join("escape")).expect("symlink");
    if mode % 2 == 0 {
        if let Ok(store) = LayerStore::open(&inside.join("layers")) {
            let _ = store.apply(None, tar);
        }
    } else {
        let dir = std::fs::File::open(&inside).expect("open");
        let opts = ExtractOptions { no_overwrite_dir_non_dir: mode & 2 != 0, chown: None };
        let _ = extract_into(&dir, tar, opts);
    }
    let top_entries: Vec<_> = std::fs::read_dir(top.path()).expect("read top").flatten().map(|e| e.file_name()).collect();
    assert_eq!(top_entries.len(), 2, "something was created beside the extraction dir: {top_entries:?}");
    assert_eq!(std::fs::read_dir(&outside).expect("read outside").count(), 0, "wrote through a symlink");
    check_tree(&inside);
});

fn check_tree(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let Ok(md) = std::fs::symlink_metadata(e.path()) else { continue };
        let ft = md.file_type();
        if ft.is_block_device() || (ft.is_char_device() && md.rdev() != 0) {
            panic!("device node extracted: {}", e.path().display());
        }
        if ft.is_dir() {
            check_tree(&e.path());
        }
    }
}

/// Entries (path, type, size, data) as the tar crate yields them, and how the walk ended.
fn walk(r: impl Read) -> (Vec<(Vec<u8>, u8, u64, Vec<u8>)>, Option<String>) {
    let mut out = Vec::new();
    let mut ar = tar::Archive::new(r);
    let entries = match ar.entries() {
        Ok(e) => e,
        Err(e) => return (out, Some(e.to_string())),
    };
    for e in entries {
        let mut e = match e {
            Ok(e) => e,
            Err(e) => return (out, Some(e.to_string())),
        };
        let mut data = Vec::new();
        if let Err(err) = e.by_ref().take(1 << 16).read_to_end(&mut data) {
            return (out, Some(err.to_string()));
        }
        out.push((e.path_bytes().into_owned(), e.header().entry_type().as_byte(), e.size(), data));
    }
    (out, None)
}

fn guard_is_transparent(tar: &[u8]) {
    let (plain, plain_end) = walk(tar);
    let (guarded, guarded_end) = walk(TarGuard::new(tar));
    if guarded_end.as_deref().is_some_and(|e| e.contains("tar extended header of")) {
        assert!(guarded.len() <= plain.len());
        assert_eq!(plain[..guarded.len()], guarded[..]);
        return;
    }
    assert_eq!(plain, guarded);
    assert_eq!(plain_end, guarded_end);
}
