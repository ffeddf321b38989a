//! Health checks: the image's HEALTHCHECK merged with `--health-*`, a probe
//! loop per running container that execs the test, and the state Docker
//! shows (`State.Health`, `(healthy)` in `ps`, `health_status` events).

use super::manager::{Container, ContainerManager};
use berth_api::stdcopy::FrameDecoder;
use berth_api::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_RETRIES: i64 = 3;
/// Docker keeps the last five probe results and 4 KiB of each one's output.
const KEEP_LOG: usize = 5;
const MAX_OUTPUT: usize = 4096;

/// `State.Health`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct HealthState {
    pub status: String,
    pub failing_streak: i64,
    pub log: Vec<ProbeResult>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ProbeResult {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    pub output: String,
}

/// A resolved health check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub argv: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub start_interval: Duration,
    pub retries: i64,
}

/// Docker's merge: fields the container left unset come from the image.
pub fn merge(container: Option<&Value>, image: Option<&Value>) -> Option<Value> {
    let (c, i) = (container.cloned().unwrap_or(Value::Null), image.cloned().unwrap_or(Value::Null));
    if c.is_null() {
        return (!i.is_null()).then_some(i);
    }
    let mut out = c.clone();
    // Every field of Docker's HealthConfig is `omitempty`: a `null` (what
    // docker-py sends for what is unset) reads as zero and is not shown.
    if let Some(o) = out.as_object_mut() {
        o.retain(|_, v| !v.is_null());
    }
    for key in ["Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"] {
        let unset = match out.get(key) {
            None | Some(Value::Null) => true,
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            _ => false,
        };
        if unset {
            if let (Some(v), Some(o)) = (i.get(key), out.as_object_mut()) {
                o.insert(key.to_string(), v.clone());
            }
        }
    }
    Some(out)
}

/// The check to run, or None (`NONE`, or no test at all).
pub fn resolve(h: Option<&Value>) -> Option<Check> {
    let h = h?;
    let test: Vec<String> = serde_json::from_value(h.get("Test")?.clone()).ok()?;
    let argv = match test.first().map(String::as_str) {
        Some("CMD") => test[1..].to_vec(),
        Some("CMD-SHELL") => vec!["/bin/sh".into(), "-c".into(), test[1..].join(" ")],
        _ => return None,
    };
    if argv.is_empty() {
        return None;
    }
    let dur = |k: &str, d: Duration| match h.get(k).and_then(Value::as_i64) {
        Some(n) if n > 0 => Duration::from_nanos(n as u64),
        _ => d,
    };
    Some(Check {
        argv,
        interval: dur("Interval", DEFAULT_INTERVAL),
        timeout: dur("Timeout", DEFAULT_TIMEOUT),
        start_period: dur("StartPeriod", Duration::ZERO),
        start_interval: dur("StartInterval", Duration::from_secs(5)),
        retries: h.get("Retries").and_then(Value::as_i64).filter(|r| *r > 0).unwrap_or(DEFAULT_RETRIES),
    })
}

/// Applies one probe result; returns the new status if it changed.
pub fn record(state: &mut HealthState, result: ProbeResult, in_start_period: bool, retries: i64) -> Option<String> {
    let before = state.status.clone();
    if result.exit_code == 0 {
        state.failing_streak = 0;
        state.status = "healthy".into();
    } else if !in_start_period {
        state.failing_streak += 1;
        if state.failing_streak >= retries {
            state.status = "unhealthy".into();
        }
    }
    state.log.push(result);
    if state.log.len() > KEEP_LOG {
        state.log.remove(0);
    }
    (state.status != before).then(|| state.status.clone())
}

impl ContainerManager {
    /// Starts the probe loop for this run of the container, if it has a check.
    pub(super) fn spawn_health(self: &Arc<Self>, c: &Arc<Container>) {
        let rec = c.snapshot();
        let Some(check) = resolve(rec.config.healthcheck.as_ref()) else {
            return;
        };
        let run = c.lifecycle.borrow().starts;
        let rec = c.update(|r| r.state.health = Some(HealthState { status: "starting".into(), ..Default::default() }));
        let _ = self.persist(&rec);
        let (mgr, c) = (self.clone(), c.clone());
        tokio::spawn(async move {
            let began = tokio::time::Instant::now();
            let mut rx = c.lifecycle.subscribe();
            loop {
                let in_start = began.elapsed() < check.start_period;
                let wait = if in_start { check.start_interval.min(check.interval) } else { check.interval };
                let stopped = tokio::time::timeout(wait, rx.wait_for(|l| l.starts != run || !l.running)).await.is_ok();
                if stopped {
                    return; // the container stopped (or started again)
                }
                let in_start = began.elapsed() < check.start_period;
                let result = mgr.probe(&c, &check).await;
                if c.lifecycle.borrow().starts != run {
                    return;
                }
                let mut changed = None;
                let rec = c.update(|r| {
                    let h = r.state.health.get_or_insert_with(Default::default);
                    changed = record(h, result, in_start, check.retries);
                });
                let _ = mgr.persist(&rec);
                if let Some(status) = changed {
                    mgr.emit(&c, &format!("health_status: {status}"), &[]);
                }
            }
        });
    }

    /// Runs the test once through exec, within the check's timeout.
    async fn probe(self: &Arc<Self>, c: &Arc<Container>, check: &Check) -> ProbeResult {
        let start = berth_api::time::format_system_time(std::time::SystemTime::now());
        let (code, output) = match self.exec_capture(c, check.argv.clone(), check.timeout).await {
            Ok(r) => r,
            Err(e) => (-1, e.message),
        };
        let end = berth_api::time::format_system_time(std::time::SystemTime::now());
        ProbeResult { start, end, exit_code: code, output }
    }

    /// Execs `argv` in the container and returns its exit code and (capped)
    /// output; past `timeout` the process is killed, as Docker does.
    pub async fn exec_capture(self: &Arc<Self>, c: &Arc<Container>, argv: Vec<String>, timeout: Duration) -> Result<(i64, String), ApiError> {
        let cfg = berth_api::exec::ExecConfig { cmd: Some(argv), attach_stdout: true, attach_stderr: true, ..Default::default() };
        let id = self.exec_create(c, cfg)?;
        let result = self.exec_capture_inner(&id, timeout).await;
        self.execs.forget(&id);
        result
    }

    async fn exec_capture_inner(self: &Arc<Self>, id: &str, timeout: Duration) -> Result<(i64, String), ApiError> {
        let e = self.exec_get(id)?;
        let conn = self.exec_start(&e, &berth_api::exec::ExecStartConfig::default()).await?;
        let (mut mine, theirs) = tokio::io::duplex(64 * 1024);
        let session = tokio::spawn(self.clone().exec_attached(conn, theirs));
        let mut raw = Vec::new();
        let read = tokio::time::timeout(timeout, async {
            let mut buf = [0u8; 8192];
            loop {
                match mine.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) if raw.len() < 4 * MAX_OUTPUT => raw.extend_from_slice(&buf[..n]),
                    Ok(_) => {}
                }
            }
        })
        .await;
        if read.is_err() {
            if let Some(pid) = self.exec_pid(id) {
                // SAFETY: kill(2) of the probe's own host pid; no memory involved.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
            session.abort();
            return Ok((-1, format!("Health check exceeded timeout ({})", go_duration(timeout))));
        }
        let _ = session.await;
        let mut dec = FrameDecoder::default();
        dec.push(&raw);
        let mut out = Vec::new();
        while let Ok(Some((_, data))) = dec.next_frame() {
            out.extend_from_slice(&data);
        }
        out.truncate(MAX_OUTPUT);
        Ok((self.exec_exit_code(id).unwrap_or(-1), String::from_utf8_lossy(&out).into_owned()))
    }
}

fn go_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 && s.fract() == 0.0 { format!("{}s", s as u64) } else { format!("{}ms", d.as_millis()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_and_resolves_like_docker() {
        let image = json!({"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 10_000_000_000i64, "Retries": 5});
        let c = merge(Some(&json!({"Interval": 2_000_000_000i64})), Some(&image)).unwrap();
        let check = resolve(Some(&c)).unwrap();
        assert_eq!(check.argv, ["/bin/sh", "-c", "curl -f localhost"]);
        assert_eq!(check.interval, Duration::from_secs(2));
        assert_eq!(check.retries, 5);
        assert_eq!(check.timeout, DEFAULT_TIMEOUT);
        assert!(resolve(merge(Some(&json!({"Test": ["NONE"]})), Some(&image)).as_ref()).is_none());
        assert_eq!(resolve(Some(&json!({"Test": ["CMD", "true"]}))).unwrap().argv, ["true"]);
        assert!(resolve(None).is_none());
        assert!(merge(None, None).is_none());
    }

    #[test]
    fn nulls_from_docker_py_read_as_unset() {
        // docker-py's Healthcheck sends every key, unset ones as null.
        let sent = json!({"Test": ["CMD", "true"], "Interval": 1_000_000_000i64, "Timeout": null, "Retries": null, "StartPeriod": null});
        let c = merge(Some(&sent), None).unwrap();
        assert_eq!(c, json!({"Test": ["CMD", "true"], "Interval": 1_000_000_000i64}), "shown as dockerd shows it");
        let image = json!({"Test": ["CMD", "false"], "Retries": 7});
        let check = resolve(merge(Some(&sent), Some(&image)).as_ref()).unwrap();
        assert_eq!((check.argv, check.retries, check.timeout), (vec!["true".to_string()], 7, DEFAULT_TIMEOUT));
    }

    #[test]
    fn transitions_like_docker() {
        let mut s = HealthState { status: "starting".into(), ..Default::default() };
        let r = |code| ProbeResult { exit_code: code, ..Default::default() };
        assert_eq!(record(&mut s, r(1), true, 2), None, "failures in the start period do not count");
        assert_eq!(s.failing_streak, 0);
        assert_eq!(record(&mut s, r(0), true, 2).as_deref(), Some("healthy"));
        assert_eq!(record(&mut s, r(1), false, 2), None);
        assert_eq!(record(&mut s, r(1), false, 2).as_deref(), Some("unhealthy"));
        assert_eq!(s.failing_streak, 2);
        for _ in 0..10 {
            record(&mut s, r(1), false, 2);
        }
        assert_eq!(s.log.len(), KEEP_LOG);
        assert_eq!(record(&mut s, r(0), false, 2).as_deref(), Some("healthy"));
    }
}
