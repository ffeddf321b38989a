//! `berth info`: a short, docker-like summary of the daemon.

use crate::format::size::bytes_size;
use crate::format::template::Template;
use berth_api::system::SystemInfo;
use berth_client::{Client, Query};
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let raw: Value = client.get_json("/info", &Query::new()).await?;
    if let Some(f) = args.format.as_deref().filter(|f| !f.is_empty()) {
        let f = f.replace("\\t", "\t").replace("\\n", "\n");
        println!("{}", Template::parse(&f)?.execute(&raw)?);
        return Ok(());
    }
    let info: SystemInfo = serde_json::from_value(raw)?;
    print!("{}", render(&info));
    for w in &info.warnings {
        eprintln!("{w}");
    }
    Ok(())
}

pub fn render(i: &SystemInfo) -> String {
    let mut o = String::new();
    o.push_str(&format!("Client:\n Version:    {}\n Context:    default\n Debug Mode: false\n\n", env!("CARGO_PKG_VERSION")));
    o.push_str("Server:\n");
    o.push_str(&format!(" Containers: {}\n", i.containers));
    o.push_str(&format!("  Running: {}\n  Paused: {}\n  Stopped: {}\n", i.containers_running, i.containers_paused, i.containers_stopped));
    o.push_str(&format!(" Images: {}\n", i.images));
    o.push_str(&format!(" Server Version: {}\n", i.server_version));
    o.push_str(&format!(" Storage Driver: {}\n", i.driver));
    for [k, v] in &i.driver_status {
        o.push_str(&format!("  {k}: {v}\n"));
    }
    o.push_str(&format!(" Logging Driver: {}\n", i.logging_driver));
    o.push_str(&format!(" Cgroup Driver: {}\n", i.cgroup_driver));
    o.push_str(&format!(" Cgroup Version: {}\n", i.cgroup_version));
    if let Some(rt) = i.runtimes.as_object() {
        o.push_str(&format!(" Runtimes: {}\n", rt.keys().cloned().collect::<Vec<_>>().join(" ")));
    }
    o.push_str(&format!(" Default Runtime: {}\n", i.default_runtime));
    if !i.security_options.is_empty() {
        o.push_str(" Security Options:\n");
        for s in &i.security_options {
            o.push_str(&format!("  {}\n", s.strip_prefix("name=").unwrap_or(s)));
        }
    }
    o.push_str(&format!(" Kernel Version: {}\n", i.kernel_version));
    o.push_str(&format!(" Operating System: {}\n", i.operating_system));
    o.push_str(&format!(" OSType: {}\n", i.os_type));
    o.push_str(&format!(" Architecture: {}\n", i.architecture));
    o.push_str(&format!(" CPUs: {}\n", i.ncpu));
    o.push_str(&format!(" Total Memory: {}\n", bytes_size(i.mem_total as f64)));
    o.push_str(&format!(" Name: {}\n", i.name));
    o.push_str(&format!(" ID: {}\n", i.id));
    o.push_str(&format!(" Docker Root Dir: {}\n", i.docker_root_dir));
    o.push_str(&format!(" Debug Mode: {}\n", i.debug));
    if !i.labels.is_empty() {
        o.push_str(" Labels:\n");
        for l in &i.labels {
            o.push_str(&format!("  {l}\n"));
        }
    }
    o.push_str(&format!(" Experimental: {}\n", i.experimental_build));
    registries(&mut o, &i.registry_config);
    o.push_str(&format!(" Live Restore Enabled: {}\n", i.live_restore_enabled));
    o.push('\n');
    o
}

/// Insecure registries (by name, then CIDRs) and mirrors, as the docker CLI lists them.
fn registries(o: &mut String, rc: &serde_json::Value) {
    let names: Vec<&str> = rc["IndexConfigs"]
        .as_object()
        .map(|m| m.values().filter(|v| v["Secure"] == false).filter_map(|v| v["Name"].as_str()).collect())
        .unwrap_or_default();
    let strings = |k: &str| -> Vec<&str> { rc[k].as_array().map(|a| a.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default() };
    let cidrs = strings("InsecureRegistryCIDRs");
    if !names.is_empty() || !cidrs.is_empty() {
        o.push_str(" Insecure Registries:\n");
        for n in names.iter().chain(&cidrs) {
            o.push_str(&format!("  {n}\n"));
        }
    }
    let mirrors = strings("Mirrors");
    if !mirrors.is_empty() {
        o.push_str(" Registry Mirrors:\n");
        for m in mirrors {
            o.push_str(&format!("  {m}\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_summary() {
        let i = SystemInfo { containers: 3, containers_running: 1, containers_stopped: 2, mem_total: 8_345_000_000, ..Default::default() };
        let s = render(&i);
        assert!(s.contains(" Containers: 3\n  Running: 1\n  Paused: 0\n  Stopped: 2\n"));
        assert!(s.contains(" Total Memory: 7.772GiB\n"));
    }
}
