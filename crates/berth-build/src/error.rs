//! The builder's errors. Display strings follow dockerd's classic builder where users see them.

/// What went wrong on the host side, with a kind the daemon maps back to its own errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HostError {
    pub kind: HostErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostErrorKind {
    /// An image or file that does not exist.
    NotFound,
    /// Input the host refuses (bad platform, bad URL...).
    InvalidArgument,
    /// The host cannot do it now (registry down, ...).
    Unavailable,
    Internal,
}

impl HostError {
    pub fn new(kind: HostErrorKind, message: impl Into<String>) -> Self {
        HostError {
            kind,
            message: message.into(),
        }
    }
}

/// A failed build. Every variant tied to an instruction carries its Dockerfile line
/// (1-based); `Display` is the message dockerd's classic builder prints.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Dockerfile does not parse (unknown instruction, bad directive, bad flag,
    /// bad syntax); raised before any step runs.
    #[error("dockerfile parse error on line {line}: {message}")]
    Parse { line: usize, message: String },
    /// An instruction failed while running (bad value after expansion, missing COPY
    /// source, a refused path, a host failure...); `message` is the full text.
    #[error("{message}")]
    Step {
        line: usize,
        message: String,
        /// The instruction as written (`COPY nope /x`), empty when not tied to one.
        text: String,
    },
    /// A RUN exited non-zero: `The command '/bin/sh -c false' returned a non-zero code: 1`.
    #[error("The command '{command}' returned a non-zero code: {code}")]
    RunFailed {
        line: usize,
        command: String,
        code: i32,
    },
    /// `--target` names no stage.
    #[error("failed to reach build target {0} in Dockerfile")]
    UnknownTarget(String),
    /// Stages that depend on each other in a loop.
    #[error("dockerfile parse error on line {line}: circular dependency detected on stage: {stage}")]
    Cycle { line: usize, stage: String },
    /// The host failed outside any instruction.
    #[error(transparent)]
    Host(#[from] HostError),
}

impl BuildError {
    /// The Dockerfile line the error points at, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            BuildError::Parse { line, .. }
            | BuildError::Step { line, .. }
            | BuildError::RunFailed { line, .. }
            | BuildError::Cycle { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The instruction the error points at, as written, when known.
    pub fn instruction(&self) -> Option<&str> {
        match self {
            BuildError::Step { text, .. } if !text.is_empty() => Some(text),
            _ => None,
        }
    }

    /// A failing RUN's exit code (dockerd puts it in `errorDetail.code`).
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            BuildError::RunFailed { code, .. } => Some(*code),
            _ => None,
        }
    }
}
