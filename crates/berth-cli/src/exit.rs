//! Exit statuses as docker reports them: an error may carry its own exit
//! code (125 for engine errors in run, the container's code for run/start
//! -a) and an optional message already worded for the user.

use berth_client::ClientError;
use std::fmt;

/// docker's `cli.StatusError`.
#[derive(Debug)]
pub struct StatusError {
    pub code: i32,
    /// Printed to stderr before exiting, if any.
    pub message: Option<String>,
}

impl StatusError {
    pub fn code(code: i32) -> StatusError {
        StatusError { code, message: None }
    }
    pub fn with_message(code: i32, message: impl Into<String>) -> StatusError {
        StatusError { code, message: Some(message.into()) }
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => f.write_str(m),
            None => write!(f, "exit status {}", self.code),
        }
    }
}

impl std::error::Error for StatusError {}

/// How docker words a client error: daemon errors get
/// "Error response from daemon: ", connection errors stand alone.
pub fn describe(e: &ClientError) -> String {
    if e.is_api() {
        format!("Error response from daemon: {e}")
    } else {
        e.to_string()
    }
}

/// The message for any error the commands return.
pub fn describe_any(e: &anyhow::Error) -> String {
    if let Some(c) = e.downcast_ref::<ClientError>() {
        return describe(c);
    }
    format!("{e:#}")
}

/// Joins per-target failures as docker's `errors.Join` prints them.
pub fn joined(errors: Vec<String>) -> anyhow::Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(StatusError::with_message(1, errors.join("\n")).into())
    }
}
