//! The kernel side of [`Firewall`]: iptables for IPv4, ip6tables for the
//! IPv6 networks, through `*-restore --noflush` scripts. Each family has
//! the daemon's own chains, reached by one jump from each built-in chain.

use crate::firewall::{restore_script, Chains, Firewall, Rule};
use crate::NetError;
use std::io::Write;
use std::process::{Command, Stdio};

/// The real thing: the iptables commands.
pub struct Iptables;

/// The two command families.
#[derive(Clone, Copy)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn cmd(self) -> &'static str {
        match self {
            Family::V4 => "iptables",
            Family::V6 => "ip6tables",
        }
    }
    fn restore(self) -> &'static str {
        match self {
            Family::V4 => "iptables-restore",
            Family::V6 => "ip6tables-restore",
        }
    }
    fn of(r: &Rule) -> Family {
        if r.v6 {
            Family::V6
        } else {
            Family::V4
        }
    }
}

pub(crate) fn run(cmd: &str, args: &[&str], input: Option<&str>) -> Result<(), NetError> {
    let label = format!("{cmd} {}", args.join(" "));
    let _guard = crate::exec::command_lock();
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NetError::io(format!("running {label} (is iptables installed?)")))?;
    if let (Some(mut w), Some(text)) = (child.stdin.take(), input) {
        w.write_all(text.as_bytes()).map_err(NetError::io(label.clone()))?;
    }
    let out = child.wait_with_output().map_err(NetError::io(label.clone()))?;
    if out.status.success() {
        Ok(())
    } else {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Err(NetError::Command { cmd: format!("{label} {}", input.unwrap_or("")), msg })
    }
}

fn restore(f: Family, script: &str) -> Result<(), NetError> {
    if script.is_empty() {
        return Ok(());
    }
    run(f.restore(), &["-w", "--noflush"], Some(script))
}

/// The rules of one family.
fn of_family(rules: &[Rule], f: Family) -> Vec<Rule> {
    rules.iter().filter(|r| matches!((Family::of(r), f), (Family::V4, Family::V4) | (Family::V6, Family::V6))).cloned().collect()
}

/// The chains and jumps of one family, as a restore script.
fn setup_script(chains: &[(&'static str, &str)], jumps: &[Rule], fwd: &str, iso: &str) -> String {
    let mut s = String::new();
    for table in ["nat", "filter"] {
        s.push_str(&format!("*{table}\n"));
        for (t, name) in chains {
            if *t == table {
                // Declaring a chain under --noflush creates or flushes it.
                s.push_str(&format!(":{name} - [0:0]\n"));
            }
        }
        for j in jumps.iter().filter(|j| j.table == table) {
            let op = if j.chain == "FORWARD" { "-I" } else { "-A" };
            s.push_str(&format!("{op} {} {}\n", j.chain, j.spec));
        }
        if table == "filter" {
            s.push_str(&format!("-A {fwd} -j {iso}\n"));
        }
        s.push_str("COMMIT\n");
    }
    s
}

impl Iptables {
    fn delete_jumps(f: Family, jumps: &[Rule]) {
        for j in jumps {
            // A crashed daemon may have left duplicates: delete until gone.
            for _ in 0..8 {
                let mut args = vec!["-w", "-t", j.table, "-D", &j.chain];
                args.extend(j.spec.split(' '));
                if run(f.cmd(), &args, None).is_err() {
                    break;
                }
            }
        }
    }

    /// Flushes and deletes `chains`; returns what failed, beyond chains
    /// already gone.
    fn remove_chains(f: Family, chains: &[(&'static str, &str)]) -> Vec<String> {
        let mut failed = Vec::new();
        for op in ["-F", "-X"] {
            for (t, name) in chains {
                match run(f.cmd(), &["-w", "-t", t, op, name], None) {
                    Err(NetError::Command { msg, .. }) if msg.contains("No chain/target/match") || msg.contains("does not exist") => {}
                    Err(e) => failed.push(e.to_string()),
                    Ok(()) => {}
                }
            }
        }
        failed
    }
}

impl Firewall for Iptables {
    fn setup(&self, c: &Chains) -> Result<(), NetError> {
        Iptables::delete_jumps(Family::V4, &c.jumps());
        restore(Family::V4, &setup_script(&c.all(), &c.jumps(), &c.fwd, &c.iso))?;
        // Containers' traffic is routed through the host.
        let _ = std::fs::write("/proc/sys/net/ipv4/ip_forward", "1");
        // IPv6: the chains only. IPv6 forwarding on the host is left as the
        // administrator set it (turning it on stops the host accepting
        // router advertisements). A host without ip6tables still runs
        // IPv4 networks; an IPv6 one then fails at create, naming the cause.
        Iptables::delete_jumps(Family::V6, &c.jumps6());
        let _ = restore(Family::V6, &setup_script(&c.all6(), &c.jumps6(), &c.fwd, &c.iso));
        Ok(())
    }

    fn teardown(&self, c: &Chains) -> Result<(), NetError> {
        Iptables::delete_jumps(Family::V4, &c.jumps());
        let mut failed = Iptables::remove_chains(Family::V4, &c.all());
        Iptables::delete_jumps(Family::V6, &c.jumps6());
        failed.extend(Iptables::remove_chains(Family::V6, &c.all6()));
        if failed.is_empty() {
            Ok(())
        } else {
            Err(NetError::Command { cmd: "removing the daemon's chains".into(), msg: failed.join("; ") })
        }
    }

    fn add(&self, rules: &[Rule]) -> Result<(), NetError> {
        restore(Family::V4, &restore_script("-A", &of_family(rules, Family::V4)))?;
        restore(Family::V6, &restore_script("-A", &of_family(rules, Family::V6)))
    }

    fn delete(&self, rules: &[Rule]) -> Result<(), NetError> {
        for f in [Family::V4, Family::V6] {
            let mine = of_family(rules, f);
            if restore(f, &restore_script("-D", &mine)).is_ok() {
                continue;
            }
            // Some were already gone: one at a time, ignoring the missing.
            for r in &mine {
                let _ = restore(f, &restore_script("-D", std::slice::from_ref(r)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_scripts_per_family() {
        let c = Chains::new("bt1");
        let v4 = setup_script(&c.all(), &c.jumps(), &c.fwd, &c.iso);
        assert!(v4.contains(":BERTH-bt1 - [0:0]\n") && v4.contains("-I FORWARD -j BERTH-bt1-FWD\n"));
        let v6 = setup_script(&c.all6(), &c.jumps6(), &c.fwd, &c.iso);
        assert!(!v6.contains(":BERTH-bt1 - [0:0]\n"), "no DNAT chain in ip6tables: {v6}");
        assert!(v6.contains("-A POSTROUTING -j BERTH-bt1-POST\n") && v6.contains("-A BERTH-bt1-FWD -j BERTH-bt1-ISO\n"));
        assert!(!v6.contains("PREROUTING"));
    }
}
