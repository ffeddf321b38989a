//! The embedded DNS's end inside a container's namespace, as Docker makes
//! it: a UDP socket and a TCP listener on 127.0.0.11 at random ports, and
//! NAT rules in that namespace sending 127.0.0.11:53 to them. Port 53
//! stays free for the container's own servers; the rules go with the
//! namespace.

use crate::NetError;
use std::net::{TcpListener, UdpSocket};

pub const RESOLVER_IP: &str = "127.0.0.11";

/// The nat table of the container's namespace: DNAT from port 53.
pub fn redirect_rules(udp_port: u16, tcp_port: u16) -> String {
    format!(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
         -A OUTPUT -d {RESOLVER_IP}/32 -p udp -m udp --dport 53 -j DNAT --to-destination {RESOLVER_IP}:{udp_port}\n\
         -A OUTPUT -d {RESOLVER_IP}/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination {RESOLVER_IP}:{tcp_port}\n\
         COMMIT\n"
    )
}

/// Opens the sockets inside namespace `ns` and installs the redirect
/// (replacing the namespace's nat table, so a daemon restart can do it
/// again with new ports).
pub fn listen_in(ns: &str) -> Result<(UdpSocket, TcpListener), NetError> {
    crate::netns::run_in(ns, || -> Result<(UdpSocket, TcpListener), NetError> {
        let addr = format!("{RESOLVER_IP}:0");
        let udp = UdpSocket::bind(&addr).map_err(NetError::io("binding the DNS UDP socket"))?;
        let tcp = TcpListener::bind(&addr).map_err(NetError::io("binding the DNS TCP socket"))?;
        let up = udp.local_addr().map_err(NetError::io("DNS UDP address"))?.port();
        let tp = tcp.local_addr().map_err(NetError::io("DNS TCP address"))?.port();
        // Spawned from this thread, iptables-restore runs in the namespace.
        crate::iptables::run("iptables-restore", &["-w"], Some(&redirect_rules(up, tp)))?;
        udp.set_nonblocking(true).map_err(NetError::io("nonblocking"))?;
        tcp.set_nonblocking(true).map_err(NetError::io("nonblocking"))?;
        Ok((udp, tcp))
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_redirect_port_53() {
        let r = redirect_rules(40000, 40001);
        assert!(r.contains("--dport 53 -j DNAT --to-destination 127.0.0.11:40000"));
        assert!(r.contains("-p tcp -m tcp --dport 53 -j DNAT --to-destination 127.0.0.11:40001"));
        assert!(r.ends_with("COMMIT\n"));
    }
}
