//! `pause`/`unpause` (the freezer cgroup, through the runtime) and `top`
//! (the runtime's pid list, shown through the host's `ps`).

use super::manager::{Container, ContainerManager};
use super::record::Status;
use super::runtime_cli;
use berth_api::ApiError;
use std::sync::Arc;
use std::time::Duration;

/// How long a failed pause waits for the exit of a container whose init
/// may have just ended (the exit path records it within moments).
const EXIT_RECORD_WAIT: Duration = Duration::from_secs(5);

impl ContainerManager {
    /// Runs the container's own runtime binary with `args`.
    async fn runtime(&self, c: &Container, args: Vec<String>) -> Result<Vec<u8>, String> {
        let runtime = self.cfg.runtime_path(&c.snapshot().host_config.isolation.runtime);
        let root = self.cfg.runtime_root();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            runtime_cli::run(&runtime, &root, &args, None)
        })
        .await
        .map_err(|e| e.to_string())?
    }

    pub async fn pause(&self, c: &Arc<Container>) -> Result<(), ApiError> {
        let _op = c.op.lock().await;
        // Subscribed before the state check, so an exit recorded after it
        // is seen below.
        let mut rx = c.lifecycle.subscribe();
        let exits = rx.borrow().exits;
        match c.snapshot().state.status {
            Status::Running => {}
            Status::Paused => return Err(ApiError::conflict(format!("Container {} is already paused", c.id))),
            _ => return Err(ApiError::conflict(format!("Container {} is not running", c.id))),
        }
        if let Err(e) = self.runtime(c, vec!["pause".into(), c.id.clone()]).await {
            // The init may have just exited, its exit not yet recorded (the
            // exit path drains output first): the runtime then finds nothing
            // to pause. That is "not running", not a daemon failure.
            if super::lifecycle::wait_exit(&mut rx, exits, Some(EXIT_RECORD_WAIT)).await {
                return Err(ApiError::conflict(format!("Container {} is not running", c.id)));
            }
            return Err(ApiError::internal(format!("Cannot pause container {}: {e}", c.id)));
        }
        let rec = c.update(|r| r.state.status = Status::Paused);
        self.persist(&rec)?;
        self.emit(c, "pause", &[]);
        Ok(())
    }

    pub async fn unpause(&self, c: &Arc<Container>) -> Result<(), ApiError> {
        let _op = c.op.lock().await;
        if c.snapshot().state.status != Status::Paused {
            return Err(ApiError::conflict(format!("Container {} is not paused", c.id)));
        }
        self.thaw(c).await?;
        self.emit(c, "unpause", &[]);
        Ok(())
    }

    /// Resumes what `commit` paused, unless its exit was recorded meanwhile.
    pub(super) async fn unpause_after_commit(&self, c: &Arc<Container>) -> Result<(), ApiError> {
        let _op = c.op.lock().await;
        if c.snapshot().state.status != Status::Paused {
            return Ok(());
        }
        self.thaw(c).await?;
        self.emit(c, "unpause", &[]);
        Ok(())
    }

    /// Resumes a paused container (also before stop/kill/remove, so the
    /// signal is delivered). Caller holds the op lock.
    pub(super) async fn thaw(&self, c: &Arc<Container>) -> Result<(), ApiError> {
        if let Err(e) = self.runtime(c, vec!["resume".into(), c.id.clone()]).await {
            match self.runtime_status(c).await.as_deref() {
                // A crash between the runtime's resume and the record's
                // write leaves a record that says paused: not an error.
                Some("running") => {}
                // The init had already exited when it was frozen (a zombie
                // freezes): the exit path records the exit, not running.
                Some("stopped") | None => return Ok(()),
                Some(_) => return Err(ApiError::internal(format!("Cannot unpause container {}: {e}", c.id))),
            }
        }
        let rec = c.update(|r| r.state.status = Status::Running);
        self.persist(&rec)
    }

    /// The runtime's view (`running`, `paused`, ...), if it has one.
    pub(super) async fn runtime_status(&self, c: &Container) -> Option<String> {
        let out = self.runtime(c, vec!["state".into(), c.id.clone()]).await.ok()?;
        let v: serde_json::Value = serde_json::from_slice(&out).ok()?;
        v.get("status")?.as_str().map(str::to_string)
    }

    /// Start-up: a crash between the runtime's pause or resume and the
    /// record's write leaves them disagreeing; the runtime is right.
    pub(super) async fn sync_paused(&self, c: &Arc<Container>) {
        let recorded = c.snapshot().state.status;
        let actual = match self.runtime_status(c).await.as_deref() {
            Some("paused") => Status::Paused,
            Some("running") => Status::Running,
            _ => return,
        };
        if actual != recorded {
            let rec = c.update(|r| r.state.status = actual);
            if let Err(e) = self.persist(&rec) {
                crate::daemon::log(&format!("{e}"));
            }
            crate::daemon::log(&format!("{}: the runtime says {actual:?}, the record said {recorded:?}", c.id));
        }
    }

    /// `GET /containers/{id}/top`: the host's `ps <args>` rows whose PID is
    /// one of the container's processes.
    pub async fn top(&self, c: &Arc<Container>, ps_args: &str) -> Result<serde_json::Value, ApiError> {
        if !c.snapshot().state.status.is_running() {
            return Err(ApiError::conflict(format!("Container {} is not running", c.id)));
        }
        let out = self
            .runtime(c, vec!["ps".into(), "--format".into(), "json".into(), c.id.clone()])
            .await
            .map_err(|e| ApiError::internal(format!("listing processes: {e}")))?;
        let pids: Vec<i64> = serde_json::from_slice(&out).map_err(|e| ApiError::internal(format!("runtime ps: {e}")))?;
        let args: Vec<String> = ps_args.split_whitespace().map(str::to_string).collect();
        let ps = tokio::task::spawn_blocking(move || {
            let _children = berth_net::exec::command_lock();
            std::process::Command::new("ps").args(&args).output()
        })
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(|e| ApiError::internal(format!("running ps: {e}")))?;
        if !ps.status.success() {
            return Err(ApiError::internal(format!(
                "ps: {}",
                String::from_utf8_lossy(&ps.stderr).trim()
            )));
        }
        parse_ps(&String::from_utf8_lossy(&ps.stdout), &pids)
    }
}

/// Docker's parsing of `ps` output: titles from the header, rows split into
/// as many fields (the last takes the rest), kept if their PID is listed.
pub fn parse_ps(text: &str, pids: &[i64]) -> Result<serde_json::Value, ApiError> {
    let mut lines = text.lines();
    let titles: Vec<String> = lines.next().unwrap_or("").split_whitespace().map(str::to_string).collect();
    let pid_col = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or_else(|| ApiError::invalid("Couldn't find PID field in ps output"))?;
    let mut procs = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let mut fields: Vec<String> = Vec::new();
        let mut rest = line.trim_start();
        while fields.len() + 1 < titles.len() {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            fields.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
        fields.push(rest.to_string());
        if fields.get(pid_col).and_then(|p| p.parse::<i64>().ok()).is_some_and(|p| pids.contains(&p)) {
            procs.push(fields);
        }
    }
    Ok(serde_json::json!({"Titles": titles, "Processes": procs}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_container_rows() {
        let out = "UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 17:54 ?        00:00:08 /init\nroot        4242    4200  0 17:55 ?        00:00:00 sleep 1000 --long arg\n";
        let v = parse_ps(out, &[4242]).unwrap();
        assert_eq!(v["Titles"][1], "PID");
        assert_eq!(v["Processes"].as_array().map(Vec::len), Some(1));
        assert_eq!(v["Processes"][0][7], "sleep 1000 --long arg");
        assert!(parse_ps("USER COMMAND\nroot x\n", &[1]).is_err());
    }
}
