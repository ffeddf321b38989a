//! berth-oci's error type, and how a libcontainer error becomes one line of
//! text for the log (the shim shows that line to the user).

use std::error::Error as StdError;
use std::path::PathBuf;

use libcontainer::error::LibcontainerError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command line (unknown flag, missing argument...).
    #[error("{0}")]
    Usage(String),
    #[error("invalid container id {id:?}: {why}")]
    InvalidId { id: String, why: &'static str },
    #[error("container {0} does not exist")]
    NotFound(String),
    #[error("container {id} is {status}: {what}")]
    WrongState {
        id: String,
        status: &'static str,
        what: &'static str,
    },
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A failure inside libcontainer; `what` names the operation.
    #[error("{what}: {}", describe(source))]
    Container {
        what: &'static str,
        source: LibcontainerError,
    },
}

impl Error {
    pub fn container(what: &'static str) -> impl FnOnce(LibcontainerError) -> Error {
        move |source| Error::Container { what, source }
    }

    pub fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { what, path, source }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// What the executor said when it refused the program (see executor.rs);
/// libcontainer wraps it in several layers of text that say nothing more.
const EXEC_MARKER: &str = "exec: \"";

/// The one-line message for a libcontainer failure: runc's words for a
/// program that cannot be run, else the whole chain of causes.
pub fn describe(err: &LibcontainerError) -> String {
    let text = render_chain(err);
    if let Some(i) = text.find(EXEC_MARKER) {
        return format!("unable to start container process: {}", &text[i..]);
    }
    match err {
        // Its Display names only the outer error, not that error's causes.
        LibcontainerError::CreateContainerError(_) => format!("{text} ({err:?})"),
        _ => text,
    }
}

/// Joins an error and its sources with ": ", skipping links that repeat the
/// previous text (libcontainer's `#[error(transparent)]` wrappers) and adding
/// the detail that some variants keep out of their Display.
pub fn render_chain(err: &LibcontainerError) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut push = |s: String| {
        let s = s.trim().to_string();
        if !s.is_empty() && parts.last() != Some(&s) {
            parts.push(s);
        }
    };
    match err {
        LibcontainerError::InvalidInput(detail) => push(format!("invalid input: {detail}")),
        LibcontainerError::Other(detail) => push(detail.clone()),
        e => push(e.to_string()),
    }
    let mut cur: Option<&dyn StdError> = err.source();
    while let Some(e) = cur {
        push(e.to_string());
        cur = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_keeps_io_cause_and_skips_repeats() {
        let e = LibcontainerError::OtherIO(std::io::Error::from_raw_os_error(libc::ENOENT));
        let s = render_chain(&e);
        assert!(s.starts_with("io error: "), "{s}");
        assert!(s.contains("No such file or directory"), "{s}");
    }

    #[test]
    fn exec_refusal_keeps_only_runc_words() {
        let e = LibcontainerError::Other(
            "failed to create container: exec process failed with error error in executing process : exec: \"nosuch\": executable file not found in $PATH".into(),
        );
        assert_eq!(
            describe(&e),
            "unable to start container process: exec: \"nosuch\": executable file not found in $PATH"
        );
    }

    #[test]
    fn invalid_input_shows_its_detail() {
        let e = LibcontainerError::InvalidInput("bad root".into());
        assert_eq!(render_chain(&e), "invalid input: bad root");
    }

    #[test]
    fn container_error_names_the_operation() {
        let e = Error::Container {
            what: "start",
            source: LibcontainerError::Exist,
        };
        assert_eq!(e.to_string(), "start: container already exists");
    }
}
