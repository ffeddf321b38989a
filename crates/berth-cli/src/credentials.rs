//! Registry credentials in the docker CLI's config file
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): the
//! `auths` map of `{"auth": base64("user:password")}` per server.

use anyhow::Context;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// Docker Hub's key in `auths`.
pub const HUB_SERVER: &str = "https://index.docker.io/v1/";

pub fn config_path() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("DOCKER_CONFIG")
        .unwrap_or_else(|| env("HOME").unwrap_or_else(|| PathBuf::from("/root")).join(".docker"))
        .join("config.json")
}

/// The `auths` key of a registry host (`docker.io` is Docker Hub).
pub fn server_key(host: &str) -> String {
    match host {
        "" | "docker.io" | "index.docker.io" | "registry-1.docker.io" => HUB_SERVER.to_string(),
        h => h.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/').to_string(),
    }
}

fn read_config() -> anyhow::Result<Map<String, Value>> {
    let path = config_path();
    match std::fs::read(&path) {
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        Ok(b) => match serde_json::from_slice::<Value>(&b).with_context(|| format!("loading config file {}", path.display()))? {
            Value::Object(m) => Ok(m),
            _ => anyhow::bail!("loading config file {}: not a JSON object", path.display()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_config(cfg: &Map<String, Value>) -> anyhow::Result<()> {
    let path = config_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let data = serde_json::to_vec_pretty(cfg)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, data).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Username and password stored for `host`.
pub fn lookup(host: &str) -> Option<(String, String)> {
    let cfg = read_config().ok()?;
    let entry = cfg.get("auths")?.get(server_key(host))?;
    let raw = base64::engine::general_purpose::STANDARD.decode(entry.get("auth")?.as_str()?).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

pub fn store(server: &str, username: &str, password: &str) -> anyhow::Result<()> {
    let mut cfg = read_config()?;
    let auths = cfg.entry("auths").or_insert_with(|| json!({}));
    let Value::Object(auths) = auths else { anyhow::bail!("config file: \"auths\" is not an object") };
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    auths.insert(server.to_string(), json!({ "auth": auth }));
    write_config(&cfg)
}

/// Whether an entry was there.
pub fn erase(server: &str) -> anyhow::Result<bool> {
    let mut cfg = read_config()?;
    let removed = cfg.get_mut("auths").and_then(Value::as_object_mut).and_then(|a| a.remove(server)).is_some();
    if removed {
        write_config(&cfg)?;
    }
    Ok(removed)
}

/// `X-Registry-Auth` for a pull from `host`: base64url of the auth JSON.
pub fn registry_auth_header(host: &str) -> Option<String> {
    let (u, p) = lookup(host)?;
    let body = json!({ "username": u, "password": p, "serveraddress": server_key(host) });
    Some(base64::engine::general_purpose::URL_SAFE.encode(body.to_string()))
}
