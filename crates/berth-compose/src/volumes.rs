//! Service `volumes:` entries, short syntax (`[SOURCE:]TARGET[:MODE]`) and
//! long syntax, to the long form Compose prints. A short source that starts
//! with `/`, `.` or `~` is a bind mount (created if missing, as Compose's
//! short syntax does); any other source names a volume; none is an
//! anonymous volume.

use serde_json::{json, Map, Value};

use crate::normalize::FileContext;

pub fn normalize(v: &mut Value, ctx: &FileContext) -> Result<(), String> {
    match v {
        Value::String(s) => {
            *v = short(s, ctx)?;
            Ok(())
        }
        Value::Object(m) => {
            m.retain(|k, _| !k.starts_with("x-"));
            let ty = m
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if ty == "bind" {
                if let Some(Value::String(src)) = m.get("source") {
                    let a = ctx.abs(src);
                    m.insert("source".into(), Value::String(a));
                }
            }
            Ok(())
        }
        other => Err(format!("invalid volume {other}")),
    }
}

fn is_path(s: &str) -> bool {
    s.starts_with('/') || s.starts_with('.') || s.starts_with('~')
}

fn short(s: &str, ctx: &FileContext) -> Result<Value, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, *t, None),
        [a, b] if b.starts_with('/') => (Some(*a), *b, None),
        [t, m] => (None, *t, Some(*m)),
        [a, b, m] => (Some(*a), *b, Some(*m)),
        _ => return Err(format!("invalid spec: {s}: too many colons")),
    };
    if target.is_empty() || !target.starts_with('/') {
        return Err(format!(
            "invalid spec: {s}: the container path must be absolute"
        ));
    }
    let mut m = Map::new();
    let mut read_only = false;
    let mut bind_opts = Map::new();
    let mut vol_opts = Map::new();
    for opt in mode
        .unwrap_or_default()
        .split(',')
        .filter(|o| !o.is_empty())
    {
        match opt {
            "ro" => read_only = true,
            "rw" => {}
            "z" | "Z" => {
                bind_opts.insert("selinux".into(), json!(opt));
            }
            "nocopy" => {
                vol_opts.insert("nocopy".into(), json!(true));
            }
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" => {
                bind_opts.insert("propagation".into(), json!(opt));
            }
            other => return Err(format!("invalid spec: {s}: unknown mode {other:?}")),
        }
    }
    match source {
        Some(src) if is_path(src) => {
            m.insert("type".into(), json!("bind"));
            m.insert("source".into(), json!(ctx.abs(src)));
            m.insert("target".into(), json!(target));
            if read_only {
                m.insert("read_only".into(), json!(true));
            }
            bind_opts.insert("create_host_path".into(), json!(true));
            m.insert("bind".into(), Value::Object(bind_opts));
        }
        Some("") => return Err(format!("invalid spec: {s}: empty section between colons")),
        src => {
            m.insert("type".into(), json!("volume"));
            if let Some(src) = src {
                m.insert("source".into(), json!(src));
            }
            m.insert("target".into(), json!(target));
            if read_only {
                m.insert("read_only".into(), json!(true));
            }
            if !bind_opts.is_empty() {
                return Err(format!("invalid spec: {s}: bind options on a volume"));
            }
            m.insert("volume".into(), Value::Object(vol_opts));
        }
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn n(v: Value) -> Result<Value, String> {
        let ctx = FileContext {
            file: "f",
            dir: Path::new("/p"),
            home: None,
        };
        let mut v = v;
        normalize(&mut v, &ctx)?;
        Ok(v)
    }

    #[test]
    fn short_forms() {
        assert_eq!(
            n(json!("/data")).unwrap(),
            json!({"type":"volume","target":"/data","volume":{}})
        );
        assert_eq!(
            n(json!("db:/var/lib/db:ro")).unwrap(),
            json!({"type":"volume","source":"db","target":"/var/lib/db","read_only":true,"volume":{}})
        );
        assert_eq!(
            n(json!("./src:/app")).unwrap(),
            json!({"type":"bind","source":"/p/src","target":"/app","bind":{"create_host_path":true}})
        );
        assert_eq!(
            n(json!("/host:/c:rw,Z")).unwrap()["bind"]["selinux"],
            json!("Z")
        );
        assert_eq!(
            n(json!("v:/c:nocopy")).unwrap()["volume"],
            json!({"nocopy": true})
        );
    }

    #[test]
    fn long_form_bind_source_resolves() {
        let v = n(json!({"type":"bind","source":"../x","target":"/x"})).unwrap();
        assert_eq!(v["source"], json!("/x"));
    }

    #[test]
    fn bad_specs() {
        for bad in ["a:b:c:d", "rel", "v:/c:bogus", "v:/c:z", ":/c"] {
            assert!(n(json!(bad)).is_err(), "{bad}");
        }
    }
}
