//! Exec instances: create (`POST /containers/{id}/exec`), start (hijacked
//! or detached), inspect, resize. The process runs through the container's
//! shim (`exec` command); its connection carries the output and ends with
//! the exit code, which is recorded before the client's stream closes (the
//! docker CLI inspects the exec as soon as its stream ends).

use super::manager::{Container, ContainerManager};
use super::record::Status;
use super::rootfs::RootfsPaths;
use super::shim_client;
use berth_api::detachkeys::{Scan, Scanner};
use berth_api::exec::{ExecConfig, ExecInspect, ExecStartConfig, ProcessConfig};
use berth_api::stdcopy::{encode_frame, FrameDecoder, Stream};
use berth_api::ApiError;
use berth_runtime::StartFailure;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

/// One exec instance.
pub struct Exec {
    pub id: String,
    pub container_id: String,
    pub config: ExecConfig,
    detach_keys: Vec<u8>,
    state: Mutex<ExecState>,
}

#[derive(Default)]
struct ExecState {
    started: bool,
    running: bool,
    pid: i64,
    exit_code: Option<i64>,
    /// A resize that came before the process ran.
    pending_size: Option<(u16, u16)>,
    /// The start request's `Tty`: the client gets the output raw instead
    /// of multiplexed. dockerd decides this by the start request alone,
    /// while the process has a terminal by the create request's `Tty`.
    raw_output: bool,
}

impl Exec {
    fn state(&self) -> std::sync::MutexGuard<'_, ExecState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn finish(&self, code: i64) {
        let mut s = self.state();
        s.running = false;
        s.pid = 0;
        s.exit_code.get_or_insert(code);
    }
}

/// Every exec instance of the daemon, kept for `inspect` until its
/// container is removed (as Docker keeps them).
#[derive(Default)]
pub struct ExecStore {
    by_id: Mutex<HashMap<String, Arc<Exec>>>,
}

impl ExecStore {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Exec>>> {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, id: &str) -> Result<Arc<Exec>, ApiError> {
        self.map()
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("No such exec instance: {id}")))
    }

    /// `ExecIDs` of a container: its execs that have not exited.
    pub fn container_execs(&self, container_id: &str) -> Option<Vec<String>> {
        let ids: Vec<String> = self
            .map()
            .values()
            .filter(|e| e.container_id == container_id && e.state().exit_code.is_none())
            .map(|e| e.id.clone())
            .collect();
        (!ids.is_empty()).then_some(ids)
    }

    /// Forgets one exec (health probes are not kept).
    pub fn forget(&self, id: &str) {
        self.map().remove(id);
    }

    pub fn forget_container(&self, container_id: &str) {
        self.map().retain(|_, e| e.container_id != container_id);
    }
}

/// The Docker error for running something in a container that is not running.
fn check_running(c: &Container) -> Result<(), ApiError> {
    let r = c.snapshot();
    match r.state.status {
        Status::Running => Ok(()),
        Status::Paused => Err(ApiError::conflict(format!(
            "container {} is paused, unpause the container before exec",
            r.id
        ))),
        Status::Restarting => Err(ApiError::conflict(format!(
            "container {} is restarting, wait until the container is running",
            r.id
        ))),
        _ => Err(ApiError::conflict(format!("container {} is not running", r.id))),
    }
}

/// A started exec: the shim connection, before the process is known to
/// run; or why it could not start, which dockerd reports after the
/// hijack (written into the stream; the exec's exit code is 126).
pub struct ExecConn {
    exec: Arc<Exec>,
    conn: Result<UnixStream, ApiError>,
}

impl ContainerManager {
    pub fn exec_create(&self, c: &Arc<Container>, config: ExecConfig) -> Result<String, ApiError> {
        check_running(c)?;
        if config.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            return Err(ApiError::invalid("No exec command specified"));
        }
        let detach_keys = super::attach::parse_detach_keys(Some(&config.detach_keys))?;
        let id = super::naming::new_id();
        let exec = Arc::new(Exec {
            id: id.clone(),
            container_id: c.id.clone(),
            detach_keys,
            state: Mutex::new(ExecState::default()),
            config,
        });
        let cmd = exec.config.cmd.clone().unwrap_or_default().join(" ");
        self.execs.map().insert(id.clone(), exec);
        self.emit(c, &format!("exec_create: {cmd}"), &[("execID", id.clone())]);
        Ok(id)
    }

    /// `exec_die` with the exit code, as Docker reports an exec's end.
    fn emit_exec_die(&self, e: &Exec) {
        if let Ok(c) = self.get(&e.container_id) {
            let code = e.state().exit_code.unwrap_or(-1);
            self.emit(&c, "exec_die", &[("execID", e.id.clone()), ("exitCode", code.to_string())]);
        }
    }

    /// The exec's exit code, once it has one.
    pub fn exec_exit_code(&self, id: &str) -> Option<i64> {
        self.execs.get(id).ok().and_then(|e| e.state().exit_code)
    }

    /// The exec's host pid while it runs.
    pub fn exec_pid(&self, id: &str) -> Option<i64> {
        self.execs.get(id).ok().map(|e| e.state().pid).filter(|p| *p > 0)
    }

    pub fn exec_get(&self, id: &str) -> Result<Arc<Exec>, ApiError> {
        self.execs.get(id)
    }

    pub fn exec_inspect(&self, id: &str) -> Result<ExecInspect, ApiError> {
        let e = self.execs.get(id)?;
        let s = e.state();
        let cmd = e.config.cmd.clone().unwrap_or_default();
        Ok(ExecInspect {
            id: e.id.clone(),
            running: s.running,
            exit_code: s.exit_code,
            process_config: ProcessConfig {
                privileged: e.config.privileged,
                user: e.config.user.clone(),
                tty: e.config.tty,
                entrypoint: cmd.first().cloned().unwrap_or_default(),
                arguments: cmd.iter().skip(1).cloned().collect(),
            },
            open_stdin: e.config.attach_stdin,
            open_stderr: e.config.attach_stderr,
            open_stdout: e.config.attach_stdout,
            can_remove: false,
            container_id: e.container_id.clone(),
            detach_keys: e.config.detach_keys.clone(),
            pid: s.pid,
        })
    }

    pub async fn exec_resize(&self, id: &str, rows: u16, cols: u16) -> Result<(), ApiError> {
        let e = self.execs.get(id)?;
        {
            let mut s = e.state();
            if !s.running {
                if s.exit_code.is_some() {
                    return Err(ApiError::conflict(format!("Exec {} is not running", e.id)));
                }
                s.pending_size = Some((rows, cols));
                return Ok(());
            }
        }
        self.exec_resize_now(&e, rows, cols).await
    }

    async fn exec_resize_now(&self, e: &Exec, rows: u16, cols: u16) -> Result<(), ApiError> {
        let dir = self.cfg.shim_dir(&e.container_id);
        let reply = shim_client::request(&dir, &format!("resize {rows} {cols} {}", e.id))
            .await
            .map_err(|err| ApiError::internal(format!("resizing exec: {err}")))?;
        shim_client::reply_result(&reply).map_err(|m| ApiError::internal(format!("resizing exec: {m}")))
    }

    /// Checks and starts an exec: writes its process file and opens the
    /// shim connection. Errors returned here are HTTP errors (before any
    /// hijack); a failure to set the process up (an unknown user, say)
    /// comes back inside the `ExecConn`, as dockerd reports it after the
    /// hijack.
    pub async fn exec_start(&self, e: &Arc<Exec>, start: &ExecStartConfig) -> Result<ExecConn, ApiError> {
        let c = self.get(&e.container_id)?;
        {
            let mut s = e.state();
            if s.running {
                return Err(ApiError::conflict(format!("Error: Exec command {} is already running", e.id)));
            }
            if s.started {
                return Err(ApiError::conflict(format!("Error: Exec command {} has already run", e.id)));
            }
            check_running(&c)?;
            s.started = true;
            s.raw_output = start.tty;
        }
        let conn = self.exec_connect(&c, e, start).await;
        if conn.is_err() {
            // dockerd's code for an exec that failed to start.
            e.finish(126);
        }
        Ok(ExecConn { exec: e.clone(), conn })
    }

    async fn exec_connect(&self, c: &Arc<Container>, e: &Arc<Exec>, start: &ExecStartConfig) -> Result<UnixStream, ApiError> {
        let rec = c.snapshot();
        let tty = e.config.tty;
        let rootfs = RootfsPaths::new(&self.cfg.container_dir(&rec.id)).rootfs;
        let user_spec = if e.config.user.is_empty() { rec.config.user.clone() } else { e.config.user.clone() };
        let iso = &rec.host_config.isolation;
        // dockerd resolves the user itself, so its error comes unwrapped.
        let user = super::isolation::process_user(&rootfs, &user_spec, iso).map_err(|err| ApiError::internal(err.to_string()))?;
        let (caps, security) = super::isolation::process_security(&rec.host_config)
            .map_err(|err| ApiError::internal(format!("OCI runtime exec failed: {err}: unknown")))?;
        let size = start.console_size.or(e.config.console_size).filter(|[h, w]| *h > 0 && *w > 0);
        let process = berth_runtime::build_exec_process(&berth_runtime::ExecInput {
            args: e.config.cmd.clone().unwrap_or_default(),
            env: exec_env(&rec.config.env, &rec.config.hostname, tty, e.config.env.as_deref().unwrap_or(&[])),
            cwd: [&e.config.working_dir, &rec.config.working_dir]
                .into_iter()
                .find(|d| !d.is_empty())
                .cloned()
                .unwrap_or_else(|| "/".into()),
            user,
            tty,
            console_size: size.map(|[h, w]| (h, w)),
            privileged: e.config.privileged || rec.host_config.privileged,
            capabilities: Some(caps),
            no_new_privileges: security.no_new_privileges,
            rlimits: super::limits::to_runtime(&rec.host_config.resources).rlimits(),
        });
        let dir = self.cfg.shim_dir(&rec.id);
        let file = dir.join(format!("exec-{}.json", e.id));
        let written = serde_json::to_vec(&process)
            .map_err(std::io::Error::other)
            .and_then(|b| std::fs::write(&file, b));
        written.map_err(|err| ApiError::internal(format!("writing exec process: {err}")))?;
        match shim_client::exec(&dir, &e.id, tty, e.config.attach_stdin && !start.detach).await {
            Ok(conn) => {
                let cmd = e.config.cmd.clone().unwrap_or_default().join(" ");
                self.emit(c, &format!("exec_start: {cmd}"), &[("execID", e.id.clone())]);
                Ok(conn)
            }
            Err(_) => {
                let _ = std::fs::remove_file(&file);
                Err(ApiError::conflict(format!("container {} is not running", rec.id)))
            }
        }
    }

    /// `Detach: true`: waits until the process runs, then follows it in
    /// the background to record its exit.
    pub async fn exec_detached(self: &Arc<Self>, conn: ExecConn) -> Result<(), ApiError> {
        let ExecConn { exec, conn } = conn;
        // dockerd answers a detached start that fails with the error itself.
        let conn = conn?;
        let (mut rd, wr) = conn.into_split();
        match self.exec_running(&exec, &mut rd).await {
            Ok(()) => {
                let mgr = self.clone();
                tokio::spawn(async move {
                    let (code, _) = pump_output(rd, None::<(tokio::io::Sink, bool, bool, bool)>, None).await;
                    exec.finish(code.unwrap_or(255));
                    mgr.emit_exec_die(&exec);
                    drop(wr);
                });
                Ok(())
            }
            Err(msg) => Err(start_error(&msg)),
        }
    }

    /// The hijacked session of an exec: its output to `io`, `io`'s input to
    /// its stdin, until it exits (or the client detaches).
    pub async fn exec_attached<IO>(self: Arc<Self>, conn: ExecConn, io: IO)
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        let ExecConn { exec, conn } = conn;
        let raw = exec.state().raw_output;
        let cfg = &exec.config;
        let tty = cfg.tty;
        let (mut client_rd, mut client_wr) = tokio::io::split(io);
        let started = match conn {
            Ok(conn) => {
                let (mut rd, wr) = conn.into_split();
                self.exec_running(&exec, &mut rd)
                    .await
                    .map(|()| (rd, wr))
                    .map_err(|msg| format!("OCI runtime exec failed: {msg}: unknown"))
            }
            Err(err) => Err(err.message),
        };
        let (rd, mut wr) = match started {
            Ok(halves) => halves,
            Err(msg) => {
                // Docker writes the error into the stream (as stdout); the
                // CLI then finds the exit code (126) by inspecting.
                let text = format!("{msg}\r\n");
                let out = if raw {
                    text.into_bytes()
                } else {
                    let mut v = Vec::new();
                    encode_frame(Stream::Stdout, text.as_bytes(), &mut v);
                    v
                };
                let _ = client_wr.write_all(&out).await;
                let _ = client_wr.shutdown().await;
                return;
            }
        };
        let (detach_tx, detach_rx) = tokio::sync::oneshot::channel::<()>();
        let input = if cfg.attach_stdin {
            let mut scanner = Scanner::new(if tty { exec.detach_keys.clone() } else { Vec::new() });
            Some(tokio::spawn(async move {
                copy_input(&mut client_rd, &mut wr, &mut scanner, tty, detach_tx).await;
                // Keep the shim connection's write half until the end.
                std::future::pending::<()>().await;
            }))
        } else {
            drop(detach_tx);
            None
        };
        let (code, client) =
            pump_output(rd, Some((client_wr, raw, cfg.attach_stdout, cfg.attach_stderr)), Some(detach_rx)).await;
        exec.finish(code.unwrap_or(255));
        self.emit_exec_die(&exec);
        if let Some(mut w) = client {
            let _ = w.shutdown().await;
        }
        if let Some(h) = input {
            h.abort();
        }
    }

    /// Reads the shim's reply; on success the exec is running (and gets a
    /// size asked for meanwhile); on failure it is over with Docker's code.
    async fn exec_running(&self, e: &Exec, rd: &mut OwnedReadHalf) -> Result<(), String> {
        let reply = shim_client::exec_reply(rd).await.map_err(|err| err.to_string()).and_then(|r| r);
        match reply {
            Ok(pid) => {
                let pending = {
                    let mut s = e.state();
                    s.running = true;
                    s.pid = pid;
                    s.pending_size.take()
                };
                if let Some((rows, cols)) = pending {
                    let _ = self.exec_resize_now(e, rows, cols).await;
                }
                Ok(())
            }
            Err(msg) => {
                // dockerd records 126 for every exec that fails to start,
                // a missing command included (unlike a container's 127).
                e.finish(126);
                Err(msg)
            }
        }
    }
}

fn start_error(msg: &str) -> ApiError {
    let m = format!("OCI runtime exec failed: {msg}: unknown");
    match berth_runtime::classify_start_error(msg) {
        StartFailure::Other => ApiError::internal(m),
        _ => ApiError::invalid(m),
    }
}

/// The exec's environment as Docker builds it: PATH, HOSTNAME and (with a
/// TTY) TERM, then the container's, then the exec's, later ones replacing
/// earlier ones of the same name.
pub fn exec_env(container: &[String], hostname: &str, tty: bool, exec: &[String]) -> Vec<String> {
    let mut out: Vec<String> = vec![
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        format!("HOSTNAME={hostname}"),
    ];
    if tty {
        out.push("TERM=xterm".into());
    }
    for kv in container.iter().chain(exec) {
        let key = kv.split('=').next().unwrap_or(kv);
        match out.iter_mut().find(|e| e.split('=').next() == Some(key)) {
            Some(slot) => *slot = kv.clone(),
            None => out.push(kv.clone()),
        }
    }
    out
}

/// Client input to the exec's stdin; EOF half-closes (the shim closes a
/// pipe stdin then), the detach keys end the session.
async fn copy_input<R: AsyncRead + Unpin>(
    rd: &mut R,
    wr: &mut OwnedWriteHalf,
    scanner: &mut Scanner,
    tty: bool,
    detach: tokio::sync::oneshot::Sender<()>,
) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = rd.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            let _ = wr.shutdown().await;
            if tty {
                let _ = detach.send(());
            }
            return;
        }
        let (data, stop) = match scanner.feed(&buf[..n]) {
            Scan::Data(d) => (d, false),
            Scan::Detach(d) => (d, true),
        };
        if wr.write_all(&data).await.is_err() {
            return;
        }
        if stop {
            let _ = detach.send(());
            return;
        }
    }
}

/// Copies the shim's frames to the client (raw when the start asked for a
/// TTY, framed otherwise) until the exit frame; returns the exit code it carried, and
/// the client's writer if it is still attached.
/// A client that fails or detaches stops receiving; the exec is followed
/// to its end regardless.
async fn pump_output<W: AsyncWrite + Unpin>(
    mut rd: OwnedReadHalf,
    mut client: Option<(W, bool, bool, bool)>,
    mut detach: Option<tokio::sync::oneshot::Receiver<()>>,
) -> (Option<i64>, Option<W>) {
    let mut dec = FrameDecoder::default();
    let mut buf = vec![0u8; 32 * 1024];
    let mut code = None;
    'read: loop {
        let n = match &mut detach {
            Some(d) => tokio::select! {
                r = rd.read(&mut buf) => r.unwrap_or(0),
                r = d => {
                    detach = None;
                    if r.is_ok() {
                        if let Some((mut w, ..)) = client.take() {
                            let _ = w.shutdown().await;
                        }
                    }
                    continue;
                }
            },
            None => rd.read(&mut buf).await.unwrap_or(0),
        };
        if n == 0 {
            break;
        }
        dec.push(&buf[..n]);
        loop {
            let (stream, data) = match dec.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(_) => break 'read,
            };
            if stream == Stream::Stdin {
                code = std::str::from_utf8(&data).ok().and_then(|s| s.parse().ok());
                break 'read;
            }
            let Some((w, raw, out, err)) = &mut client else { continue };
            if (stream == Stream::Stdout && !*out) || (stream == Stream::Stderr && !*err) {
                continue;
            }
            let res = if *raw {
                w.write_all(&data).await
            } else {
                let mut v = Vec::with_capacity(data.len() + 8);
                encode_frame(stream, &data, &mut v);
                w.write_all(&v).await
            };
            if res.is_err() {
                client = None;
            }
        }
    }
    // The caller records the exit before it closes the client's stream.
    (code, client.map(|(w, ..)| w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_is_merged_like_docker() {
        let env = exec_env(
            &["PATH=/bin".into(), "A=1".into()],
            "h",
            true,
            &["A=2".into(), "B=3".into()],
        );
        assert_eq!(env, ["PATH=/bin", "HOSTNAME=h", "TERM=xterm", "A=2", "B=3"]);
        let env = exec_env(&[], "h", false, &[]);
        assert!(!env.iter().any(|e| e.starts_with("TERM=")));
    }
}
