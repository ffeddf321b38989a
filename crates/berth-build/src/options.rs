//! What a build is asked to do, and what it returns.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The inputs of one build (`POST /build` query parameters + the context).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The Dockerfile's bytes.
    pub dockerfile: Vec<u8>,
    /// Its name in the context (`-f`), for messages and `Dockerfile.dockerignore`.
    pub dockerfile_path: String,
    /// The extracted context directory (the host already applied `.dockerignore`).
    pub context: PathBuf,
    /// `--build-arg K=V`; `None` = the arg is named without a value (unset).
    pub build_args: BTreeMap<String, Option<String>>,
    pub target: Option<String>,
    pub no_cache: bool,
    pub pull: bool,
    /// `--label`: added to the final image.
    pub labels: BTreeMap<String, String>,
    /// `--network` for RUN: "default" | "bridge" | "host" | "none" | a network name.
    pub network: String,
    pub platform: Option<String>,
    pub extra_hosts: Vec<String>,
    pub shm_size: Option<i64>,
    /// `--secret id=X,src=F`: id → file.
    pub secrets: BTreeMap<String, PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildResult {
    /// `sha256:<hex>`
    pub image_id: String,
}
