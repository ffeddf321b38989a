//! Runs the container's program the way runc does: the executable is looked
//! up (PATH from the container's environment, as Go's exec.LookPath) before
//! `create` returns, so a missing or non-executable program fails `create`
//! with runc's words, which the CLI turns into exit codes 127 and 126.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use libcontainer::oci_spec::runtime::Spec;
use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};

#[derive(Clone, Default)]
pub struct RuncExecutor;

/// Why an executable could not be used, in runc's (Go's) words.
#[derive(Debug, PartialEq, Eq)]
pub enum LookupError {
    /// `exec: "x": executable file not found in $PATH`
    NotInPath,
    /// `exec: "/x": stat /x: no such file or directory` (or another stat error)
    Stat(String),
    /// `exec: "/etc": is a directory`
    IsDir,
    /// `exec: "/etc/passwd": permission denied`
    NotExecutable,
}

impl LookupError {
    pub fn message(&self, name: &str) -> String {
        let why = match self {
            LookupError::NotInPath => "executable file not found in $PATH".to_string(),
            LookupError::Stat(e) => format!("stat {name}: {e}"),
            LookupError::IsDir => "is a directory".to_string(),
            LookupError::NotExecutable => "permission denied".to_string(),
        };
        format!("exec: {name:?}: {why}")
    }
}

/// Go's `findExecutable`: a regular file (or anything not a directory) with
/// some execute bit set.
fn check_executable(path: &Path) -> Result<(), LookupError> {
    let meta = std::fs::metadata(path).map_err(|e| LookupError::Stat(go_errno_text(&e)))?;
    if meta.is_dir() {
        return Err(LookupError::IsDir);
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(LookupError::NotExecutable);
    }
    Ok(())
}

/// Go prints errno texts in lower case ("no such file or directory"); the
/// CLI looks for those exact words.
fn go_errno_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENOENT) => "no such file or directory".into(),
        Some(libc::EACCES) => "permission denied".into(),
        Some(libc::ENOTDIR) => "not a directory".into(),
        Some(libc::ELOOP) => "too many levels of symbolic links".into(),
        Some(libc::ENAMETOOLONG) => "file name too long".into(),
        Some(libc::ENOEXEC) => "exec format error".into(),
        _ => {
            // std's text is "Text (os error N)"; Go's is "text".
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or_default();
            text.to_lowercase()
        }
    }
}

/// Go's `exec.LookPath(name)` with `path_var` as $PATH.
pub fn look_path(name: &str, path_var: Option<&str>) -> Result<PathBuf, LookupError> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        check_executable(&p)?;
        return Ok(p);
    }
    if name.is_empty() {
        return Err(LookupError::NotInPath);
    }
    // Go's filepath.SplitList: an empty or unset PATH has no elements.
    let dirs: Vec<&str> = match path_var {
        Some(v) if !v.is_empty() => v.split(':').collect(),
        _ => Vec::new(),
    };
    for dir in dirs {
        // An empty PATH element means the current directory.
        let dir = if dir.is_empty() { "." } else { dir };
        let p = Path::new(dir).join(name);
        if check_executable(&p).is_ok() {
            return Ok(p);
        }
    }
    Err(LookupError::NotInPath)
}

fn args_of(spec: &Spec) -> Option<&Vec<String>> {
    spec.process()
        .as_ref()
        .and_then(|p| p.args().as_ref())
        .filter(|a| !a.is_empty())
}

/// The PATH the container's process will see.
fn spec_path(spec: &Spec) -> Option<String> {
    let env = spec.process().as_ref()?.env().as_ref()?;
    env.iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH=").map(str::to_string))
}

impl Executor for RuncExecutor {
    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        let args = args_of(spec).ok_or_else(|| {
            ExecutorValidationError::ArgValidationError("args must not be empty".into())
        })?;
        look_path(&args[0], spec_path(spec).as_deref())
            .map(|_| ())
            .map_err(|e| ExecutorValidationError::ArgValidationError(e.message(&args[0])))
    }

    /// Runs after `start`; the environment is already the container's. On
    /// failure there is nobody left to tell but the container's stderr; like
    /// runc's init, the message is `exec <path>: <error>` and the status 1.
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        let args = args_of(spec).ok_or(ExecutorError::InvalidArg)?;
        let path = match look_path(&args[0], std::env::var("PATH").ok().as_deref()) {
            Ok(p) => p,
            Err(e) => die(&e.message(&args[0])),
        };
        let cpath =
            CString::new(path.as_os_str().as_bytes()).map_err(|_| ExecutorError::InvalidArg)?;
        let cargs = args
            .iter()
            .map(|a| CString::new(a.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ExecutorError::InvalidArg)?;
        let mut argv: Vec<*const libc::c_char> = cargs.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        // SAFETY: cpath and every argv entry are NUL-terminated strings that
        // outlive the call; argv ends with a null pointer. execv only returns on failure.
        unsafe { libc::execv(cpath.as_ptr(), argv.as_ptr()) };
        let err = std::io::Error::last_os_error();
        die(&format!("exec {}: {}", path.display(), go_errno_text(&err)))
    }
}

fn die(msg: &str) -> ! {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
    // SAFETY: _exit ends this (container init) process without running
    // atexit handlers that belong to the runtime's own process image.
    unsafe { libc::_exit(1) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        let bin = d.path().join("bin");
        std::fs::create_dir(&bin).expect("mkdir");
        for (name, mode) in [("tool", 0o755), ("data", 0o644), ("owneronly", 0o100)] {
            let p = bin.join(name);
            std::fs::write(&p, "#!/bin/sh\n").expect("write");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        std::fs::create_dir(bin.join("dir")).expect("mkdir");
        d
    }

    #[test]
    fn finds_in_path_and_skips_non_executables() {
        let d = tree();
        let empty = d.path().join("nothing");
        let path = format!("{}:{}", empty.display(), d.path().join("bin").display());
        assert_eq!(
            look_path("tool", Some(&path)),
            Ok(d.path().join("bin/tool"))
        );
        assert_eq!(
            look_path("owneronly", Some(&path)),
            Ok(d.path().join("bin/owneronly"))
        );
        assert_eq!(look_path("data", Some(&path)), Err(LookupError::NotInPath));
        assert_eq!(look_path("dir", Some(&path)), Err(LookupError::NotInPath));
        assert_eq!(look_path("nope", Some(&path)), Err(LookupError::NotInPath));
        assert_eq!(look_path("tool", None), Err(LookupError::NotInPath));
        assert_eq!(look_path("tool", Some("")), Err(LookupError::NotInPath));
        assert_eq!(look_path("", Some(&path)), Err(LookupError::NotInPath));
    }

    #[test]
    fn paths_with_a_slash_are_checked_directly() {
        let d = tree();
        let bin = d.path().join("bin");
        let s = |n: &str| bin.join(n).display().to_string();
        assert_eq!(look_path(&s("tool"), None), Ok(bin.join("tool")));
        assert_eq!(look_path(&s("data"), None), Err(LookupError::NotExecutable));
        assert_eq!(look_path(&s("dir"), None), Err(LookupError::IsDir));
        assert_eq!(
            look_path(&s("missing"), None),
            Err(LookupError::Stat("no such file or directory".into()))
        );
        assert_eq!(
            look_path(&format!("{}/x", s("tool")), None),
            Err(LookupError::Stat("not a directory".into()))
        );
    }

    #[test]
    fn errno_texts_are_gos() {
        let t = |n| go_errno_text(&std::io::Error::from_raw_os_error(n));
        assert_eq!(t(libc::ENOEXEC), "exec format error");
        assert_eq!(t(libc::ETXTBSY), "text file busy");
        assert_eq!(t(libc::ENOENT), "no such file or directory");
    }

    #[test]
    fn messages_match_runc() {
        assert_eq!(
            LookupError::NotInPath.message("nosuchcommand"),
            r#"exec: "nosuchcommand": executable file not found in $PATH"#
        );
        assert_eq!(
            LookupError::NotExecutable.message("/etc/passwd"),
            r#"exec: "/etc/passwd": permission denied"#
        );
        assert_eq!(
            LookupError::Stat("no such file or directory".into()).message("/x"),
            r#"exec: "/x": stat /x: no such file or directory"#
        );
    }

    #[test]
    fn validate_uses_the_spec_path() {
        let d = tree();
        let mut spec = Spec::default();
        let mut process = spec.process().clone().expect("default spec has a process");
        process.set_args(Some(vec!["tool".into()]));
        process.set_env(Some(vec![format!(
            "PATH={}",
            d.path().join("bin").display()
        )]));
        spec.set_process(Some(process.clone()));
        RuncExecutor.validate(&spec).expect("found");
        process.set_args(Some(vec!["nosuch".into()]));
        spec.set_process(Some(process.clone()));
        let e = RuncExecutor.validate(&spec).expect_err("missing");
        assert!(
            e.to_string().contains("executable file not found in $PATH"),
            "{e}"
        );
        process.set_args(Some(vec![]));
        spec.set_process(Some(process));
        assert!(RuncExecutor.validate(&spec).is_err());
    }
}
