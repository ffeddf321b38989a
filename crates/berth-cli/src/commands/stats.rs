//! `berth stats`: live CPU, memory, network, block I/O and PIDs per
//! container, computed from the daemon's samples as the docker CLI does.

use crate::format::size::{bytes_size, human_size_precision};
use crate::format::table::tabwrite;
use crate::format::template::Template;
use berth_api::container::ContainerSummary;
use berth_client::{segment, Client, Method, Query, RequestBody};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Disable streaming stats and only pull the first result
    #[arg(long = "no-stream")]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
    pub containers: Vec<String>,
}

const HEADER: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let names: Vec<String> = if args.containers.is_empty() {
        let q = Query::new().flag("all", args.all);
        let list: Vec<ContainerSummary> = client.get_json("/containers/json", &q).await?;
        list.into_iter().map(|c| c.id).collect()
    } else {
        args.containers.clone()
    };
    let format = args.format.clone().filter(|f| !f.is_empty()).unwrap_or_else(|| HEADER.to_string());
    let table = format.starts_with("table");
    let template = Template::parse(format.trim_start_matches("table").trim_start()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rows: Arc<Mutex<BTreeMap<String, Value>>> = Arc::default();
    let mut tasks = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (client, rows, name) = (client.clone(), rows.clone(), name.clone());
        let stream = !args.no_stream;
        let no_trunc = args.no_trunc;
        tasks.push(tokio::spawn(async move {
            let q = Query::new().add("stream", if stream { "1" } else { "0" });
            let path = format!("/containers/{}/stats", segment(&name));
            let Ok(resp) = client.stream(Method::GET, &path, &q, RequestBody::Empty).await else { return };
            let mut samples = resp.json::<Value>();
            while let Ok(Some(s)) = samples.next().await {
                if let Ok(mut r) = rows.lock() {
                    r.insert(format!("{i:05}"), row(&s, no_trunc));
                }
            }
        }));
    }
    let render = |rows: &BTreeMap<String, Value>| -> anyhow::Result<String> {
        let mut text = String::new();
        if table {
            text.push_str(&template.execute_header(&header()).map_err(|e| anyhow::anyhow!("{e}"))?);
            text.push('\n');
        }
        for r in rows.values() {
            text.push_str(&template.execute(r).map_err(|e| anyhow::anyhow!("{e}"))?);
            text.push('\n');
        }
        Ok(if table { tabwrite(&text) } else { text })
    };
    if args.no_stream {
        for t in tasks {
            let _ = t.await;
        }
        let r = rows.lock().map(|r| r.clone()).unwrap_or_default();
        print!("{}", render(&r)?);
        return Ok(());
    }
    let mut out = std::io::stdout();
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let r = rows.lock().map(|r| r.clone()).unwrap_or_default();
        // Redraw in place: home, clear, table.
        write!(out, "\x1b[2J\x1b[H{}", render(&r)?)?;
        out.flush()?;
        if tasks.iter().all(|t| t.is_finished()) {
            return Ok(());
        }
    }
}

fn header() -> Value {
    json!({"ID": "CONTAINER ID", "Container": "CONTAINER", "Name": "NAME", "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT",
           "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS"})
}

/// One table row from a stats sample, with the docker CLI's arithmetic.
pub fn row(s: &Value, no_trunc: bool) -> Value {
    let u = |v: &Value| v.as_f64().unwrap_or(0.0);
    let cpu = &s["cpu_stats"];
    let pre = &s["precpu_stats"];
    let cpu_delta = u(&cpu["cpu_usage"]["total_usage"]) - u(&pre["cpu_usage"]["total_usage"]);
    let sys_delta = u(&cpu["system_cpu_usage"]) - u(&pre["system_cpu_usage"]);
    let ncpu = match u(&cpu["online_cpus"]) {
        0.0 => cpu["cpu_usage"]["percpu_usage"].as_array().map(|a| a.len() as f64).unwrap_or(1.0),
        n => n,
    };
    let cpu_pct = if sys_delta > 0.0 && cpu_delta > 0.0 { cpu_delta / sys_delta * ncpu * 100.0 } else { 0.0 };
    let mem = &s["memory_stats"];
    let inactive = mem["stats"].get("total_inactive_file").or(mem["stats"].get("inactive_file")).map(u).unwrap_or(0.0);
    let usage = u(&mem["usage"]);
    let used = if inactive < usage { usage - inactive } else { usage };
    let limit = u(&mem["limit"]);
    let mem_pct = if limit > 0.0 { used / limit * 100.0 } else { 0.0 };
    let (mut rx, mut tx) = (0.0, 0.0);
    for n in s["networks"].as_object().into_iter().flat_map(|o| o.values()) {
        rx += u(&n["rx_bytes"]);
        tx += u(&n["tx_bytes"]);
    }
    let (mut rd, mut wr) = (0.0, 0.0);
    for e in s["blkio_stats"]["io_service_bytes_recursive"].as_array().into_iter().flatten() {
        match e["op"].as_str().map(str::to_ascii_lowercase).as_deref() {
            Some("read") => rd += u(&e["value"]),
            Some("write") => wr += u(&e["value"]),
            _ => {}
        }
    }
    let id = s["id"].as_str().unwrap_or("");
    let name = s["name"].as_str().unwrap_or("").trim_start_matches('/');
    let io = |a: f64, b: f64| format!("{} / {}", human_size_precision(a, 3), human_size_precision(b, 3));
    json!({
        "ID": if no_trunc { id } else { &id[..id.len().min(12)] },
        "Container": name,
        "Name": name,
        "CPUPerc": format!("{cpu_pct:.2}%"),
        "MemUsage": format!("{} / {}", bytes_size(used), bytes_size(limit)),
        "MemPerc": format!("{mem_pct:.2}%"),
        "NetIO": io(rx, tx),
        "BlockIO": io(rd, wr),
        "PIDs": s["pids_stats"]["current"].as_u64().unwrap_or(0).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_like_the_docker_cli() {
        let s = json!({
            "id": "0123456789abcdef", "name": "/web",
            "cpu_stats": {"cpu_usage": {"total_usage": 300}, "system_cpu_usage": 2000, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 100}, "system_cpu_usage": 1000},
            "memory_stats": {"usage": 2097152, "limit": 8388608, "stats": {"total_inactive_file": 1048576}},
            "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 0}},
            "blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 4096}, {"op": "Write", "value": 0}]},
            "pids_stats": {"current": 3}
        });
        let r = row(&s, false);
        assert_eq!(r["ID"], "0123456789ab");
        assert_eq!(r["Name"], "web");
        assert_eq!(r["CPUPerc"], "40.00%");
        assert_eq!(r["MemUsage"], "1MiB / 8MiB");
        assert_eq!(r["MemPerc"], "12.50%");
        assert_eq!(r["NetIO"], "1.5kB / 0B");
        assert_eq!(r["BlockIO"], "4.1kB / 0B");
        assert_eq!(r["PIDs"], "3");
    }
}
