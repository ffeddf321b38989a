//! `berth version`: client and server versions, laid out like docker's.

use crate::format::template::Template;
use berth_api::system::VersionInfo;
use berth_api::version::API_VERSION;
use berth_client::{Client, Query};
use serde_json::{json, Value};

pub const GIT_COMMIT: &str = match option_env!("BERTH_GIT_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

fn os_arch() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{}/{arch}", std::env::consts::OS)
}

fn client_info() -> Value {
    json!({
        "Version": env!("CARGO_PKG_VERSION"),
        "ApiVersion": API_VERSION,
        "DefaultAPIVersion": API_VERSION,
        "GitCommit": GIT_COMMIT,
        "Os": std::env::consts::OS,
        "Arch": os_arch().split('/').nth(1).unwrap_or(""),
        "Context": "default",
    })
}

fn line(out: &mut String, label: &str, value: &str) {
    out.push_str(&format!("{label:<20}{value}\n"));
}

pub fn render_client() -> String {
    let mut out = String::from("Client:\n");
    line(&mut out, " Version:", env!("CARGO_PKG_VERSION"));
    line(&mut out, " API version:", API_VERSION);
    line(&mut out, " Git commit:", GIT_COMMIT);
    line(&mut out, " OS/Arch:", &os_arch());
    line(&mut out, " Context:", "default");
    out
}

pub fn render_server(v: &VersionInfo) -> String {
    let mut out = format!("\nServer: {}\n", v.platform.name).replace(": \n", ":\n");
    out.push_str(" Engine:\n");
    line(&mut out, "  Version:", &v.version);
    line(&mut out, "  API version:", &format!("{} (minimum version {})", v.api_version, v.min_api_version));
    if !v.go_version.is_empty() {
        line(&mut out, "  Go version:", &v.go_version);
    }
    line(&mut out, "  Git commit:", &v.git_commit);
    if !v.build_time.is_empty() {
        line(&mut out, "  Built:", &v.build_time);
    }
    line(&mut out, "  OS/Arch:", &format!("{}/{}", v.os, v.arch));
    line(&mut out, "  Experimental:", "false");
    for c in &v.components {
        if c.name == "Engine" {
            continue;
        }
        out.push_str(&format!(" {}:\n", c.name));
        line(&mut out, "  Version:", &c.version);
    }
    out
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let server = client.get_json::<Value>("/version", &Query::new()).await;
    if let Some(f) = args.format.as_deref().filter(|f| !f.is_empty()) {
        // Templates name Go's struct fields (`.Server.APIVersion`), which
        // differ from the JSON keys (`ApiVersion`) for these two.
        let mut server_value = server.as_ref().ok().and_then(|v| serde_json::to_value(v).ok()).unwrap_or(Value::Null);
        if let Some(o) = server_value.as_object_mut() {
            let api = o.get("ApiVersion").cloned().unwrap_or(Value::Null);
            o.insert("APIVersion".into(), api);
        }
        let mut client = client_info();
        if let Some(o) = client.as_object_mut() {
            let api = o.get("ApiVersion").cloned().unwrap_or(Value::Null);
            o.insert("APIVersion".into(), api);
        }
        let data = json!({"Client": client, "Server": server_value});
        let f = f.replace("\\t", "\t").replace("\\n", "\n");
        println!("{}", Template::parse(&f)?.execute(&data)?);
        return server.map(|_| ()).map_err(Into::into);
    }
    print!("{}", render_client());
    let server = server?;
    let v: VersionInfo = serde_json::from_value(server)?;
    print!("{}", render_server(&v));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_like_docker() {
        assert!(render_client().contains("\n Version:           "));
        let v = VersionInfo { version: "0.1.0".into(), api_version: "1.50".into(), min_api_version: "1.24".into(), ..Default::default() };
        let s = render_server(&v);
        assert!(s.starts_with("\nServer:\n Engine:\n  Version:          0.1.0\n"));
        assert!(s.contains("  API version:      1.50 (minimum version 1.24)\n"));
    }
}
