//! The one error type of the crate. Messages follow Docker Compose v2's
//! wording where users know it (`validating FILE: services.web additional
//! properties 'foo' not allowed`, `service "web" depends on undefined
//! service "db": invalid compose project`), so scripts that grep for them
//! keep working.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// No -f given and no compose file in the working directory or its parents.
    #[error("no configuration file provided: not found")]
    NoConfigFile,
    #[error("open {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A YAML syntax error; line and column are 1-based.
    #[error("yaml: {file}: line {line}, column {column}: {message}")]
    Yaml {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The file does not match the Compose model (unknown key, wrong type).
    #[error("validating {file}: {message}")]
    Invalid { file: String, message: String },
    /// A key the Compose specification has but berth cannot honour yet.
    #[error("validating {file}: {path}: berth does not support the Compose key {key:?} yet")]
    Unsupported {
        file: String,
        path: String,
        key: String,
    },
    #[error("invalid interpolation format for {path}.\nYou may need to escape any $ with another $.\n{value}")]
    InvalidInterpolation { path: String, value: String },
    #[error("error while interpolating {path}: required variable {name} is missing a value{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    RequiredVariable { path: String, name: String, message: String },
    #[error("{file}: {message}")]
    EnvFile { file: String, message: String },
    /// A reference to something the project does not define, a cycle, a bad
    /// combination of keys: the model is loaded but not a valid project.
    #[error("{0}")]
    Project(String),
    #[error("invalid project name {0:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number")]
    ProjectName(String),
    #[error("no such service: {0}")]
    NoSuchService(String),
}

pub type Result<T> = std::result::Result<T, ComposeError>;

impl ComposeError {
    pub(crate) fn invalid(file: &str, message: impl Into<String>) -> Self {
        ComposeError::Invalid {
            file: file.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn project(message: impl Into<String>) -> Self {
        ComposeError::Project(message.into())
    }
}
