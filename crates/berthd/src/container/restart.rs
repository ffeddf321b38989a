//! Restart policies (`--restart no|always|on-failure[:N]|unless-stopped`)
//! with Docker's back-off: 100 ms doubling to at most a minute, reset once
//! a run lasted 10 s.

use super::manager::{Container, ContainerManager};
use super::record::{ContainerRecord, Status};
use std::sync::Arc;
use std::time::Duration;

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(60);
const STABLE_RUN_NANOS: i64 = 10_000_000_000;

pub use berthd::checks::restart::validate;

/// Whether the policy wants this exit restarted (Docker's restart manager).
pub fn wants_restart(rec: &ContainerRecord, exit_code: i64) -> bool {
    let p = &rec.host_config.restart_policy;
    if rec.host_config.auto_remove || rec.state.stopped_by_user {
        return false;
    }
    match p.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => exit_code != 0 && (p.maximum_retry_count <= 0 || rec.restart_count < p.maximum_retry_count),
        _ => false,
    }
}

/// Whether the policy brings the container back when berthd starts.
pub fn wants_start_at_boot(rec: &ContainerRecord) -> bool {
    match rec.host_config.restart_policy.name.as_str() {
        "always" => true,
        "unless-stopped" => !rec.state.stopped_by_user,
        _ => false,
    }
}

/// Whether `kill` with `sig` ends the restart policy's say over this exit
/// (dockerd: SIGKILL, the container's stop signal, or any signal when it
/// has none, mark the container to exit on its next exit; any kill counts
/// as a manual stop for `unless-stopped`). One flag, `stopped_by_user`,
/// carries both, as for `stop`.
pub fn kill_stops_policy(rec: &ContainerRecord, sig: i32) -> bool {
    let stop_signal = rec.config.stop_signal.as_deref().filter(|s| !s.is_empty());
    let exits = sig == libc::SIGKILL || stop_signal.is_none_or(|s| berth_runtime::parse_signal(s).ok() == Some(sig));
    exits || rec.host_config.restart_policy.name == "unless-stopped"
}

/// The next delay, given the last one and how long the run lasted.
pub fn next_delay(last: Duration, ran_nanos: i64) -> Duration {
    if ran_nanos >= STABLE_RUN_NANOS || last.is_zero() {
        FIRST_DELAY
    } else {
        (last * 2).min(MAX_DELAY)
    }
}

impl ContainerManager {
    /// Starts the container again after the back-off, unless the user
    /// stopped or removed it meanwhile; handle_exit has already marked it
    /// restarting (a stop since then has marked it exited).
    pub(super) fn schedule_restart(self: &Arc<Self>, c: &Arc<Container>) {
        let rec = c.snapshot();
        let ran = rec.state.finished_at - rec.state.started_at;
        let delay = {
            let mut last = c.backoff.lock().unwrap_or_else(|p| p.into_inner());
            *last = next_delay(*last, ran);
            *last
        };
        let (mgr, c) = (self.clone(), c.clone());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let rec = c.snapshot();
            if rec.state.status != Status::Restarting || rec.state.stopped_by_user || c.lifecycle.borrow().removed {
                return;
            }
            // Stays `restarting` until start makes it `running`: no
            // observer sees an exited state between the two runs.
            let rec = c.update(|r| r.restart_count += 1);
            let _ = mgr.persist(&rec);
            if let Err(e) = mgr.start(&c).await {
                crate::daemon::log(&format!("restarting {}: {e}", c.id));
                let rec = c.update(|r| {
                    if r.state.status == Status::Restarting {
                        r.state.status = Status::Exited;
                    }
                });
                let _ = mgr.persist(&rec);
            }
        });
    }

    /// At daemon start: starts what the restart policies say should run.
    pub(super) async fn start_policy_containers(self: &Arc<Self>) {
        for c in self.all() {
            let rec = c.snapshot();
            if !rec.state.status.is_running() && wants_start_at_boot(&rec) {
                if let Err(e) = self.start(&c).await {
                    crate::daemon::log(&format!("starting {} (restart policy): {e}", c.id));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::container::RestartPolicy;

    fn rec(policy: &str, max: i64, count: i64) -> ContainerRecord {
        let mut r: ContainerRecord = serde_json::from_value(serde_json::json!({
            "id": "x", "name": "x", "created": 0, "image_id": "", "config": {}, "host_config": {},
            "path": "true", "args": [], "state": {}
        }))
        .expect("record");
        r.host_config.restart_policy = RestartPolicy { name: policy.into(), maximum_retry_count: max };
        r.restart_count = count;
        r
    }

    #[test]
    fn policies_decide_like_docker() {
        assert!(!wants_restart(&rec("no", 0, 0), 1));
        assert!(wants_restart(&rec("always", 0, 0), 0));
        assert!(wants_restart(&rec("unless-stopped", 0, 0), 0));
        assert!(!wants_restart(&rec("on-failure", 0, 0), 0));
        assert!(wants_restart(&rec("on-failure", 0, 50), 1));
        assert!(wants_restart(&rec("on-failure", 2, 1), 1));
        assert!(!wants_restart(&rec("on-failure", 2, 2), 1));
        let mut stopped = rec("always", 0, 0);
        stopped.state.stopped_by_user = true;
        assert!(!wants_restart(&stopped, 0));
        assert!(wants_start_at_boot(&stopped));
        stopped.host_config.restart_policy.name = "unless-stopped".into();
        assert!(!wants_start_at_boot(&stopped));
    }

    #[test]
    fn kills_cancel_restarts_like_dockerd() {
        let always = rec("always", 0, 0);
        assert!(kill_stops_policy(&always, libc::SIGKILL));
        assert!(kill_stops_policy(&always, libc::SIGTERM), "no stop signal: any signal");
        let mut own = rec("always", 0, 0);
        own.config.stop_signal = Some("SIGUSR1".into());
        assert!(kill_stops_policy(&own, libc::SIGUSR1));
        assert!(kill_stops_policy(&own, libc::SIGKILL));
        assert!(!kill_stops_policy(&own, libc::SIGTERM), "another signal: the policy still restarts");
        own.host_config.restart_policy.name = "unless-stopped".into();
        assert!(kill_stops_policy(&own, libc::SIGTERM), "a manual stop for unless-stopped");
    }

    #[test]
    fn back_off_doubles_and_resets() {
        assert_eq!(next_delay(Duration::ZERO, 0), FIRST_DELAY);
        assert_eq!(next_delay(FIRST_DELAY, 0), Duration::from_millis(200));
        assert_eq!(next_delay(Duration::from_secs(50), 0), MAX_DELAY);
        assert_eq!(next_delay(Duration::from_secs(50), STABLE_RUN_NANOS), FIRST_DELAY);
    }
}
