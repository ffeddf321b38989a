//! Checks the seccomp table against Docker's reference profile.

use super::*;
use crate::caps::{ALL_CAPABILITIES, DEFAULT_CAPABILITIES};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn reference() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/seccomp-default.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the reference seccomp profile {} is missing or unreadable ({e}); \
             this test needs it and does not skip",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Does a moby rule apply on amd64 for this capability set? (moby's own semantics.)
fn applies(rule: &Value, caps: &[String]) -> bool {
    let arch = "amd64";
    let inc = &rule["includes"];
    let exc = &rule["excludes"];
    let inc_arches = strings(&inc["arches"]);
    if !inc_arches.is_empty() && !inc_arches.iter().any(|a| a == arch) {
        return false;
    }
    if !strings(&inc["caps"]).iter().all(|c| caps.contains(c)) {
        return false;
    }
    // minKernel: every minimum in the profile (4.8) is below what we run on.
    if strings(&exc["arches"]).iter().any(|a| a == arch) {
        return false;
    }
    if strings(&exc["caps"]).iter().any(|c| caps.contains(c)) {
        return false;
    }
    true
}

/// A rule as a comparable string: sorted names, action, errno and arguments.
fn normalize(rule: &Value) -> String {
    let mut names = strings(&rule["names"]);
    names.sort();
    let args: Vec<String> = rule["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    let two = x["valueTwo"].as_u64().unwrap_or(0);
                    format!("{}:{}:{}:{}", x["index"], x["value"], two, x["op"])
                })
                .collect()
        })
        .unwrap_or_default();
    let errno = rule["errnoRet"]
        .as_u64()
        .map(|e| e.to_string())
        .unwrap_or_default();
    format!("{names:?} {} {errno} {args:?}", rule["action"])
}

fn reference_rules(reference: &Value, caps: &[String]) -> Vec<Value> {
    reference["syscalls"]
        .as_array()
        .expect("reference has a syscalls array")
        .iter()
        .filter(|r| applies(r, caps))
        .cloned()
        .collect()
}

/// Names allowed with no argument condition.
fn unconditional(rules: &[Value]) -> BTreeSet<String> {
    rules
        .iter()
        .filter(|r| {
            r["action"] == "SCMP_ACT_ALLOW" && r["args"].as_array().is_none_or(|a| a.is_empty())
        })
        .flat_map(|r| strings(&r["names"]))
        .collect()
}

fn default_caps() -> Vec<String> {
    DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect()
}

#[test]
fn unconditional_names_match_reference_for_default_caps() {
    let reference = reference();
    let caps = default_caps();
    let want = unconditional(&reference_rules(&reference, &caps));
    let ours = default_profile(&caps);
    let got = unconditional(ours["syscalls"].as_array().expect("syscalls array"));
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "allowed syscalls differ from the reference: missing {missing:?}, extra {extra:?}"
    );
    assert!(got.contains("chroot") && !got.contains("mount") && !got.contains("clone"));
}

#[test]
fn every_rule_matches_reference_for_several_cap_sets() {
    let reference = reference();
    let all: Vec<String> = ALL_CAPABILITIES.iter().map(|c| c.to_string()).collect();
    let sets = [
        default_caps(),
        all,
        vec!["CAP_SYS_ADMIN".to_string()],
        Vec::new(),
    ];
    for caps in sets {
        let mut want: Vec<String> = reference_rules(&reference, &caps)
            .iter()
            .map(normalize)
            .collect();
        let ours = default_profile(&caps);
        let mut got: Vec<String> = ours["syscalls"]
            .as_array()
            .expect("syscalls array")
            .iter()
            .map(normalize)
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "rules differ for caps {caps:?}");
    }
}

#[test]
fn profile_header_matches_reference() {
    let reference = reference();
    let ours = default_profile(&default_caps());
    assert_eq!(ours["defaultAction"], reference["defaultAction"]);
    assert_eq!(ours["defaultErrnoRet"], reference["defaultErrnoRet"]);
    let x86 = reference["archMap"]
        .as_array()
        .and_then(|m| m.iter().find(|a| a["architecture"] == "SCMP_ARCH_X86_64"))
        .expect("reference maps SCMP_ARCH_X86_64");
    let mut want = vec!["SCMP_ARCH_X86_64".to_string()];
    want.extend(strings(&x86["subArchitectures"]));
    assert_eq!(strings(&ours["architectures"]), want);
}

#[test]
fn clone_is_restricted_without_sys_admin() {
    let ours = default_profile(&default_caps());
    let rules = ours["syscalls"].as_array().expect("syscalls array");
    let clone = rules
        .iter()
        .find(|r| strings(&r["names"]) == ["clone"])
        .expect("a clone rule");
    assert_eq!(clone["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
    assert_eq!(clone["args"][0]["value"], 2114060288u64);
    let clone3 = rules
        .iter()
        .find(|r| strings(&r["names"]) == ["clone3"])
        .expect("clone3");
    assert_eq!(clone3["errnoRet"], 38);
}
