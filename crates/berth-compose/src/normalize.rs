//! Short syntax to long syntax, per file, before files are merged: the merge
//! rules (unique volume targets, port keys, mapping-wise environment) work
//! on the long forms, and relative paths resolve against the directory of
//! the file that wrote them (an `include`d file's, not the project's).

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::error::{ComposeError, Result};
use crate::shell::split_command;

/// Where relative paths of one file resolve, and its name for errors.
pub struct FileContext<'a> {
    pub file: &'a str,
    pub dir: &'a Path,
    pub home: Option<&'a Path>,
}

impl FileContext<'_> {
    /// `~` and relative paths to absolute ones (lexically, like Compose).
    pub fn abs(&self, p: &str) -> String {
        let path = if let (Some(rest), Some(home)) = (p.strip_prefix('~'), self.home) {
            home.join(rest.trim_start_matches('/'))
        } else {
            self.dir.join(p)
        };
        clean(&path).display().to_string()
    }

    fn err(&self, m: String) -> ComposeError {
        ComposeError::invalid(self.file, m)
    }
}

/// Lexical cleaning of `.` and `..` components.
pub fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Normalises every service and top-level resource of a parsed file.
pub fn normalize_file(root: &mut Value, ctx: &FileContext) -> Result<()> {
    let Some(top) = root.as_object_mut() else {
        return Err(ctx.err("top-level object must be a mapping".into()));
    };
    strip_extensions(top);
    if let Some(services) = top.get_mut("services") {
        match services {
            Value::Object(map) => {
                for (name, svc) in map.iter_mut() {
                    if svc.is_null() {
                        *svc = json!({});
                    }
                    let Some(s) = svc.as_object_mut() else {
                        return Err(ctx.err(format!("services.{name} must be a mapping")));
                    };
                    normalize_service(name, s, ctx)?;
                }
            }
            Value::Null => *services = json!({}),
            _ => return Err(ctx.err("services must be a mapping".into())),
        }
    }
    for kind in ["networks", "volumes", "secrets", "configs"] {
        let Some(Value::Object(map)) = top.get_mut(kind) else {
            continue;
        };
        for (name, res) in map.iter_mut() {
            if res.is_null() {
                *res = json!({});
            }
            let Some(r) = res.as_object_mut() else {
                continue;
            };
            strip_extensions(r);
            // Legacy `external: {name: x}`.
            if let Some(Value::Object(ext)) = r.get("external").cloned() {
                r.insert("external".into(), Value::Bool(true));
                if let Some(n) = ext.get("name") {
                    r.insert("name".into(), n.clone());
                }
            }
            if let Some(Value::String(f)) = r.get("file") {
                let f = ctx.abs(f);
                r.insert("file".into(), Value::String(f));
            }
            for key in ["labels", "driver_opts"] {
                if let Some(v) = r.get_mut(key) {
                    list_or_dict(v, &format!("{kind}.{name}.{key}"), '=', ctx)?;
                    null_to_empty(v);
                }
            }
            if name.is_empty() {
                return Err(ctx.err(format!("{kind} must have non-empty names")));
            }
        }
    }
    Ok(())
}

/// `x-` keys are for the user's own use (anchors, tooling); they are not
/// part of the model.
fn strip_extensions(m: &mut Map<String, Value>) {
    m.retain(|k, _| !k.starts_with("x-"));
}

fn normalize_service(name: &str, s: &mut Map<String, Value>, ctx: &FileContext) -> Result<()> {
    strip_extensions(s);
    let p = |k: &str| format!("services.{name}.{k}");
    if let Some(b) = s.get_mut("build") {
        if let Value::String(c) = b {
            *b = json!({ "context": c.clone() });
        }
        if let Value::Object(bm) = b {
            strip_extensions(bm);
            let ctxdir = match bm.get("context") {
                Some(Value::String(c)) if is_remote(c) => c.clone(),
                Some(Value::String(c)) => ctx.abs(c),
                _ => ctx.abs("."),
            };
            bm.insert("context".into(), Value::String(ctxdir));
            if !bm.contains_key("dockerfile_inline") {
                bm.entry("dockerfile").or_insert(json!("Dockerfile"));
            }
            for key in ["args", "labels"] {
                if let Some(v) = bm.get_mut(key) {
                    list_or_dict(v, &p(&format!("build.{key}")), '=', ctx)?;
                    if key == "labels" {
                        null_to_empty(v);
                    }
                }
            }
            if let Some(v) = bm.get_mut("cache_from") {
                string_or_list(v);
            }
        }
    }
    for key in ["command", "entrypoint"] {
        if let Some(Value::String(c)) = s.get(key) {
            let parts = split_command(c).map_err(|e| ctx.err(format!("{}: {e}", p(key))))?;
            s.insert(key.into(), json!(parts));
        }
    }
    if let Some(v) = s.get_mut("environment") {
        list_or_dict(v, &p("environment"), '=', ctx)?;
    }
    for key in ["labels", "sysctls"] {
        if let Some(v) = s.get_mut(key) {
            list_or_dict(v, &p(key), '=', ctx)?;
            null_to_empty(v);
        }
    }
    if let Some(v) = s.get_mut("extra_hosts") {
        extra_hosts(v, &p("extra_hosts"), ctx)?;
    }
    for key in ["dns", "dns_search", "tmpfs", "env_file"] {
        if let Some(v) = s.get_mut(key) {
            string_or_list(v);
        }
    }
    if let Some(Value::Array(files)) = s.get_mut("env_file") {
        for f in files.iter_mut() {
            if let Value::String(path) = f {
                *f = json!({ "path": path.clone(), "required": true });
            }
            if let Value::Object(m) = f {
                if let Some(Value::String(path)) = m.get("path") {
                    let a = ctx.abs(path);
                    m.insert("path".into(), Value::String(a));
                }
                m.entry("required").or_insert(Value::Bool(true));
            }
        }
    }
    if let Some(Value::Array(ports)) = s.get_mut("ports") {
        let mut out = Vec::new();
        for port in ports.drain(..) {
            out.extend(
                crate::ports::normalize(port)
                    .map_err(|e| ctx.err(format!("{}: {e}", p("ports"))))?,
            );
        }
        *ports = out;
    }
    if let Some(Value::Array(expose)) = s.get_mut("expose") {
        for e in expose.iter_mut() {
            if let Value::Number(n) = e {
                *e = Value::String(n.to_string());
            }
        }
    }
    if let Some(Value::Array(vols)) = s.get_mut("volumes") {
        for (i, v) in vols.iter().enumerate() {
            if let Some(t @ ("image" | "npipe" | "cluster")) = v.get("type").and_then(Value::as_str)
            {
                return Err(ComposeError::Unsupported {
                    file: ctx.file.to_string(),
                    path: format!("{}[{i}].type", p("volumes")),
                    key: format!("type: {t}"),
                });
            }
        }
        for v in vols.iter_mut() {
            crate::volumes::normalize(v, ctx)
                .map_err(|e| ctx.err(format!("{}: {e}", p("volumes"))))?;
        }
    }
    if let Some(n) = s.get_mut("networks") {
        if let Value::Array(list) = n {
            let mut m = Map::new();
            for item in list.iter() {
                let Value::String(net) = item else {
                    return Err(ctx.err(format!("{} must be a list of strings", p("networks"))));
                };
                m.insert(net.clone(), Value::Null);
            }
            *n = Value::Object(m);
        }
    }
    if let Some(d) = s.get_mut("depends_on") {
        if let Value::Array(list) = d {
            let mut m = Map::new();
            for item in list.iter() {
                let Value::String(dep) = item else {
                    return Err(ctx.err(format!("{} must be a list of strings", p("depends_on"))));
                };
                m.insert(
                    dep.clone(),
                    json!({"condition": "service_started", "required": true}),
                );
            }
            *d = Value::Object(m);
        } else if let Value::Object(m) = d {
            for dep in m.values_mut() {
                if let Value::Object(dm) = dep {
                    strip_extensions(dm);
                    dm.entry("required").or_insert(Value::Bool(true));
                }
            }
        }
    }
    for key in ["secrets", "configs"] {
        if let Some(Value::Array(list)) = s.get_mut(key) {
            for item in list.iter_mut() {
                if let Value::String(src) = item {
                    *item = json!({ "source": src.clone() });
                }
            }
        }
    }
    if let Some(Value::Object(h)) = s.get_mut("healthcheck") {
        strip_extensions(h);
        if let Some(Value::String(t)) = h.get("test") {
            let t = json!(["CMD-SHELL", t.clone()]);
            h.insert("test".into(), t);
        }
    }
    if let Some(Value::Object(l)) = s.get_mut("logging") {
        if let Some(o) = l.get_mut("options") {
            list_or_dict(o, &p("logging.options"), '=', ctx)?;
        }
    }
    if let Some(Value::String(e)) = s.get("extends") {
        let e = json!({ "service": e.clone() });
        s.insert("extends".into(), e);
    }
    if let Some(Value::Object(e)) = s.get_mut("extends") {
        if let Some(Value::String(f)) = e.get("file") {
            let f = ctx.abs(f);
            e.insert("file".into(), Value::String(f));
        }
    }
    Ok(())
}

/// Labels are strings: `labels: [a]` is `a=""`.
fn null_to_empty(v: &mut Value) {
    if let Value::Object(m) = v {
        for val in m.values_mut() {
            if val.is_null() {
                *val = Value::String(String::new());
            }
        }
    }
}

fn is_remote(context: &str) -> bool {
    context.contains("://") || context.starts_with("git@") || context.starts_with("github.com/")
}

fn string_or_list(v: &mut Value) {
    if let Value::String(s) = v {
        *v = json!([s.clone()]);
    }
}

fn scalar_string(v: &Value) -> Option<Value> {
    match v {
        Value::Null => Some(Value::Null),
        Value::String(s) => Some(Value::String(s.clone())),
        Value::Number(n) => Some(Value::String(n.to_string())),
        Value::Bool(b) => Some(Value::String(b.to_string())),
        _ => None,
    }
}

/// A list of `KEY=VALUE` (or a bare `KEY`, value null) or a mapping, to a
/// mapping of strings (or null).
fn list_or_dict(v: &mut Value, path: &str, sep: char, ctx: &FileContext) -> Result<()> {
    let mut out = Map::new();
    match v {
        Value::Array(items) => {
            for item in items.iter() {
                let Some(Value::String(s)) = scalar_string(item) else {
                    return Err(ctx.err(format!("{path} must be a list of strings")));
                };
                match s.split_once(sep) {
                    Some((k, val)) => out.insert(k.to_string(), Value::String(val.to_string())),
                    None => out.insert(s.clone(), Value::Null),
                };
            }
        }
        Value::Object(m) => {
            for (k, val) in m.iter() {
                let Some(sv) = scalar_string(val) else {
                    return Err(ctx.err(format!(
                        "{path}.{k} must be a string, number, boolean or null"
                    )));
                };
                out.insert(k.clone(), sv);
            }
        }
        _ => return Err(ctx.err(format!("{path} must be a mapping or a list"))),
    }
    *v = Value::Object(out);
    Ok(())
}

/// `host:ip` / `host=ip` list or mapping → mapping host → ip.
fn extra_hosts(v: &mut Value, path: &str, ctx: &FileContext) -> Result<()> {
    if let Value::Array(items) = v {
        let mut out = Map::new();
        for item in items.iter() {
            let Value::String(s) = item else {
                return Err(ctx.err(format!("{path} must be a list of strings")));
            };
            let (h, ip) = s
                .split_once('=')
                .or_else(|| s.split_once(':'))
                .ok_or_else(|| {
                    ctx.err(format!(
                        "{path}: invalid extra host {s:?}: expected HOST=IP or HOST:IP"
                    ))
                })?;
            out.insert(
                h.to_string(),
                Value::String(ip.trim_matches(|c| c == '[' || c == ']').to_string()),
            );
        }
        *v = Value::Object(out);
        return Ok(());
    }
    list_or_dict(v, path, '=', ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(yaml: &str) -> Value {
        let mut v = crate::yaml::parse("f", yaml).unwrap();
        let ctx = FileContext {
            file: "f",
            dir: Path::new("/proj"),
            home: Some(Path::new("/home/u")),
        };
        normalize_file(&mut v, &ctx).unwrap();
        v
    }

    #[test]
    fn short_forms_become_long() {
        let v = norm(
            "services:\n  web:\n    build: ./app\n    command: sh -c 'echo hi'\n    environment: [A=1, B]\n    labels: {n: 1}\n    networks: [front]\n    depends_on: [db]\n    secrets: [s]\n    healthcheck: {test: curl x}\n    env_file: .env.web\n    dns: 1.1.1.1\n    extra_hosts: ['h:10.0.0.1']\n    x-mine: 1\n",
        );
        let w = &v["services"]["web"];
        assert_eq!(
            w["build"],
            json!({"context": "/proj/app", "dockerfile": "Dockerfile"})
        );
        assert_eq!(w["command"], json!(["sh", "-c", "echo hi"]));
        assert_eq!(w["environment"], json!({"A": "1", "B": null}));
        assert_eq!(w["labels"], json!({"n": "1"}));
        assert_eq!(w["networks"], json!({"front": null}));
        assert_eq!(
            w["depends_on"],
            json!({"db": {"condition": "service_started", "required": true}})
        );
        assert_eq!(w["secrets"], json!([{"source": "s"}]));
        assert_eq!(w["healthcheck"]["test"], json!(["CMD-SHELL", "curl x"]));
        assert_eq!(
            w["env_file"],
            json!([{"path": "/proj/.env.web", "required": true}])
        );
        assert_eq!(w["dns"], json!(["1.1.1.1"]));
        assert_eq!(w["extra_hosts"], json!({"h": "10.0.0.1"}));
        assert!(w.get("x-mine").is_none());
    }

    #[test]
    fn paths_resolve_against_the_file_dir_and_home() {
        let ctx = FileContext {
            file: "f",
            dir: Path::new("/a/b"),
            home: Some(Path::new("/h")),
        };
        assert_eq!(ctx.abs("../c/./d"), "/a/c/d");
        assert_eq!(ctx.abs("~/x"), "/h/x");
        assert_eq!(ctx.abs("/abs"), "/abs");
    }

    #[test]
    fn top_level_resources() {
        let v = norm("networks:\n  n:\n  e:\n    external:\n      name: real\nsecrets:\n  s:\n    file: ./s.txt\n");
        assert_eq!(v["networks"]["n"], json!({}));
        assert_eq!(
            v["networks"]["e"],
            json!({"external": true, "name": "real"})
        );
        assert_eq!(v["secrets"]["s"]["file"], json!("/proj/s.txt"));
    }
}
