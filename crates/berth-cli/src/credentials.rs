//! Registry credentials in the docker CLI's config file
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): the
//! `auths` map of `{"auth": base64("user:password")}` per server, or a
//! credential helper (`credHelpers[server]`, else `credsStore`) run as
//! `docker-credential-NAME get|store|erase`, as the docker CLI does.

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

/// The helper that keeps `server`'s credentials, if the config names one.
fn helper_for(cfg: &Map<String, Value>, server: &str) -> Option<String> {
    cfg.get("credHelpers")
        .and_then(|h| h.get(server))
        .or_else(|| cfg.get("credsStore"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

/// Runs `docker-credential-NAME ACTION` with `input` on stdin.
fn run_helper(name: &str, action: &str, input: &str) -> anyhow::Result<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let bin = format!("docker-credential-{name}");
    let mut child = Command::new(&bin)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("exec: \"{bin}\": executable file not found in $PATH"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper may exit without reading its input (an `erase` that
        // needs none): its status and output say how it went, as Go's
        // os/exec (the docker CLI) treats a closed stdin.
        match stdin.write_all(input.as_bytes()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            r => r?,
        }
    }
    let out = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() {
        let why = if text.is_empty() { String::from_utf8_lossy(&out.stderr).trim().to_string() } else { text };
        anyhow::bail!("error getting credentials - err: {bin} {action}: {why}");
    }
    Ok(text)
}

/// The docker CLI's username for a helper entry whose secret is an identity token.
const TOKEN_USERNAME: &str = "<token>";

/// What is stored for one server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    pub username: String,
    pub password: String,
    /// A refresh token a token server gave at login (`identitytoken`), kept
    /// instead of the password.
    pub identity_token: String,
}

/// The credentials stored for `host`.
pub fn lookup(host: &str) -> Option<Stored> {
    let cfg = read_config().ok()?;
    let key = server_key(host);
    if let Some(helper) = helper_for(&cfg, &key) {
        let out = run_helper(&helper, "get", &key).ok()?;
        let v: Value = serde_json::from_str(&out).ok()?;
        let user = v.get("Username")?.as_str()?.to_string();
        let secret = v.get("Secret")?.as_str()?.to_string();
        // As the docker CLI: `<token>` marks an identity token.
        if user == TOKEN_USERNAME {
            return Some(Stored { identity_token: secret, ..Default::default() });
        }
        return Some(Stored { username: user, password: secret, ..Default::default() });
    }
    let entry = cfg.get("auths")?.get(&key)?;
    let identity_token = entry.get("identitytoken").and_then(Value::as_str).unwrap_or("").to_string();
    let (username, password) = match entry.get("auth").and_then(Value::as_str) {
        Some(a) => {
            let raw = base64::engine::general_purpose::STANDARD.decode(a).ok()?;
            let s = String::from_utf8(raw).ok()?;
            let (u, p) = s.split_once(':')?;
            (u.to_string(), p.to_string())
        }
        None if !identity_token.is_empty() => (String::new(), String::new()),
        None => return None,
    };
    Some(Stored { username, password, identity_token })
}

/// Keep `c` for `server`: with an identity token, the token and not the password.
pub fn store(server: &str, c: &Stored) -> anyhow::Result<()> {
    let mut cfg = read_config()?;
    let password = if c.identity_token.is_empty() { c.password.as_str() } else { "" };
    if let Some(helper) = helper_for(&cfg, server) {
        let (user, secret) = if c.identity_token.is_empty() { (c.username.as_str(), password) } else { (TOKEN_USERNAME, c.identity_token.as_str()) };
        let input = json!({ "ServerURL": server, "Username": user, "Secret": secret }).to_string();
        run_helper(&helper, "store", &input)?;
        // The helper keeps the secret; the file only remembers the server.
        let auths = cfg.entry("auths").or_insert_with(|| json!({}));
        if let Value::Object(a) = auths {
            a.insert(server.to_string(), json!({}));
        }
        return write_config(&cfg);
    }
    let auths = cfg.entry("auths").or_insert_with(|| json!({}));
    let Value::Object(auths) = auths else { anyhow::bail!("config file: \"auths\" is not an object") };
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", c.username));
    let mut entry = json!({ "auth": auth });
    if !c.identity_token.is_empty() {
        entry["identitytoken"] = json!(c.identity_token);
    }
    auths.insert(server.to_string(), entry);
    write_config(&cfg)
}

/// The auth JSON the daemon reads (`X-Registry-Auth`, `/auth`, a build's config).
fn auth_json(c: &Stored, server: &str) -> Value {
    let mut v = json!({ "username": c.username, "password": c.password, "serveraddress": server });
    if !c.identity_token.is_empty() {
        v["identitytoken"] = json!(c.identity_token);
    }
    v
}

/// Whether an entry was there.
pub fn erase(server: &str) -> anyhow::Result<bool> {
    let mut cfg = read_config()?;
    if let Some(helper) = helper_for(&cfg, server) {
        run_helper(&helper, "erase", server)?;
    }
    let removed = cfg.get_mut("auths").and_then(Value::as_object_mut).and_then(|a| a.remove(server)).is_some();
    if removed {
        write_config(&cfg)?;
    }
    Ok(removed)
}

/// `X-Registry-Auth` for a pull from `host`: base64url of the auth JSON.
pub fn registry_auth_header(host: &str) -> Option<String> {
    let body = auth_json(&lookup(host)?, &server_key(host));
    Some(base64::engine::general_purpose::URL_SAFE.encode(body.to_string()))
}

/// `X-Registry-Config` for a build: every server the config file knows,
/// with its stored credentials (the daemon picks the one a FROM needs), as
/// the docker CLI sends it. `None` when there are none.
pub fn registry_config_header() -> Option<String> {
    let cfg = read_config().ok()?;
    let servers: Vec<String> = cfg.get("auths")?.as_object()?.keys().cloned().collect();
    let mut out = Map::new();
    for s in servers {
        let host = s.trim_start_matches("https://").trim_start_matches("http://").split('/').next().unwrap_or("").to_string();
        let host = if s == HUB_SERVER { "docker.io".to_string() } else { host };
        if let Some(c) = lookup(&host) {
            out.insert(s.clone(), auth_json(&c, &s));
        }
    }
    if out.is_empty() {
        return None;
    }
    Some(base64::engine::general_purpose::URL_SAFE.encode(Value::Object(out).to_string()))
}
