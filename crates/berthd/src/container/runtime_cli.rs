//! Running the OCI runtime binary directly from berthd, for the verbs
//! that act on a running container without its shim: update, pause,
//! resume, ps. Blocking: call from a blocking thread.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// `<runtime> --root <root> <args...>`, with `stdin` fed in; its stdout,
/// or its stderr as the error.
pub fn run(runtime: &Path, root: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>, String> {
    // Keeps berthd's orphan reaper from taking this child's exit status.
    let _children = berth_net::exec::command_lock();
    let mut child = Command::new(runtime)
        .arg("--root")
        .arg(root)
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running {}: {e}", runtime.display()))?;
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let _ = pipe.write_all(data);
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}
