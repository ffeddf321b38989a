//! What clients see of containers: `ps` rows with Docker's filters, and
//! `inspect`.

use super::manager::{now_nanos, ContainerManager};
use super::record::{ContainerRecord, Status};
use crate::http::query::Filters;
use berth_api::container::{ContainerInspect, ContainerState, ContainerSummary};
use berth_api::time::{format_rfc3339_nanos, ZERO_TIME};
use berth_api::ApiError;
use serde_json::json;

/// `GET /containers/json` parameters.
pub struct ListOptions {
    pub all: bool,
    pub limit: Option<i64>,
    pub size: bool,
    pub filters: Filters,
}

const PS_FILTERS: &[&str] = &[
    "id", "name", "label", "label!", "status", "ancestor", "exited", "before", "since", "health",
    "network", "volume", "is-task", "publish", "expose",
];

impl ContainerManager {
    pub fn list(&self, opts: &ListOptions) -> Result<Vec<ContainerSummary>, ApiError> {
        opts.filters.validate(PS_FILTERS)?;
        for s in opts.filters.values("status") {
            if !["created", "restarting", "running", "removing", "paused", "exited", "dead"].contains(&s.as_str()) {
                return Err(ApiError::invalid(format!("invalid filter 'status={s}'")));
            }
        }
        let mut recs: Vec<ContainerRecord> = self.all().iter().map(|c| c.snapshot()).collect();
        recs.sort_by_key(|r| std::cmp::Reverse(r.created));
        let before = self.created_of(opts.filters.values("before"))?;
        let since = self.created_of(opts.filters.values("since"))?;
        // `-n`/`-l` imply all states, as in Docker.
        let all = opts.all || opts.limit.is_some_and(|n| n > 0) || !opts.filters.values("status").is_empty() || !opts.filters.values("exited").is_empty();
        let now = now_nanos();
        let mut rows = Vec::new();
        for r in recs {
            if !all && !r.state.status.is_running() {
                continue;
            }
            if before.is_some_and(|t| r.created >= t) || since.is_some_and(|t| r.created <= t) {
                continue;
            }
            if !self.matches(&r, &opts.filters) {
                continue;
            }
            rows.push(self.summary(&r, now, opts.size));
            if opts.limit.is_some_and(|n| n > 0 && rows.len() as i64 >= n) {
                break;
            }
        }
        Ok(rows)
    }

    fn created_of(&self, keys: &[String]) -> Result<Option<i64>, ApiError> {
        match keys.first() {
            None => Ok(None),
            Some(k) => Ok(Some(self.get(k)?.snapshot().created)),
        }
    }

    fn matches(&self, r: &ContainerRecord, f: &Filters) -> bool {
        let any = |key: &str, pred: &dyn Fn(&str) -> bool| {
            let v = f.values(key);
            v.is_empty() || v.iter().any(|x| pred(x))
        };
        any("id", &|x| r.id.starts_with(x))
            && any("name", &|x| name_matches(&r.name, x))
            && any("status", &|x| r.state.status.as_str() == x)
            && any("exited", &|x| {
                r.state.status == Status::Exited && x.parse::<i64>().is_ok_and(|c| c == r.state.exit_code)
            })
            && any("ancestor", &|x| self.is_ancestor(r, x))
            && any("health", &|x| match &r.state.health {
                Some(h) => h.status == x,
                None => x == "none",
            })
            && any("volume", &|x| r.mounts.iter().any(|m| (!m.name.is_empty() && m.name == x) || m.destination == x || m.source == x))
            && any("network", &|x| {
                let name = self.networks.find(x).map(|n| n.name).unwrap_or_else(|_| x.to_string());
                r.net.endpoints.contains_key(&name) || r.host_config.network_mode == name
            })
            && any("publish", &|x| {
                let (port, proto) = port_filter(x);
                r.net.ports.iter().any(|p| p.container_port == port && p.proto.as_str() == proto)
            })
            && any("expose", &|x| {
                let (port, proto) = port_filter(x);
                r.config.exposed_ports.as_ref().is_some_and(|e| e.contains_key(&format!("{port}/{proto}")))
                    || r.net.ports.iter().any(|p| p.container_port == port && p.proto.as_str() == proto)
            })
            && f.labels_match(|k| r.config.labels.get(k).map(String::as_str))
    }

    fn is_ancestor(&self, r: &ContainerRecord, x: &str) -> bool {
        if r.config.image == x || r.image_id == x || r.image_id.trim_start_matches("sha256:").starts_with(x) {
            return true;
        }
        self.images.resolve(x).is_ok_and(|img| img.id.to_string() == r.image_id)
    }

    fn summary(&self, r: &ContainerRecord, now: i64, size: bool) -> ContainerSummary {
        let mut cmd = vec![r.path.clone()];
        cmd.extend(r.args.iter().cloned());
        ContainerSummary {
            id: r.id.clone(),
            names: vec![format!("/{}", r.name)],
            image: r.config.image.clone(),
            image_id: r.image_id.clone(),
            command: cmd.join(" "),
            created: r.created / 1_000_000_000,
            ports: self.networks.summary_ports(&r.net, &r.exposed_port_keys()),
            size_rw: size.then(|| crate::diskusage::dir_size(&self.cfg.container_dir(&r.id).join("upper")) as i64),
            size_root_fs: None,
            labels: r.config.labels.clone(),
            state: r.state.status.as_str().into(),
            status: r.status_text(now),
            host_config: json!({"NetworkMode": r.host_config.network_mode}),
            network_settings: json!({"Networks": self.networks.settings(&r.net, &r.host_config.network_mode, "", &[])["Networks"]}),
            mounts: r.mounts.iter().map(|m| m.to_api()).collect(),
        }
    }

    pub fn inspect(&self, key: &str, size: bool) -> Result<ContainerInspect, ApiError> {
        let r = self.get(key)?.snapshot();
        let dir = self.cfg.container_dir(&r.id);
        let t = |n: i64| if n == 0 { ZERO_TIME.to_string() } else { format_rfc3339_nanos(n.into()) };
        let s = &r.state;
        let upper = dir.join("upper");
        Ok(ContainerInspect {
            id: r.id.clone(),
            created: t(r.created),
            path: r.path.clone(),
            args: r.args.clone(),
            state: ContainerState {
                status: s.status.as_str().into(),
                running: s.status.is_running(),
                paused: s.status == Status::Paused,
                restarting: s.status == Status::Restarting,
                oom_killed: s.oom_killed,
                dead: s.status == Status::Dead,
                pid: s.pid,
                exit_code: s.exit_code,
                error: s.error.clone(),
                started_at: t(s.started_at),
                finished_at: t(s.finished_at),
                health: s.health.as_ref().and_then(|h| serde_json::to_value(h).ok()),
            },
            image: r.image_id.clone(),
            resolv_conf_path: dir.join("resolv.conf").display().to_string(),
            hostname_path: dir.join("hostname").display().to_string(),
            hosts_path: dir.join("hosts").display().to_string(),
            // dockerd shows the file of json-file only (local's is internal, none has none).
            log_path: match super::logdriver::LogDriver::parse(&r.host_config.log_config) {
                Ok(super::logdriver::LogDriver::File { kind: super::logdriver::FileKind::JsonFile, .. }) | Err(_) => {
                    self.cfg.log_path(&r.id).display().to_string()
                }
                Ok(_) => String::new(),
            },
            name: format!("/{}", r.name),
            restart_count: r.restart_count,
            driver: "overlay2".into(),
            platform: "linux".into(),
            mount_label: String::new(),
            process_label: String::new(),
            app_armor_profile: String::new(),
            exec_ids: self.execs.container_execs(&r.id),
            host_config: r.host_config.clone(),
            graph_driver: json!({
                "Name": "overlay2",
                "Data": {
                    "MergedDir": dir.join("rootfs").display().to_string(),
                    "UpperDir": upper.display().to_string(),
                    "WorkDir": dir.join("work").display().to_string(),
                }
            }),
            size_rw: size.then(|| crate::diskusage::dir_size(&upper) as i64),
            size_root_fs: None,
            mounts: r.mounts.iter().map(|m| m.to_api()).collect(),
            config: r.config.clone(),
            network_settings: self.network_settings(&r),
        })
    }
}

/// Whether a prune with these filters (and their parsed `until`) takes `r`.
pub(super) fn matches_prune(r: &ContainerRecord, f: &Filters, until: Option<i128>) -> bool {
    until.is_none_or(|t| i128::from(r.created) < t) && f.labels_match(|k| r.config.labels.get(k).map(String::as_str))
}

/// `80` or `80/udp` (tcp when no protocol is given), as the publish and
/// expose filters take them.
fn port_filter(x: &str) -> (u16, &str) {
    let (port, proto) = x.split_once('/').unwrap_or((x, "tcp"));
    (port.parse().unwrap_or(0), proto)
}

fn name_matches(name: &str, pattern: &str) -> bool {
    // Docker matches names as a regular expression; plain substrings cover
    // what users type, and `^`/`$` anchors are honoured.
    let p = pattern.trim_start_matches('/');
    match (p.strip_prefix('^'), p.strip_suffix('$')) {
        (Some(rest), _) if rest.ends_with('$') => name == rest.trim_end_matches('$'),
        (Some(rest), _) => name.starts_with(rest),
        (None, Some(rest)) => name.ends_with(rest),
        _ => name.contains(p),
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_filter_like_docker() {
        assert!(name_matches("web-1", "web"));
        assert!(name_matches("web-1", "^web"));
        assert!(!name_matches("myweb", "^web"));
        assert!(name_matches("web", "^web$"));
        assert!(!name_matches("web-1", "^web$"));
        assert!(name_matches("web", "/web"));
    }
}
