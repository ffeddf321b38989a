//! The crate's error type and the classification of runtime start errors.

use std::path::PathBuf;

/// Errors from building bundles, resolving users and parsing signals.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Writing the bundle's `config.json` failed.
    #[error("write OCI bundle {path}: {source}")]
    WriteBundle {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A combination of resource limits Docker refuses (Docker's text).
    #[error("{0}")]
    InvalidResources(String),
    /// Serialising the spec failed (should not happen for a `Value`).
    #[error("serialise OCI spec: {0}")]
    Serialize(#[from] serde_json::Error),
    /// Reading the container's passwd or group file failed.
    #[error("read {path} in container rootfs: {source}")]
    ReadRootfsFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The container's passwd or group file is not something we read.
    #[error("{path} in container rootfs: {reason}")]
    BadRootfsFile { path: String, reason: &'static str },
    /// `user` named a user absent from the passwd file (Docker's text).
    #[error("unable to find user {0}: no matching entries in passwd file")]
    UserNotFound(String),
    /// `user:group` named a group absent from the group file (Docker's text).
    #[error("unable to find group {0}: no matching entries in group file")]
    GroupNotFound(String),
    /// A numeric uid or gid outside what Docker accepts (Docker's text).
    #[error("uids and gids must be in range 0-2147483647")]
    IdOutOfRange,
    /// A mount target could not be resolved or created inside the rootfs.
    #[error("mount target {target}: {reason}")]
    MountTarget { target: String, reason: String },
    /// A path could not be resolved inside a container's tree (`cp`).
    #[error("{path}: {source}")]
    InRoot {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// An unknown signal name or number (Docker's text).
    #[error("Invalid signal: {0}")]
    InvalidSignal(String),
    /// `--cap-add`/`--cap-drop` named no capability the kernel knows (Docker's text).
    #[error("unknown capability: \"{0}\"")]
    UnknownCapability(String),
    /// A `--security-opt` value berth cannot read or does not support.
    #[error("{0}")]
    SecurityOpt(String),
    /// A `--device` that cannot be added (Docker's text).
    #[error("error gathering device information while adding custom device \"{path}\": {reason}")]
    Device { path: String, reason: String },
    /// A `--device-cgroup-rule` or device permission string berth cannot read.
    #[error("{0}")]
    DeviceRule(String),
    /// A `--sysctl` that is not namespaced, or not in a namespace the container owns.
    #[error("{0}")]
    Sysctl(String),
}

/// How a failed container start maps to the exit code Docker reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFailure {
    /// The command does not exist: exit code 127.
    NotFound,
    /// The command exists but cannot be run: exit code 126.
    NotExecutable,
    /// Anything else: exit code 125.
    Other,
}

impl StartFailure {
    /// The exit code Docker records for this failure.
    pub fn exit_code(self) -> i32 {
        match self {
            StartFailure::NotFound => 127,
            StartFailure::NotExecutable => 126,
            StartFailure::Other => 125,
        }
    }
}

/// Classifies the error text of a failed `runc create/run/start` the way dockerd does.
///
/// dockerd checks the substrings in this order and the last match wins, so
/// "permission denied" beats "no such file or directory" when both appear.
pub fn classify_start_error(msg: &str) -> StartFailure {
    let msg = msg.to_ascii_lowercase();
    if msg.contains("permission denied") {
        return StartFailure::NotExecutable;
    }
    if msg.contains("executable file not found")
        || msg.contains("no such file or directory")
        || msg.contains("not a directory")
    {
        return StartFailure::NotFound;
    }
    StartFailure::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_runc_errors() {
        let cases = [
            (
                r#"runc run failed: unable to start container process: exec: "foo": executable file not found in $PATH"#,
                StartFailure::NotFound,
            ),
            (
                r#"unable to start container process: exec: "/nope": stat /nope: no such file or directory"#,
                StartFailure::NotFound,
            ),
            (
                r#"unable to start container process: exec: "/etc/passwd": permission denied"#,
                StartFailure::NotExecutable,
            ),
            (
                "error mounting \"/x\" to rootfs at \"/etc/hosts\": not a directory",
                StartFailure::NotFound,
            ),
            (
                "cgroup: mkdir failed: read-only file system",
                StartFailure::Other,
            ),
            ("", StartFailure::Other),
        ];
        for (msg, want) in cases {
            assert_eq!(classify_start_error(msg), want, "{msg}");
        }
        assert_eq!(StartFailure::NotFound.exit_code(), 127);
        assert_eq!(StartFailure::NotExecutable.exit_code(), 126);
        assert_eq!(StartFailure::Other.exit_code(), 125);
    }

    #[test]
    fn error_texts_match_docker() {
        assert_eq!(
            RuntimeError::UserNotFound("bob".into()).to_string(),
            "unable to find user bob: no matching entries in passwd file"
        );
        assert_eq!(
            RuntimeError::InvalidSignal("FOO".into()).to_string(),
            "Invalid signal: FOO"
        );
    }
}
