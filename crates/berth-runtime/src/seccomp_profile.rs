//! A seccomp profile in Docker's JSON format (`--security-opt seccomp=FILE`)
//! turned into the OCI `linux.seccomp` object: the architecture map
//! resolved for this host, and each rule kept or dropped by its
//! `includes`/`excludes` conditions (capabilities, architectures, kernel).

use crate::RuntimeError;
use serde_json::{json, Map, Value};

/// libseccomp's name of this host's native architecture, and Go's name for it
/// (Docker profiles use the latter in `includes.arches`).
fn native_arch() -> (&'static str, &'static str) {
    if cfg!(target_arch = "aarch64") {
        ("SCMP_ARCH_AARCH64", "arm64")
    } else {
        ("SCMP_ARCH_X86_64", "amd64")
    }
}

fn bad(msg: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::SecurityOpt(format!("Decoding seccomp profile failed: {msg}"))
}

fn strings(v: Option<&Value>, what: &str) -> Result<Vec<String>, RuntimeError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(String::from).ok_or_else(|| bad(format!("{what}: expected strings"))))
            .collect(),
        Some(_) => Err(bad(format!("{what}: expected a list"))),
    }
}

/// The running kernel's (major, minor), for `minKernel` conditions.
pub fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    parse_kernel(&release).unwrap_or((0, 0))
}

fn parse_kernel(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.trim().split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// Whether a rule's `includes` (all must hold) or `excludes` (none may hold) apply.
fn condition_holds(cond: Option<&Value>, caps: &[String], kernel: (u32, u32), all: bool) -> Result<bool, RuntimeError> {
    let Some(cond) = cond.filter(|c| !c.is_null()) else { return Ok(all) };
    let arch = native_arch().1;
    let mut checks: Vec<bool> = Vec::new();
    for c in strings(cond.get("caps"), "caps")? {
        checks.push(caps.contains(&c));
    }
    let arches = strings(cond.get("arches"), "arches")?;
    if !arches.is_empty() {
        checks.push(arches.iter().any(|a| a == arch));
    }
    if let Some(min) = cond.get("minKernel").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        let min = parse_kernel(min).ok_or_else(|| bad(format!("invalid minKernel {min:?}")))?;
        checks.push(kernel >= min);
    }
    Ok(if all { checks.iter().all(|c| *c) } else { checks.iter().any(|c| *c) })
}

/// Translates `profile` for a container holding `caps` on a kernel `kernel`.
pub fn to_oci(profile: &Value, caps: &[String], kernel: (u32, u32)) -> Result<Value, RuntimeError> {
    let default_action = profile
        .get("defaultAction")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("defaultAction is missing"))?;
    let mut architectures = strings(profile.get("architectures"), "architectures")?;
    if architectures.is_empty() {
        let native = native_arch().0;
        for entry in profile.get("archMap").and_then(Value::as_array).into_iter().flatten() {
            if entry.get("architecture").and_then(Value::as_str) == Some(native) {
                architectures.push(native.to_string());
                architectures.extend(strings(entry.get("subArchitectures"), "subArchitectures")?);
            }
        }
    }
    let mut syscalls = Vec::new();
    let rules = match profile.get("syscalls") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err(bad("syscalls: expected a list")),
    };
    for rule in rules {
        if !condition_holds(rule.get("includes"), caps, kernel, true)?
            || condition_holds(rule.get("excludes"), caps, kernel, false)?
        {
            continue;
        }
        let mut names = strings(rule.get("names"), "names")?;
        if let Some(name) = rule.get("name").and_then(Value::as_str) {
            names.push(name.to_string());
        }
        let action = rule.get("action").and_then(Value::as_str).ok_or_else(|| bad("a syscall rule has no action"))?;
        if names.is_empty() {
            continue;
        }
        let mut out = Map::new();
        out.insert("names".into(), json!(names));
        out.insert("action".into(), json!(action));
        for key in ["errnoRet", "args"] {
            if let Some(v) = rule.get(key).filter(|v| !v.is_null()) {
                out.insert(key.into(), v.clone());
            }
        }
        syscalls.push(Value::Object(out));
    }
    let mut oci = json!({
        "defaultAction": default_action,
        "architectures": architectures,
        "syscalls": syscalls,
    });
    for key in ["defaultErrnoRet", "flags", "listenerPath", "listenerMetadata"] {
        if let Some(v) = profile.get(key).filter(|v| !v.is_null()) {
            oci[key] = v.clone();
        }
    }
    Ok(oci)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_arch_map_and_conditions() {
        let p = json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,
            "archMap": [
                {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
            ],
            "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]},
                 "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
                {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
                {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
            ]
        });
        let plain = to_oci(&p, &[], (6, 1)).unwrap();
        let names: Vec<&str> = plain["syscalls"].as_array().unwrap().iter().map(|r| r["names"][0].as_str().unwrap()).collect();
        assert_eq!(names, ["read", "clone", "ptrace", "mkdir"]);
        assert_eq!(plain["syscalls"][3]["errnoRet"], 13);
        assert_eq!(plain["defaultErrnoRet"], 1);
        if cfg!(target_arch = "x86_64") {
            assert_eq!(plain["architectures"], json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]));
        }
        let admin = to_oci(&p, &["CAP_SYS_ADMIN".to_string()], (4, 4)).unwrap();
        let names: Vec<&str> = admin["syscalls"].as_array().unwrap().iter().map(|r| r["names"][0].as_str().unwrap()).collect();
        assert_eq!(names, ["read", "mount", "mkdir"]);
    }

    #[test]
    fn refuses_malformed_profiles() {
        assert!(to_oci(&json!({}), &[], (6, 1)).is_err());
        assert!(to_oci(&json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": 3}), &[], (6, 1)).is_err());
        assert!(to_oci(&json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"]}]}), &[], (6, 1)).is_err());
        assert!(to_oci(&json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [1], "action": "SCMP_ACT_ALLOW"}]}), &[], (6, 1)).is_err());
        assert_eq!(parse_kernel("6.1.0-18-amd64\n"), Some((6, 1)));
    }
}
