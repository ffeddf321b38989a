//! Talking to a container's shim over its control socket (protocol in
//! berth-shim's docs): spawn, start, kill, state, wait and attach.

use berth_api::stdcopy::{FrameDecoder, Stream};
use bytes::Bytes;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as TokioBufReader};
use tokio::net::UnixStream;

/// Everything the shim needs to start a container.
pub struct ShimSpawn<'a> {
    pub binary: &'a Path,
    pub id: &'a str,
    pub bundle: &'a Path,
    pub state_dir: &'a Path,
    pub runtime: &'a Path,
    pub runtime_root: &'a Path,
    pub log: &'a Path,
    /// Log rotation: at this many bytes, keeping this many files in all,
    /// rotated ones gzip-compressed when true.
    pub log_rotation: Option<(u64, u32, bool)>,
    pub stdin: bool,
    pub stdin_once: bool,
    pub cgroup: &'a str,
    pub tty: bool,
}

/// Spawns the shim and waits for its readiness line. Blocking: call from
/// a blocking thread. Returns the container's init pid.
pub fn spawn(s: &ShimSpawn<'_>) -> Result<i64, String> {
    std::fs::create_dir_all(s.state_dir).map_err(|e| format!("creating shim dir: {e}"))?;
    let mut cmd = Command::new(s.binary);
    cmd.arg("--id").arg(s.id)
        .arg("--bundle").arg(s.bundle)
        .arg("--state-dir").arg(s.state_dir)
        .arg("--runtime").arg(s.runtime)
        .arg("--runtime-root").arg(s.runtime_root)
        .arg("--log").arg(s.log)
        .arg("--cgroup").arg(s.cgroup);
    if let Some((size, files, compress)) = s.log_rotation {
        cmd.arg("--log-max-size").arg(size.to_string()).arg("--log-max-file").arg(files.to_string());
        if compress {
            cmd.arg("--log-compress");
        }
    }
    if s.stdin {
        cmd.arg("--stdin");
    }
    if s.stdin_once {
        cmd.arg("--stdin-once");
    }
    if s.tty {
        cmd.arg("--tty");
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| format!("starting shim {}: {e}", s.binary.display()))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    let _ = child.wait();
    let line = line.trim_end();
    if let Some(pid) = line.strip_prefix("ok ") {
        return pid.trim().parse().map_err(|_| format!("shim sent a bad pid: {line}"));
    }
    match line.strip_prefix("err ") {
        Some(msg) => Err(msg.to_string()),
        None => Err(format!("shim failed without a report ({line:?})")),
    }
}

pub fn socket_path(state_dir: &Path) -> PathBuf {
    state_dir.join("shim.sock")
}

/// Connects to the shim's socket, also when its path is longer than a unix
/// socket address allows: then through `/proc/self/fd/<dirfd>/shim.sock`
/// (the shim binds the same way).
async fn connect(state_dir: &Path) -> std::io::Result<UnixStream> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let path = socket_path(state_dir);
    if path.as_os_str().as_bytes().len() < 100 {
        return UnixStream::connect(path).await;
    }
    let dir = std::fs::File::open(state_dir)?;
    let short = Path::new("/proc/self/fd").join(dir.as_raw_fd().to_string()).join("shim.sock");
    let s = UnixStream::connect(short).await;
    drop(dir);
    s
}

/// Sends one command and reads the one-line reply.
pub async fn request(state_dir: &Path, command: &str) -> std::io::Result<String> {
    let mut s = connect(state_dir).await?;
    s.write_all(format!("{command}\n").as_bytes()).await?;
    let mut r = TokioBufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).await?;
    if line.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "shim closed the connection"));
    }
    Ok(line.trim_end().to_string())
}

/// Turns an `ok`/`err msg` reply into a result.
pub fn reply_result(reply: &str) -> Result<(), String> {
    if reply == "ok" {
        Ok(())
    } else {
        Err(reply.strip_prefix("err ").unwrap_or(reply).to_string())
    }
}

/// Blocks until the container exits; returns its exit code.
pub async fn wait(state_dir: &Path) -> std::io::Result<i64> {
    read_exit(wait_connection(state_dir).await?).await
}

/// Opens a `wait` request now (before `start`, so an instant exit is not
/// missed); `read_exit` later gets the answer.
pub async fn wait_connection(state_dir: &Path) -> std::io::Result<UnixStream> {
    let mut s = connect(state_dir).await?;
    s.write_all(b"wait\n").await?;
    Ok(s)
}

pub async fn read_exit(s: UnixStream) -> std::io::Result<i64> {
    let mut line = String::new();
    TokioBufReader::new(s).read_line(&mut line).await?;
    line.trim_end()
        .strip_prefix("exit ")
        .and_then(|c| c.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad wait reply {line:?}")))
}

/// Whether the shim saw the OOM killer strike the container.
pub fn recorded_oom(state_dir: &Path) -> bool {
    state_dir.join("oom").exists()
}

/// The exit code the shim recorded, if it did.
pub fn recorded_exit(state_dir: &Path) -> Option<i64> {
    std::fs::read_to_string(state_dir.join("exit")).ok()?.trim().parse().ok()
}

/// One attach connection: frames of output out, stdin bytes in.
pub struct ShimAttach {
    pub reader: tokio::net::unix::OwnedReadHalf,
    pub writer: tokio::net::unix::OwnedWriteHalf,
}

pub async fn attach(state_dir: &Path, stdin: bool) -> std::io::Result<ShimAttach> {
    let mut s = connect(state_dir).await?;
    let cmd: &[u8] = if stdin { b"attach stdin\n" } else { b"attach\n" };
    s.write_all(cmd).await?;
    let reply = read_reply_line(&mut s).await?;
    if reply != "ok" {
        return Err(std::io::Error::other(reply));
    }
    let (reader, writer) = s.into_split();
    Ok(ShimAttach { reader, writer })
}

/// Reads one reply line byte by byte, so no frame bytes after it are
/// swallowed by a buffer.
async fn read_reply_line(s: &mut UnixStream) -> std::io::Result<String> {
    let mut reply = Vec::new();
    let mut b = [0u8; 1];
    loop {
        let n = s.read(&mut b).await?;
        if n == 0 || b[0] == b'\n' || reply.len() > 4096 {
            break;
        }
        reply.push(b[0]);
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// Opens an exec connection: sends `exec <id> [tty] [stdin]` (the process
/// file must already be in the shim's directory). The reply (`ok <pid>` /
/// `err <msg>`) is read with [`exec_reply`], so stdin can flow meanwhile.
pub async fn exec(state_dir: &Path, id: &str, tty: bool, stdin: bool) -> std::io::Result<UnixStream> {
    let mut s = connect(state_dir).await?;
    let mut cmd = format!("exec {id}");
    if tty {
        cmd.push_str(" tty");
    }
    if stdin {
        cmd.push_str(" stdin");
    }
    cmd.push('\n');
    s.write_all(cmd.as_bytes()).await?;
    Ok(s)
}

/// The shim's answer to `exec`: the process's pid, or the runtime's error.
pub async fn exec_reply(r: &mut tokio::net::unix::OwnedReadHalf) -> std::io::Result<Result<i64, String>> {
    let mut reply = Vec::new();
    let mut b = [0u8; 1];
    loop {
        let n = r.read(&mut b).await?;
        if n == 0 || b[0] == b'\n' || reply.len() > 4096 {
            break;
        }
        reply.push(b[0]);
    }
    let line = String::from_utf8_lossy(&reply).into_owned();
    if let Some(pid) = line.strip_prefix("ok ").and_then(|p| p.parse().ok()) {
        return Ok(Ok(pid));
    }
    match line.strip_prefix("err ") {
        Some(m) => Ok(Err(m.to_string())),
        None => Err(std::io::Error::other(format!("bad exec reply {line:?}"))),
    }
}

/// Reads frames from an attach connection until it closes.
pub async fn read_frames(
    mut reader: tokio::net::unix::OwnedReadHalf,
    mut each: impl FnMut(Stream, Bytes),
) {
    let mut dec = FrameDecoder::default();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => dec.push(&buf[..n]),
        }
        loop {
            match dec.next_frame() {
                Ok(Some((stream, data))) => each(stream, Bytes::from(data)),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}
