//! NAT and filtering with iptables (iptables-nft on Debian 12), behind the
//! narrow [`Firewall`] trait. Every rule berth adds lives in chains named
//! after the daemon's tag (its default bridge name), reached by one jump
//! from each built-in chain, so one daemon's rules never touch another's
//! and teardown is "delete the jumps, flush and delete the chains".

use crate::subnet::Subnet;
use crate::subnet6::Subnet6;
use crate::NetError;
use std::net::Ipv4Addr;

pub use crate::iptables::Iptables;

/// One rule: table, chain and the match/target text after `-A chain`;
/// `v6` rules go to ip6tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub table: &'static str,
    pub chain: String,
    pub spec: String,
    pub v6: bool,
}

/// The per-daemon chain names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chains {
    /// nat: DNAT of published ports.
    pub dnat: String,
    /// nat: MASQUERADE.
    pub post: String,
    /// filter: forwarding accept/drop, jumped to from FORWARD.
    pub fwd: String,
    /// filter: isolation between networks (two stages, as Docker's).
    pub iso: String,
    pub iso2: String,
}

impl Chains {
    /// `tag` is an interface name (<= 15 bytes), so every name fits
    /// iptables' 28-byte limit.
    pub fn new(tag: &str) -> Chains {
        Chains {
            dnat: format!("BERTH-{tag}"),
            post: format!("BERTH-{tag}-POST"),
            fwd: format!("BERTH-{tag}-FWD"),
            iso: format!("BERTH-{tag}-ISO"),
            iso2: format!("BERTH-{tag}-ISO2"),
        }
    }

    /// Jumps from the built-in chains into ours.
    pub fn jumps(&self) -> Vec<Rule> {
        vec![
            rule("nat", "PREROUTING", format!("-m addrtype --dst-type LOCAL -j {}", self.dnat)),
            rule("nat", "OUTPUT", format!("-m addrtype --dst-type LOCAL -j {}", self.dnat)),
            rule("nat", "POSTROUTING", format!("-j {}", self.post)),
            rule("filter", "FORWARD", format!("-j {}", self.fwd)),
        ]
    }

    /// ip6tables has no published ports (no DNAT chain): masquerade,
    /// forwarding and isolation only.
    pub fn jumps6(&self) -> Vec<Rule> {
        vec![rule6("nat", "POSTROUTING", format!("-j {}", self.post)), rule6("filter", "FORWARD", format!("-j {}", self.fwd))]
    }

    pub(crate) fn all(&self) -> [(&'static str, &str); 5] {
        [("nat", &self.dnat), ("nat", &self.post), ("filter", &self.fwd), ("filter", &self.iso), ("filter", &self.iso2)]
    }

    pub(crate) fn all6(&self) -> [(&'static str, &str); 4] {
        [("nat", &self.post), ("filter", &self.fwd), ("filter", &self.iso), ("filter", &self.iso2)]
    }
}

fn rule(table: &'static str, chain: &str, spec: String) -> Rule {
    Rule { table, chain: chain.to_string(), spec, v6: false }
}

fn rule6(table: &'static str, chain: &str, spec: String) -> Rule {
    Rule { table, chain: chain.to_string(), spec, v6: true }
}

/// What the firewall needs to know of a bridge network.
#[derive(Debug, Clone)]
pub struct NetworkFw {
    pub bridge: String,
    /// Its IPv4 subnets (masqueraded each).
    pub subnets: Vec<Subnet>,
    /// Its IPv6 subnet, if any (the same filtering in ip6tables).
    pub subnet6: Option<Subnet6>,
    pub internal: bool,
}

/// Rules for one network: masquerade out (unless internal), forwarding,
/// isolation from every other network of this daemon; for an IPv6
/// network the same again in ip6tables.
pub fn network_rules(c: &Chains, n: &NetworkFw) -> Vec<Rule> {
    let mut v = network_rules4(c, n);
    if let Some(s6) = n.subnet6 {
        let br = &n.bridge;
        let filter6: Vec<Rule> = v.iter().filter(|r| r.table == "filter").map(|r| Rule { v6: true, ..r.clone() }).collect();
        v.extend(filter6);
        if !n.internal {
            v.push(rule6("nat", &c.post, format!("-s {s6} ! -o {br} -j MASQUERADE")));
        }
    }
    v
}

fn network_rules4(c: &Chains, n: &NetworkFw) -> Vec<Rule> {
    let br = &n.bridge;
    let mut v = vec![
        rule("filter", &c.iso, format!("-i {br} ! -o {br} -j {}", c.iso2)),
        rule("filter", &c.iso2, format!("-o {br} -j DROP")),
        // Loopback clients of ports published on 127.0.0.1.
        rule("nat", &c.post, format!("-o {br} -m addrtype --src-type LOCAL -j MASQUERADE")),
    ];
    if n.internal {
        v.push(rule("filter", &c.fwd, format!("-i {br} ! -o {br} -j DROP")));
        v.push(rule("filter", &c.fwd, format!("! -i {br} -o {br} -j DROP")));
        v.push(rule("filter", &c.fwd, format!("-i {br} -o {br} -j ACCEPT")));
    } else {
        for subnet in &n.subnets {
            v.push(rule("nat", &c.post, format!("-s {subnet} ! -o {br} -j MASQUERADE")));
        }
        v.push(rule("filter", &c.fwd, format!("-o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")));
        v.push(rule("filter", &c.fwd, format!("-i {br} -j ACCEPT")));
    }
    v
}

/// Protocol of a port mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        }
    }
    pub fn parse(s: &str) -> Option<Proto> {
        match s {
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            "sctp" => Some(Proto::Sctp),
            _ => None,
        }
    }
}

/// One published port of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortFw {
    pub bridge: String,
    pub container_ip: Ipv4Addr,
    pub container_port: u16,
    pub proto: Proto,
    /// None = all host addresses.
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
}

/// DNAT to the container, accept through FORWARD, and masquerade hairpin
/// traffic (a container reaching its own published port).
pub fn port_rules(c: &Chains, p: &PortFw) -> Vec<Rule> {
    let pr = p.proto.as_str();
    let dst = p.host_ip.map(|ip| format!("-d {ip}/32 ")).unwrap_or_default();
    let cip = p.container_ip;
    let cp = p.container_port;
    vec![
        rule("nat", &c.dnat, format!("{dst}-p {pr} -m {pr} --dport {} -j DNAT --to-destination {cip}:{cp}", p.host_port)),
        rule("filter", &c.fwd, format!("-d {cip}/32 ! -i {br} -o {br} -p {pr} -m {pr} --dport {cp} -j ACCEPT", br = p.bridge)),
        rule("nat", &c.post, format!("-s {cip}/32 -d {cip}/32 -p {pr} -m {pr} --dport {cp} -j MASQUERADE")),
    ]
}

/// The kernel side of NAT and filtering.
pub trait Firewall: Send + Sync {
    /// Creates (or flushes) the daemon's chains and puts the jumps in place.
    fn setup(&self, c: &Chains) -> Result<(), NetError>;
    /// Removes the jumps and the chains.
    fn teardown(&self, c: &Chains) -> Result<(), NetError>;
    fn add(&self, rules: &[Rule]) -> Result<(), NetError>;
    /// Deletes rules; ones already gone are ignored.
    fn delete(&self, rules: &[Rule]) -> Result<(), NetError>;
}

/// `iptables-restore --noflush` input doing `op` ("-A", "-D", "-I") for each rule.
pub fn restore_script(op: &str, rules: &[Rule]) -> String {
    let mut s = String::new();
    for table in ["nat", "filter"] {
        let mine: Vec<&Rule> = rules.iter().filter(|r| r.table == table).collect();
        if mine.is_empty() {
            continue;
        }
        s.push_str(&format!("*{table}\n"));
        for r in mine {
            s.push_str(&format!("{op} {} {}\n", r.chain, r.spec));
        }
        s.push_str("COMMIT\n");
    }
    s
}

/// A recording fake for unit tests of the managers.
#[derive(Default)]
pub struct FakeFirewall {
    pub rules: std::sync::Mutex<Vec<Rule>>,
}

impl Firewall for FakeFirewall {
    fn setup(&self, _c: &Chains) -> Result<(), NetError> {
        Ok(())
    }
    fn teardown(&self, _c: &Chains) -> Result<(), NetError> {
        if let Ok(mut r) = self.rules.lock() {
            r.clear();
        }
        Ok(())
    }
    fn add(&self, rules: &[Rule]) -> Result<(), NetError> {
        if let Ok(mut r) = self.rules.lock() {
            r.extend(rules.iter().cloned());
        }
        Ok(())
    }
    fn delete(&self, rules: &[Rule]) -> Result<(), NetError> {
        if let Ok(mut r) = self.rules.lock() {
            for d in rules {
                if let Some(i) = r.iter().position(|x| x == d) {
                    r.remove(i);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_names_fit_iptables() {
        let c = Chains::new("br-0123456789ab");
        for (_, n) in c.all() {
            assert!(n.len() <= 28, "{n}");
        }
    }

    #[test]
    fn scripts_group_by_table() {
        let c = Chains::new("bt1");
        let n = NetworkFw { bridge: "bt1".into(), subnets: vec![Subnet::parse("172.18.0.0/16", true).unwrap(), Subnet::parse("10.3.0.0/24", true).unwrap()], subnet6: None, internal: false };
        let rules = network_rules(&c, &n);
        let s = restore_script("-A", &rules);
        assert!(s.starts_with("*nat\n"));
        assert!(s.contains("-A BERTH-bt1-POST -s 172.18.0.0/16 ! -o bt1 -j MASQUERADE\n"));
        assert!(s.contains("-A BERTH-bt1-POST -s 10.3.0.0/24 ! -o bt1 -j MASQUERADE\n"));
        assert!(s.contains("*filter\n-A BERTH-bt1-ISO -i bt1 ! -o bt1 -j BERTH-bt1-ISO2\n"));
        assert_eq!(s.matches("COMMIT").count(), 2);
        assert_eq!(restore_script("-A", &[]), "");
    }

    #[test]
    fn internal_networks_do_not_masquerade() {
        let c = Chains::new("bt1");
        let n = NetworkFw { bridge: "br-x".into(), subnets: vec![Subnet::parse("10.1.0.0/24", true).unwrap()], subnet6: None, internal: true };
        let r = network_rules(&c, &n);
        assert!(!r.iter().any(|r| r.spec.contains("-s 10.1.0.0/24")));
        assert!(r.iter().any(|r| r.spec == "-i br-x ! -o br-x -j DROP"));
    }

    #[test]
    fn ipv6_networks_get_ip6tables_filtering_and_nat() {
        let c = Chains::new("bt1");
        let s6 = Subnet6::parse("2001:db8:1::/64", true).unwrap();
        let n = NetworkFw { bridge: "br-x".into(), subnets: vec![Subnet::parse("10.1.0.0/24", true).unwrap()], subnet6: Some(s6), internal: false };
        let r = network_rules(&c, &n);
        let v6: Vec<&Rule> = r.iter().filter(|r| r.v6).collect();
        assert!(v6.iter().any(|r| r.table == "nat" && r.spec == "-s 2001:db8:1::/64 ! -o br-x -j MASQUERADE"));
        assert!(v6.iter().any(|r| r.chain == "BERTH-bt1-ISO2" && r.spec == "-o br-x -j DROP"));
        assert!(!v6.iter().any(|r| r.spec.contains("addrtype")));
        assert_eq!(r.iter().filter(|r| !r.v6).count(), network_rules4(&c, &n).len());
        let internal = NetworkFw { internal: true, ..n };
        assert!(!network_rules(&c, &internal).iter().any(|r| r.v6 && r.table == "nat"));
    }

    #[test]
    fn port_rules_shape() {
        let c = Chains::new("bt1");
        let p = PortFw {
            bridge: "bt1".into(),
            container_ip: Ipv4Addr::new(172, 18, 0, 2),
            container_port: 80,
            proto: Proto::Udp,
            host_ip: Some(Ipv4Addr::LOCALHOST),
            host_port: 8080,
        };
        let r = port_rules(&c, &p);
        assert_eq!(r[0].spec, "-d 127.0.0.1/32 -p udp -m udp --dport 8080 -j DNAT --to-destination 172.18.0.2:80");
        assert_eq!(r[0].chain, "BERTH-bt1");
    }

    #[test]
    fn fake_tracks_rules() {
        let f = FakeFirewall::default();
        let r = vec![rule("nat", "X", "-j Y".into())];
        f.add(&r).unwrap();
        f.delete(&r).unwrap();
        assert!(f.rules.lock().unwrap().is_empty());
    }
}
