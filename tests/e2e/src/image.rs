//! Where the binaries are, and the busybox image every daemon loads.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `target/debug`, found from the test binary (`target/debug/deps/<test>`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("no grandparent of {}", exe.display()))
        .to_path_buf();
    for b in ["berthd", "berth-shim", "berth", "berth-oci"] {
        assert!(
            dir.join(b).is_file(),
            "{} missing: run `cargo build --workspace` first",
            dir.join(b).display()
        );
    }
    dir
}

/// `BERTH_E2E_RUNTIME=runc` runs the suite on another OCI runtime than
/// berthd's default (berth-oci).
pub(crate) fn runtime_args() -> Vec<String> {
    match std::env::var("BERTH_E2E_RUNTIME") {
        Ok(r) if !r.is_empty() => vec!["--default-runtime".into(), r],
        _ => Vec::new(),
    }
}

fn workspace_root() -> PathBuf {
    // tests/e2e -> workspace
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

static IMAGE_DIR: OnceLock<PathBuf> = OnceLock::new();
static BUSYBOX_TAR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_image_dir() {
    if let Some(d) = IMAGE_DIR.get() {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// A scratch directory shared by all tests of this process, removed at exit.
pub fn process_tmp() -> &'static Path {
    IMAGE_DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("berth-e2e-{}-shared", std::process::id()));
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
        // SAFETY: registering a plain extern "C" fn with no captured state.
        unsafe { libc::atexit(remove_image_dir) };
        d
    })
}

/// The busybox image as a docker-save tarball, built once per process.
pub fn busybox_tar() -> &'static Path {
    BUSYBOX_TAR.get_or_init(|| {
        let out = process_tmp().join("busybox.tar");
        let script = workspace_root().join("scripts/make-busybox-image.sh");
        let o = Command::new("bash")
            .arg(&script)
            .arg(&out)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
        assert!(
            o.status.success(),
            "make-busybox-image failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        out
    })
}
