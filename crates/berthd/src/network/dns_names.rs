//! The embedded DNS's names: each container's names on each user
//! network with its addresses (A and AAAA), and its link aliases (a link
//! on a user network names another container for the linking one only).

use berth_net::dns;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Debug, Clone)]
struct Record {
    container: String,
    network: String,
    network_name: String,
    names: Vec<String>,
    ip: Ipv4Addr,
    /// Its address on an IPv6 network (AAAA answers).
    ip6: Option<Ipv6Addr>,
}

/// A link on a user network: `alias` names `target` for `container` only.
#[derive(Debug, Clone)]
struct LinkAlias {
    container: String,
    network: String,
    alias: String,
    target: String,
}

/// The table, and the turn of the round robin.
#[derive(Default)]
pub(super) struct Names {
    records: Mutex<Vec<Record>>,
    links: Mutex<Vec<LinkAlias>>,
    turn: AtomicUsize,
}

impl Names {
    /// Names of `container` on `network`, answered at `ip` (and `ip6`).
    pub(super) fn add(&self, container: &str, network: &str, network_name: &str, names: &[String], ip: Ipv4Addr, ip6: Option<Ipv6Addr>) {
        let names: Vec<String> = names.iter().filter(|n| !n.is_empty()).map(|n| n.trim_end_matches('.').to_ascii_lowercase()).collect();
        let mut r = self.records.lock().unwrap_or_else(|p| p.into_inner());
        r.retain(|x| !(x.container == container && x.network == network));
        r.push(Record { container: container.into(), network: network.into(), network_name: network_name.to_ascii_lowercase(), names, ip, ip6 });
    }

    /// `container`'s links on `network`: (alias, target container name).
    pub(super) fn set_links(&self, container: &str, network: &str, links: &[(String, String)]) {
        let mut l = self.links.lock().unwrap_or_else(|p| p.into_inner());
        l.retain(|x| !(x.container == container && x.network == network));
        for (alias, target) in links {
            l.push(LinkAlias {
                container: container.into(),
                network: network.into(),
                alias: alias.to_ascii_lowercase(),
                target: target.trim_start_matches('/').to_ascii_lowercase(),
            });
        }
    }

    /// Drops `container`'s names on `network` (all networks for `None`).
    pub(super) fn remove(&self, container: &str, network: Option<&str>) {
        let mut r = self.records.lock().unwrap_or_else(|p| p.into_inner());
        r.retain(|x| !(x.container == container && network.is_none_or(|n| x.network == n)));
        drop(r);
        let mut l = self.links.lock().unwrap_or_else(|p| p.into_inner());
        l.retain(|x| !(x.container == container && network.is_none_or(|n| x.network == n)));
    }

    /// A link alias of `asker`'s own: the linked container's name and the
    /// network of the link (as dockerd resolves links on user networks).
    fn unlink(&self, asker: &str, name: &str) -> Option<(String, String)> {
        let l = self.links.lock().unwrap_or_else(|p| p.into_inner());
        l.iter().find(|x| x.container == asker && x.alias == name).map(|x| (x.target.clone(), x.network.clone()))
    }

    /// The addresses of `name` seen by `asker`, both families; the list of
    /// the asked type turns on each answer (round robin).
    pub(super) fn lookup(&self, asker: &str, name: &str, qtype: u16) -> Option<(Vec<Ipv4Addr>, Vec<Ipv6Addr>)> {
        let linked = self.unlink(asker, name);
        let name = linked.as_ref().map_or(name, |(target, _)| target.as_str());
        let r = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let nets: Vec<&str> = r.iter().filter(|x| x.container == asker).map(|x| x.network.as_str()).collect();
        let hits: Vec<&Record> = r
            .iter()
            .filter(|x| nets.contains(&x.network.as_str()))
            .filter(|x| linked.as_ref().is_none_or(|(_, net)| &x.network == net))
            .filter(|x| x.names.iter().any(|n| n == name || name.strip_suffix(&x.network_name).and_then(|s| s.strip_suffix('.')) == Some(n)))
            .collect();
        if hits.is_empty() {
            return None;
        }
        let mut ips: Vec<Ipv4Addr> = hits.iter().map(|x| x.ip).collect();
        let mut ips6: Vec<Ipv6Addr> = hits.iter().filter_map(|x| x.ip6).collect();
        ips.dedup();
        ips6.dedup();
        let k = self.turn.fetch_add(1, Ordering::Relaxed);
        match qtype {
            dns::TYPE_A => {
                let n = ips.len();
                ips.rotate_left(k % n)
            }
            dns::TYPE_AAAA if !ips6.is_empty() => {
                let n = ips6.len();
                ips6.rotate_left(k % n)
            }
            _ => {}
        }
        Some((ips, ips6))
    }
}
