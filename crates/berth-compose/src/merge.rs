//! Compose's merge rules for several files (`-f a -f b`, override files)
//! and for `extends`: mappings merge key by key, sequences append, scalars
//! are replaced; `command`, `entrypoint` and `healthcheck.test` are
//! replaced whole; `ports`, `volumes`, `secrets` and `configs` are unique by
//! their key and an override replaces the entry with the same key. A
//! `!reset` entry removes what came before, an `!override` one replaces it
//! without merging (see `tags`). Works on the long forms `normalize`
//! produces.

use serde_json::Value;

/// Merges `over` onto `base` (the later file wins).
pub fn merge(base: Value, over: Value) -> Value {
    merge_at(base, over, &mut Vec::new())
}

/// Merges one service definition onto another (for `extends`).
pub fn merge_service(base: Value, over: Value) -> Value {
    let mut path = vec!["services".to_string(), "_".to_string()];
    merge_at(base, over, &mut path)
}

fn merge_at(base: Value, over: Value, path: &mut Vec<String>) -> Value {
    match (base, over) {
        (Value::Object(mut b), Value::Object(o)) => {
            for (k, ov) in o {
                if crate::tags::is_reset(&ov) {
                    b.remove(&k);
                    continue;
                }
                let ov = match crate::tags::take_override(ov) {
                    Ok(replacement) => {
                        b.insert(k, replacement);
                        continue;
                    }
                    Err(ov) => ov,
                };
                let merged = match b.remove(&k) {
                    Some(bv) => {
                        path.push(k.clone());
                        let m = merge_at(bv, ov, path);
                        path.pop();
                        m
                    }
                    None => ov,
                };
                b.insert(k, merged);
            }
            Value::Object(b)
        }
        (Value::Array(b), Value::Array(o)) => merge_seq(b, o, path),
        (_, over) => over,
    }
}

fn merge_seq(base: Vec<Value>, over: Vec<Value>, path: &[String]) -> Value {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["services", _, "command" | "entrypoint"] | ["services", _, "healthcheck", "test"] => {
            Value::Array(over)
        }
        ["services", _, "ports"] => unique(base, over, port_key),
        ["services", _, "volumes"] => unique(base, over, |v| {
            v.get("target").cloned().unwrap_or(Value::Null)
        }),
        ["services", _, "secrets" | "configs"] => unique(base, over, |v| {
            v.get("target")
                .or_else(|| v.get("source"))
                .cloned()
                .unwrap_or(Value::Null)
        }),
        _ => {
            let mut out = base;
            for v in over {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            Value::Array(out)
        }
    }
}

fn port_key(v: &Value) -> Value {
    serde_json::json!([
        v.get("host_ip"),
        v.get("target"),
        v.get("published"),
        v.get("protocol")
    ])
}

fn unique(base: Vec<Value>, over: Vec<Value>, key: impl Fn(&Value) -> Value) -> Value {
    let mut out = base;
    for v in over {
        let k = key(&v);
        match out.iter().position(|e| key(e) == k) {
            Some(i) => out[i] = v,
            None => out.push(v),
        }
    }
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mappings_merge_and_scalars_override() {
        let a = json!({"services": {"foo": {"key1": "v1", "key2": "v2", "environment": {"A": "1", "B": "1"}}}});
        let b =
            json!({"services": {"foo": {"key2": "V", "key3": "v3", "environment": {"B": "2"}}}});
        assert_eq!(
            merge(a, b),
            json!({"services": {"foo": {"key1": "v1", "key2": "V", "key3": "v3", "environment": {"A": "1", "B": "2"}}}})
        );
    }

    #[test]
    fn sequences_append_without_duplicates() {
        let a = json!({"services": {"foo": {"dns": ["1.1.1.1"], "cap_add": ["NET_ADMIN"]}}});
        let b = json!({"services": {"foo": {"dns": ["8.8.8.8"], "cap_add": ["NET_ADMIN"]}}});
        let m = merge(a, b);
        assert_eq!(m["services"]["foo"]["dns"], json!(["1.1.1.1", "8.8.8.8"]));
        assert_eq!(m["services"]["foo"]["cap_add"], json!(["NET_ADMIN"]));
    }

    #[test]
    fn shell_commands_are_replaced() {
        let a = json!({"services": {"foo": {"command": ["echo", "foo"], "healthcheck": {"test": ["CMD", "a"], "retries": 3}}}});
        let b = json!({"services": {"foo": {"command": ["echo", "bar"], "healthcheck": {"test": ["CMD", "b"]}}}});
        let m = merge(a, b);
        assert_eq!(m["services"]["foo"]["command"], json!(["echo", "bar"]));
        assert_eq!(
            m["services"]["foo"]["healthcheck"],
            json!({"test": ["CMD", "b"], "retries": 3})
        );
    }

    #[test]
    fn unique_resources() {
        let a = json!({"services": {"foo": {
            "volumes": [{"type": "volume", "source": "foo", "target": "/work"}],
            "ports": [{"target": 80, "published": "8080", "protocol": "tcp", "mode": "ingress"}],
            "secrets": [{"source": "a"}]}}});
        let b = json!({"services": {"foo": {
            "volumes": [{"type": "volume", "source": "bar", "target": "/work"}, {"type": "volume", "target": "/x"}],
            "ports": [{"target": 80, "published": "8080", "protocol": "tcp", "mode": "host"}, {"target": 81, "protocol": "tcp", "mode": "ingress"}],
            "secrets": [{"source": "a", "mode": 288}, {"source": "b"}]}}});
        let m = merge(a, b);
        let f = &m["services"]["foo"];
        assert_eq!(
            f["volumes"],
            json!([{"type": "volume", "source": "bar", "target": "/work"}, {"type": "volume", "target": "/x"}])
        );
        assert_eq!(f["ports"].as_array().unwrap().len(), 2);
        assert_eq!(f["ports"][0]["mode"], json!("host"));
        assert_eq!(
            f["secrets"],
            json!([{"source": "a", "mode": 288}, {"source": "b"}])
        );
    }

    #[test]
    fn extends_merge_keeps_base_first() {
        let base =
            json!({"image": "busybox", "environment": {"TZ": "utc", "PORT": "80"}, "dns": ["a"]});
        let over = json!({"environment": {"PORT": "8080"}, "dns": ["b"]});
        assert_eq!(
            merge_service(base, over),
            json!({"image": "busybox", "environment": {"TZ": "utc", "PORT": "8080"}, "dns": ["a", "b"]})
        );
    }
}
