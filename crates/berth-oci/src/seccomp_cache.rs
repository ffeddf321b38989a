//! Compiled seccomp filters, cached under the state root.
//!
//! libseccomp compiles Docker's profile in ~10 ms, inside every container's
//! init, on every create and exec. The profile is the same for nearly every
//! container, so the compiled BPF program is kept in `<root>/seccomp/`, named
//! by the SHA-256 of the profile, and handed to libcontainer before it forks
//! (`set_precompiled`, berth's patch in vendor/libcontainer); the init is a
//! clone of this process and loads the program directly. A file starts with
//! the SHA-256 of the program that follows and is ignored unless it matches,
//! so a torn or altered entry is recompiled, never loaded. Any failure here
//! only costs the compile: the init then runs libseccomp as before.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use libcontainer::oci_spec::runtime::LinuxSeccomp;
use sha2::{Digest, Sha256};

/// Bumped when the key's inputs or the file format change.
const FORMAT: &[u8] = b"berth-oci seccomp cache v1\0";

/// Makes the compiled program for `seccomp` available to this process's
/// container init, from the cache or by compiling (and caching) it.
pub fn prepare(root: &Path, seccomp: &LinuxSeccomp) {
    if libcontainer::seccomp::is_notify(seccomp) {
        return;
    }
    let Ok(json) = serde_json::to_vec(seccomp) else {
        return;
    };
    let dir = root.join("seccomp");
    let file = dir.join(format!("{}.bpf", hex(&Sha256::new().chain_update(FORMAT).chain_update(&json).finalize())));
    let program = match read_entry(&file) {
        Some(p) => p,
        None => match compile(&dir, &file, seccomp) {
            Some(p) => p,
            None => return,
        },
    };
    libcontainer::seccomp::set_precompiled(seccomp.clone(), program);
}

/// The seccomp profile of a spec given as JSON, if it has one.
pub fn profile_of(spec: &serde_json::Value) -> Option<LinuxSeccomp> {
    let seccomp = spec.pointer("/linux/seccomp")?;
    serde_json::from_value(seccomp.clone()).ok()
}

/// An entry's program if its checksum holds.
fn read_entry(file: &Path) -> Option<Vec<u8>> {
    let bytes = std::fs::read(file).ok()?;
    let (sum, program) = bytes.split_at_checked(32)?;
    (!program.is_empty() && Sha256::digest(program).as_slice() == sum).then(|| program.to_vec())
}

/// Compiles through libseccomp into a private temporary file, then
/// publishes the entry with a rename (concurrent creates each write their
/// own and the last rename wins; all are equal).
fn compile(dir: &Path, file: &Path, seccomp: &LinuxSeccomp) -> Option<Vec<u8>> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).ok()?;
    let tmp = TempFile(dir.join(format!(".{}.tmp", std::process::id())));
    let mut out = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp.0)
        .ok()?;
    libcontainer::seccomp::export_bpf(seccomp, &out).ok()?;
    let mut program = Vec::new();
    out.seek(SeekFrom::Start(0)).ok()?;
    out.read_to_end(&mut program).ok()?;
    if program.is_empty() {
        return None;
    }
    out.set_len(0).ok()?;
    out.seek(SeekFrom::Start(0)).ok()?;
    out.write_all(&Sha256::digest(&program)).ok()?;
    out.write_all(&program).ok()?;
    std::fs::rename(&tmp.0, file).ok()?;
    Some(program)
}

/// Removed on drop unless renamed away.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> LinuxSeccomp {
        serde_json::from_value(serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]
        }))
        .expect("profile")
    }

    fn only_entry(dir: &Path) -> PathBuf {
        let entries: Vec<_> = std::fs::read_dir(dir.join("seccomp"))
            .expect("cache dir")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries[0].clone()
    }

    #[test]
    fn compiles_once_and_reads_back_the_same_program() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("seccomp");
        let p = profile();
        let key = dir.join("k.bpf");
        let compiled = compile(&dir, &key, &p).expect("compile");
        // A program is whole sock_filter records (8 bytes each).
        assert!(!compiled.is_empty() && compiled.len().is_multiple_of(8));
        assert_eq!(read_entry(&key).expect("entry"), compiled);
        // No temporary file is left beside the entry.
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 1);
        let fresh = tempfile::tempdir().expect("tempdir");
        prepare(fresh.path(), &p);
        let entry = only_entry(fresh.path());
        assert_eq!(read_entry(&entry).expect("prepared entry"), compiled);
    }

    #[test]
    fn a_damaged_entry_is_not_used() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("seccomp");
        let key = dir.join("k.bpf");
        let compiled = compile(&dir, &key, &profile()).expect("compile");
        let mut bytes = std::fs::read(&key).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&key, &bytes).expect("write");
        assert!(read_entry(&key).is_none());
        std::fs::write(&key, &bytes[..20]).expect("truncate");
        assert!(read_entry(&key).is_none());
        std::fs::write(&key, Sha256::digest(b"")).expect("empty program");
        assert!(read_entry(&key).is_none());
        assert!(!compiled.is_empty());
    }

    #[test]
    fn profiles_from_spec_json() {
        let spec = serde_json::json!({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW"}}});
        assert!(profile_of(&spec).is_some());
        assert!(profile_of(&serde_json::json!({"linux": {}})).is_none());
    }
}
