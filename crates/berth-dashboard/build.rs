//! Builds the dashboard's front-end (dashboard/ at the workspace root) with
//! npm and esbuild into OUT_DIR, where src/assets.rs embeds it. A clean
//! checkout thus builds with plain `cargo build`, given Debian's nodejs and
//! npm (scripts/install-deps.sh): `npm ci` installs the pinned packages from
//! the npm registry into dashboard/node_modules when the lockfile changed.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let front = manifest.join("../../dashboard");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for p in ["src", "build.mjs", "package.json", "package-lock.json", "index.html"] {
        println!("cargo:rerun-if-changed={}", front.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=BERTH_NPM");
    let npm = std::env::var("BERTH_NPM").unwrap_or_else(|_| "npm".to_string());
    if needs_install(&front) {
        run(Command::new(&npm).args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&front), "npm ci");
    }
    run(Command::new("node").arg("build.mjs").arg(&out).current_dir(&front), "node build.mjs");
}

/// `npm ci` again only when package-lock.json is newer than the install.
fn needs_install(front: &Path) -> bool {
    let stamp = front.join("node_modules/.package-lock.json");
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (mtime(&stamp), mtime(&front.join("package-lock.json"))) {
        (Some(installed), Some(lock)) => lock > installed,
        _ => true,
    }
}

fn run(cmd: &mut Command, what: &str) {
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("{what} failed ({s}) building the dashboard front-end in dashboard/"),
        Err(e) => panic!("cannot run {what} for the dashboard front-end ({e}); install nodejs and npm (scripts/install-deps.sh)"),
    }
}
