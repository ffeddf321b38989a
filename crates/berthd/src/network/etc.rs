//! The container's /etc/hosts and /etc/resolv.conf, as Docker writes them.

use super::Attached;

const LOCALHOST_BLOCK: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// /etc/hosts: the host's for `--network host`; else localhost lines, then
/// the container's address and hostname (or 127.0.0.1 with no network),
/// then `--link` entries.
pub fn hosts(a: &Attached, hostname: &str) -> String {
    if a.host_files {
        return std::fs::read_to_string("/etc/hosts").unwrap_or_else(|_| LOCALHOST_BLOCK.to_string());
    }
    let mut s = LOCALHOST_BLOCK.to_string();
    if a.hosts.is_empty() {
        s.push_str(&format!("127.0.0.1\t{hostname}\n"));
    }
    for l in a.hosts.iter().rev() {
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// resolv.conf: the host's, without loopback nameservers (unreachable from
/// the container's namespace); Google's public servers if none remain, as
/// Docker does. `dns` (`--dns`) replaces the nameservers.
pub fn resolv(host: &str, a: &Attached, dns: &[String]) -> String {
    if a.host_files && dns.is_empty() {
        return host.to_string();
    }
    let mut out = String::new();
    let mut servers = 0;
    for line in host.lines() {
        let mut f = line.split_whitespace();
        if f.next() == Some("nameserver") {
            let ns = f.next().unwrap_or("");
            if !dns.is_empty() || ns.starts_with("127.") || ns == "::1" {
                continue;
            }
            servers += 1;
        }
        out.push_str(line);
        out.push('\n');
    }
    for d in dns {
        out.push_str(&format!("nameserver {d}\n"));
        servers += 1;
    }
    if servers == 0 {
        out.push_str("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{ContainerNet, NetNs};

    fn att(hosts: Vec<String>) -> Attached {
        Attached { ns: NetNs::Path("/x".into()), net: ContainerNet::default(), hosts, host_files: false }
    }

    #[test]
    fn hosts_has_own_address() {
        let h = hosts(&att(vec!["172.18.0.2\tabc".into()]), "abc");
        assert!(h.ends_with("ff02::2\tip6-allrouters\n172.18.0.2\tabc\n"), "{h}");
        assert!(hosts(&att(vec![]), "abc").ends_with("127.0.0.1\tabc\n"));
    }

    #[test]
    fn resolv_drops_loopback_servers() {
        let r = resolv("search x\nnameserver 127.0.0.53\n", &att(vec![]), &[]);
        assert_eq!(r, "search x\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        let r = resolv("nameserver 10.0.0.1\n", &att(vec![]), &[]);
        assert_eq!(r, "nameserver 10.0.0.1\n");
        let r = resolv("nameserver 10.0.0.1\n", &att(vec![]), &["1.1.1.1".into()]);
        assert_eq!(r, "nameserver 1.1.1.1\n");
    }
}
