//! `GET /containers/{id}/stats`: Docker's stats JSON read from the
//! container's cgroup (v1 controllers, or the v2 unified tree) and its
//! network namespace. Paths are relative to a root so the parsing is
//! tested on a fake tree.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Where cgroups and /proc live (the real ones: `/sys/fs/cgroup`, `/proc`).
pub struct StatsSource {
    pub cgroup_root: PathBuf,
    pub proc_root: PathBuf,
}

impl Default for StatsSource {
    fn default() -> Self {
        StatsSource { cgroup_root: "/sys/fs/cgroup".into(), proc_root: "/proc".into() }
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn num(p: &Path) -> u64 {
    read(p).trim().parse().unwrap_or(0)
}

/// `key value` lines (memory.stat, cpu.stat, cpuacct.stat).
fn kv(text: &str) -> serde_json::Map<String, Value> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), json!(v.trim().parse::<u64>().ok()?)))
        })
        .collect()
}

impl StatsSource {
    fn is_v2(&self) -> bool {
        self.cgroup_root.join("cgroup.controllers").exists()
    }

    /// One sample; `pid` is the container's init (for its network counters).
    pub fn sample(&self, cgroup: &str, pid: i64, limit_fallback: u64) -> Value {
        let rel = cgroup.trim_start_matches('/');
        let (cpu, mem, pids, blkio) = if self.is_v2() { self.v2(rel) } else { self.v1(rel) };
        let mut mem = mem;
        if mem["limit"].as_u64().is_none_or(|l| l == 0 || l >= 1 << 62) {
            mem["limit"] = json!(limit_fallback);
        }
        json!({
            "read": berth_api::time::format_system_time(std::time::SystemTime::now()),
            "pids_stats": pids,
            "blkio_stats": blkio,
            "num_procs": 0,
            "storage_stats": {},
            "cpu_stats": cpu,
            "memory_stats": mem,
            "networks": self.networks(pid),
        })
    }

    fn v1(&self, rel: &str) -> (Value, Value, Value, Value) {
        let c = |ctl: &str, f: &str| self.cgroup_root.join(ctl).join(rel).join(f);
        let percpu: Vec<u64> = read(&c("cpuacct", "cpuacct.usage_percpu")).split_whitespace().filter_map(|x| x.parse().ok()).collect();
        let st = kv(&read(&c("cpuacct", "cpuacct.stat")));
        let tick_ns = 1_000_000_000 / clock_ticks();
        let ticks = |k: &str| st.get(k).and_then(Value::as_u64).unwrap_or(0) * tick_ns;
        let cpu = json!({
            "cpu_usage": {
                "total_usage": num(&c("cpuacct", "cpuacct.usage")),
                "percpu_usage": percpu,
                "usage_in_kernelmode": ticks("system"),
                "usage_in_usermode": ticks("user"),
            },
            "system_cpu_usage": self.system_cpu_nanos(),
            "online_cpus": online_cpus(),
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
        });
        let stats = kv(&read(&c("memory", "memory.stat")));
        let mem = json!({
            "usage": num(&c("memory", "memory.usage_in_bytes")),
            "max_usage": num(&c("memory", "memory.max_usage_in_bytes")),
            "limit": num(&c("memory", "memory.limit_in_bytes")),
            "failcnt": num(&c("memory", "memory.failcnt")),
            "stats": stats,
        });
        let pids_max = read(&c("pids", "pids.max")).trim().parse::<u64>().ok();
        let pids = json!({"current": num(&c("pids", "pids.current")), "limit": pids_max});
        let blkio = json!({"io_service_bytes_recursive": blkio_v1(&read(&c("blkio", "blkio.throttle.io_service_bytes_recursive")))});
        (cpu, mem, pids, blkio)
    }

    fn v2(&self, rel: &str) -> (Value, Value, Value, Value) {
        let c = |f: &str| self.cgroup_root.join(rel).join(f);
        let st = kv(&read(&c("cpu.stat")));
        let us = |k: &str| st.get(k).and_then(Value::as_u64).unwrap_or(0) * 1000;
        let cpu = json!({
            "cpu_usage": {"total_usage": us("usage_usec"), "usage_in_kernelmode": us("system_usec"), "usage_in_usermode": us("user_usec")},
            "system_cpu_usage": self.system_cpu_nanos(),
            "online_cpus": online_cpus(),
            "throttling_data": {"periods": st.get("nr_periods"), "throttled_periods": st.get("nr_throttled"), "throttled_time": us("throttled_usec")},
        });
        let limit = read(&c("memory.max")).trim().parse::<u64>().unwrap_or(0);
        let mem = json!({
            "usage": num(&c("memory.current")),
            "limit": limit,
            "stats": kv(&read(&c("memory.stat"))),
        });
        let pids = json!({"current": num(&c("pids.current")), "limit": read(&c("pids.max")).trim().parse::<u64>().ok()});
        (cpu, mem, pids, json!({"io_service_bytes_recursive": blkio_v2(&read(&c("io.stat")))}))
    }

    /// Host CPU time in nanoseconds, from /proc/stat (what the docker CLI
    /// divides container CPU time by).
    fn system_cpu_nanos(&self) -> u64 {
        let text = read(&self.proc_root.join("stat"));
        let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else { return 0 };
        let jiffies: u64 = line.split_whitespace().skip(1).take(7).filter_map(|x| x.parse::<u64>().ok()).sum();
        jiffies * (1_000_000_000 / clock_ticks())
    }

    /// Interfaces of the container's network namespace (/proc/<pid>/net/dev).
    fn networks(&self, pid: i64) -> Value {
        let text = read(&self.proc_root.join(pid.to_string()).join("net/dev"));
        let mut out = serde_json::Map::new();
        for line in text.lines().skip(2) {
            let Some((name, rest)) = line.split_once(':') else { continue };
            let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            if f.len() < 16 || name.trim() == "lo" {
                continue;
            }
            out.insert(name.trim().to_string(), json!({
                "rx_bytes": f[0], "rx_packets": f[1], "rx_errors": f[2], "rx_dropped": f[3],
                "tx_bytes": f[8], "tx_packets": f[9], "tx_errors": f[10], "tx_dropped": f[11],
            }));
        }
        Value::Object(out)
    }
}

fn blkio_v1(text: &str) -> Value {
    let rows: Vec<Value> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (maj, min) = f.first()?.split_once(':')?;
            Some(json!({"major": maj.parse::<u64>().ok()?, "minor": min.parse::<u64>().ok()?, "op": f.get(1)?, "value": f.get(2)?.parse::<u64>().ok()?}))
        })
        .collect();
    Value::Array(rows)
}

fn blkio_v2(text: &str) -> Value {
    let mut rows = Vec::new();
    for l in text.lines() {
        let mut f = l.split_whitespace();
        let Some((maj, min)) = f.next().and_then(|d| d.split_once(':')) else { continue };
        for kv in f {
            let (k, v) = kv.split_once('=').unwrap_or(("", ""));
            let op = match k {
                "rbytes" => "read",
                "wbytes" => "write",
                _ => continue,
            };
            rows.push(json!({"major": maj.parse::<u64>().unwrap_or(0), "minor": min.parse::<u64>().unwrap_or(0), "op": op, "value": v.parse::<u64>().unwrap_or(0)}));
        }
    }
    Value::Array(rows)
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

fn online_cpus() -> u64 {
    std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1)
}

impl super::manager::ContainerManager {
    /// Streams stats samples to `tx` (one when `!stream`), each carrying the
    /// previous one as `precpu_stats`, at Docker's one-second pace.
    pub async fn stats(
        &self,
        c: std::sync::Arc<super::manager::Container>,
        stream: bool,
        one_shot: bool,
        tx: tokio::sync::mpsc::Sender<bytes::Bytes>,
    ) {
        // cgroup and /proc reads block (the cgroup's kernel locks): they run
        // on a blocking thread, one sample at a time.
        let src = std::sync::Arc::new(StatsSource::default());
        let host_mem = tokio::task::spawn_blocking(host_memory).await.unwrap_or(0);
        let mut prev = json!({"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0});
        let mut preread = berth_api::time::ZERO_TIME.to_string();
        // A single sample needs a previous one a second earlier for the
        // CPU percentage, as dockerd does unless asked for `one-shot`.
        let mut silent = !stream && !one_shot && c.snapshot().state.status.is_running();
        loop {
            let rec = c.snapshot();
            let mut s = if rec.state.status.is_running() {
                let (src, cgroup, pid) = (src.clone(), super::isolation::cgroup_path(&rec), rec.state.pid);
                match tokio::task::spawn_blocking(move || src.sample(&cgroup, pid, host_mem)).await {
                    Ok(s) => s,
                    Err(_) => return,
                }
            } else {
                json!({"read": berth_api::time::ZERO_TIME, "cpu_stats": {}, "memory_stats": {}, "pids_stats": {}, "blkio_stats": {}, "networks": {}})
            };
            s["preread"] = json!(preread);
            s["precpu_stats"] = prev.clone();
            s["name"] = json!(format!("/{}", rec.name));
            s["id"] = json!(rec.id);
            prev = s["cpu_stats"].clone();
            preread = s["read"].as_str().unwrap_or_default().to_string();
            if silent {
                silent = false;
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
            let mut line = s.to_string().into_bytes();
            line.push(b'\n');
            if tx.send(line.into()).await.is_err() || !stream || !rec.state.status.is_running() && c.lifecycle.borrow().removed {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}

fn host_memory() -> u64 {
    read(Path::new("/proc/meminfo"))
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn reads_a_v1_tree() {
        let t = tempfile::tempdir().unwrap();
        let cg = t.path().join("cg");
        let pr = t.path().join("proc");
        put(&cg, "cpuacct/berth/x/cpuacct.usage", "5000\n");
        put(&cg, "cpuacct/berth/x/cpuacct.usage_percpu", "3000 2000 \n");
        put(&cg, "cpuacct/berth/x/cpuacct.stat", "user 2\nsystem 1\n");
        put(&cg, "memory/berth/x/memory.usage_in_bytes", "1048576\n");
        put(&cg, "memory/berth/x/memory.limit_in_bytes", "9223372036854771712\n");
        put(&cg, "memory/berth/x/memory.stat", "cache 4096\ntotal_inactive_file 1024\n");
        put(&cg, "pids/berth/x/pids.current", "3\n");
        put(&cg, "pids/berth/x/pids.max", "max\n");
        put(&cg, "blkio/berth/x/blkio.throttle.io_service_bytes_recursive", "8:0 Read 100\n8:0 Write 200\nTotal 300\n");
        put(&pr, "stat", "cpu  10 0 10 80 0 0 0 0 0 0\n");
        put(&pr, "7/net/dev", "Inter-|   Receive\n face |bytes\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n  eth0: 100 2 0 0 0 0 0 0 50 1 0 0 0 0 0 0\n");
        let s = StatsSource { cgroup_root: cg, proc_root: pr }.sample("/berth/x", 7, 4096);
        assert_eq!(s["cpu_stats"]["cpu_usage"]["total_usage"], 5000);
        assert_eq!(s["cpu_stats"]["cpu_usage"]["percpu_usage"], json!([3000, 2000]));
        assert_eq!(s["cpu_stats"]["system_cpu_usage"], 100 * (1_000_000_000 / clock_ticks()));
        assert_eq!(s["memory_stats"]["usage"], 1048576);
        assert_eq!(s["memory_stats"]["limit"], 4096, "no limit: the host's memory");
        assert_eq!(s["memory_stats"]["stats"]["total_inactive_file"], 1024);
        assert_eq!(s["pids_stats"]["current"], 3);
        assert_eq!(s["blkio_stats"]["io_service_bytes_recursive"][1]["value"], 200);
        assert_eq!(s["networks"]["eth0"]["rx_bytes"], 100);
        assert!(s["networks"].get("lo").is_none());
    }

    #[test]
    fn reads_a_v2_tree() {
        let t = tempfile::tempdir().unwrap();
        let cg = t.path().join("cg");
        put(&cg, "cgroup.controllers", "cpu memory pids io\n");
        put(&cg, "berth/x/cpu.stat", "usage_usec 7\nuser_usec 4\nsystem_usec 3\n");
        put(&cg, "berth/x/memory.current", "2048\n");
        put(&cg, "berth/x/memory.max", "65536\n");
        put(&cg, "berth/x/pids.current", "1\n");
        put(&cg, "berth/x/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2\n");
        let s = StatsSource { cgroup_root: cg, proc_root: t.path().join("none") }.sample("/berth/x", 1, 1);
        assert_eq!(s["cpu_stats"]["cpu_usage"]["total_usage"], 7000);
        assert_eq!(s["memory_stats"]["limit"], 65536);
        assert_eq!(s["blkio_stats"]["io_service_bytes_recursive"][1]["op"], "write");
    }
}
