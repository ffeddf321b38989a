//! The host's routed IPv4 subnets: a user network's subnet must not
//! overlap one (its bridge route would shadow it), and an automatic pool
//! skips them. Behind a trait so the check is testable without a host.

use berth_net::subnet::Subnet;

pub trait HostRoutes: Send + Sync {
    /// Destinations of the host's routes (the default route left out).
    fn routed(&self) -> Vec<Subnet>;
}

/// The main routing table, from /proc/net/route.
pub struct ProcRoutes;

impl HostRoutes for ProcRoutes {
    fn routed(&self) -> Vec<Subnet> {
        berth_net::ipam::host_routes()
    }
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
    fn overlap_either_way_is_found_and_disjoint_is_not() {
        let routed = [sub("192.168.1.0/24"), sub("10.40.0.0/16")];
        assert_eq!(routed_overlap(&sub("192.168.0.0/16"), &routed), Some(sub("192.168.1.0/24")));
        assert_eq!(routed_overlap(&sub("10.40.3.0/24"), &routed), Some(sub("10.40.0.0/16")));
        assert_eq!(routed_overlap(&sub("10.41.0.0/16"), &routed), None);
        assert_eq!(routed_overlap(&sub("192.168.2.0/24"), &routed), None);
    }
}
