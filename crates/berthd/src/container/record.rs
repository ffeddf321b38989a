//! What berthd persists about a container, and the Docker state names.

use berth_api::container::{ContainerConfig, HostConfig};
use serde::{Deserialize, Serialize};

/// A container's lifecycle state, as `State.Status` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }
    pub fn is_running(self) -> bool {
        matches!(self, Status::Running | Status::Paused | Status::Restarting)
    }
}

/// The mutable run state. Times are Unix nanoseconds, 0 meaning "never".
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunState {
    pub status: Status,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub oom_killed: bool,
    /// Set when the user stopped it (for `unless-stopped` later).
    pub stopped_by_user: bool,
    /// Health-check state, when the container has a check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<super::health::HealthState>,
}

/// One container, as stored under the data root.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub created: i64,
    pub image_id: String,
    /// Config with the image's defaults merged in, as Docker shows it.
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    pub path: String,
    pub args: Vec<String>,
    pub state: RunState,
    #[serde(default)]
    pub restart_count: i64,
    /// Requested networks and, while running, the leases and ports.
    #[serde(default)]
    pub net: crate::network::ContainerNet,
    /// Volumes, binds and `--mount` tmpfs mounts, as inspect shows them.
    #[serde(default)]
    pub mounts: Vec<crate::volume::MountRecord>,
}

impl ContainerRecord {
    /// `Config.ExposedPorts` keys ("81/tcp"), image's included.
    pub fn exposed_port_keys(&self) -> Vec<String> {
        self.config.exposed_ports.as_ref().map(|m| m.keys().cloned().collect()).unwrap_or_default()
    }

    /// `Up 5 seconds`, `Exited (0) 3 minutes ago`, `Created`: the `ps` status column.
    pub fn status_text(&self, now_nanos: i64) -> String {
        let s = &self.state;
        match s.status {
            Status::Created => "Created".into(),
            Status::Running => {
                let health = match s.health.as_ref().map(|h| h.status.as_str()) {
                    Some("starting") => " (health: starting)",
                    Some("healthy") => " (healthy)",
                    Some("unhealthy") => " (unhealthy)",
                    _ => "",
                };
                format!("Up {}{health}", human_duration(now_nanos - s.started_at))
            }
            Status::Paused => format!("Up {} (Paused)", human_duration(now_nanos - s.started_at)),
            Status::Restarting => format!(
                "Restarting ({}) {} ago",
                s.exit_code,
                human_duration(now_nanos - s.finished_at)
            ),
            Status::Removing => "Removal In Progress".into(),
            Status::Exited => {
                if s.finished_at == 0 {
                    format!("Exited ({})", s.exit_code)
                } else {
                    format!("Exited ({}) {} ago", s.exit_code, human_duration(now_nanos - s.finished_at))
                }
            }
            Status::Dead => "Dead".into(),
        }
    }
}

/// Docker's go-units `HumanDuration`.
pub fn human_duration(nanos: i64) -> String {
    let secs = nanos.max(0) / 1_000_000_000;
    let mins = secs / 60;
    // go-units rounds hours to the nearest (int(d.Hours() + 0.5)).
    let hours = (nanos.max(0) as f64 / 3.6e12 + 0.5) as i64;
    if secs < 1 {
        "Less than a second".into()
    } else if secs == 1 {
        "1 second".into()
    } else if secs < 60 {
        format!("{secs} seconds")
    } else if mins == 1 {
        "About a minute".into()
    } else if mins < 60 {
        format!("{mins} minutes")
    } else if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", secs / 3600 / 24 / 365)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const S: i64 = 1_000_000_000;

    #[test]
    fn human_durations_match_go_units() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(S), "1 second");
        assert_eq!(human_duration(45 * S), "45 seconds");
        assert_eq!(human_duration(90 * S), "About a minute");
        assert_eq!(human_duration(10 * 60 * S), "10 minutes");
        assert_eq!(human_duration(3600 * S), "About an hour");
        assert_eq!(human_duration(5 * 3600 * S), "5 hours");
        assert_eq!(human_duration(3 * 86400 * S), "3 days");
    }
}
