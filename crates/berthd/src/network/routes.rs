//! The host's routed IPv4 subnets: a user network's subnet must not
//! overlap one (its bridge route would shadow it), and an automatic pool
//! skips them. Behind a trait so the check is testable without a host.

use berth_net::subnet::Subnet;

pub trait HostRoutes: Send + Sync {
    /// Destinations of the host's routes (the default route left out).
    fn routed(&self) -> Vec<Subnet>;
    /// Destinations routed out of interface `iface`.
    fn routed_via(&self, iface: &str) -> Vec<Subnet>;
}

/// The main routing table, from /proc/net/route.
pub struct ProcRoutes;

impl HostRoutes for ProcRoutes {
    fn routed(&self) -> Vec<Subnet> {
        berth_net::ipam::host_routes()
    }

    fn routed_via(&self, iface: &str) -> Vec<Subnet> {
        let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
        berth_net::ipam::parse_proc_route(&lines_via(&text, iface))
    }
}

/// The header and the lines of `/proc/net/route` text for interface `iface`.
fn lines_via(text: &str, iface: &str) -> String {
    let mut lines = text.lines();
    let mut out: Vec<&str> = lines.next().into_iter().collect();
    out.extend(lines.filter(|l| l.split_whitespace().next() == Some(iface)));
    out.join("\n")
}

/// The first routed subnet `s` overlaps. Routes of this daemon's own
/// networks are not in `routed` twice over: IPAM already refused those;
/// another daemon's bridge routes are real overlaps (its containers would
/// lose traffic to ours), so they count.
pub fn routed_overlap(s: &Subnet, routed: &[Subnet]) -> Option<Subnet> {
    routed.iter().find(|r| r.overlaps(s)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(s: &str) -> Subnet {
        Subnet::parse(s, false).expect("subnet")
    }

    #[test]
    fn routes_via_one_interface() {
        let text = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n\
                    eth0\t0011A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n\
                    bx0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\n";
        assert_eq!(berth_net::ipam::parse_proc_route(&lines_via(text, "bx0")), vec![sub("172.17.0.0/16")]);
        assert_eq!(berth_net::ipam::parse_proc_route(&lines_via(text, "eth0")), vec![sub("192.168.17.0/24")]);
        assert!(berth_net::ipam::parse_proc_route(&lines_via(text, "nope")).is_empty());
    }

    #[test]
    fn overlap_either_way_is_found_and_disjoint_is_not() {
        let routed = [sub("192.168.1.0/24"), sub("10.40.0.0/16")];
        assert_eq!(routed_overlap(&sub("192.168.0.0/16"), &routed), Some(sub("192.168.1.0/24")));
        assert_eq!(routed_overlap(&sub("10.40.3.0/24"), &routed), Some(sub("10.40.0.0/16")));
        assert_eq!(routed_overlap(&sub("10.41.0.0/16"), &routed), None);
        assert_eq!(routed_overlap(&sub("192.168.2.0/24"), &routed), None);
    }
}
