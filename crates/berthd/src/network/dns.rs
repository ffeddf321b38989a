//! The embedded DNS server of user networks. Each container on one gets
//! its own UDP socket and TCP listener inside its namespace (see
//! berth-net's `dnsns`), served here from tokio. Names are looked up in
//! the networks the asking container is on: container names, short IDs,
//! hostnames and `--network-alias`es (all addresses, order rotating; A
//! and AAAA; the table is dns_names.rs);
//! anything else is forwarded, from the host's namespace, to the
//! container's upstream servers.

use super::dns_names::Names;
use berth_net::dns;
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use crate::daemon::RepeatLog;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

const TTL: u32 = 600;
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(3);
/// Forwarded queries in flight, for the whole daemon and per container.
/// Each holds a task and a socket for up to UPSTREAM_TIMEOUT per upstream,
/// so a container flooding names nobody answers would otherwise grow both
/// without end. Past a bound a UDP query is dropped (the client retries, as
/// with dockerd's resolver) and a TCP one gets SERVFAIL.
const MAX_FORWARDS: usize = 512;
const MAX_FORWARDS_PER_CONTAINER: usize = 64;
/// Open TCP connections per container (each is a task for up to 30 s).
const MAX_TCP_CONNS_PER_CONTAINER: usize = 16;

/// What a served container may do beyond our names.
#[derive(Debug, Clone, Default)]
pub struct Upstream {
    pub servers: Vec<SocketAddr>,
    /// False when all its networks are internal: no forwarding.
    pub forward: bool,
}

pub struct Resolver {
    names: Names,
    servers: Mutex<HashMap<String, Vec<JoinHandle<()>>>>,
    /// Permits for forwarded queries across all containers.
    forwards: Arc<Semaphore>,
    per_container: Limits,
    dropped: Mutex<RepeatLog>,
}

/// The per-container bounds (fields so a test can make them small).
#[derive(Debug, Clone, Copy)]
struct Limits {
    forwards: usize,
    tcp_conns: usize,
}

impl Default for Resolver {
    fn default() -> Resolver {
        Resolver::with_limits(MAX_FORWARDS, Limits { forwards: MAX_FORWARDS_PER_CONTAINER, tcp_conns: MAX_TCP_CONNS_PER_CONTAINER })
    }
}

/// One served container's permits: its forwarded queries and TCP connections.
struct Served {
    asker: String,
    up: Upstream,
    forwards: Arc<Semaphore>,
    tcp_conns: Arc<Semaphore>,
}

enum Reply {
    Local(Vec<u8>),
    Forward,
    Drop,
}

/// "8.8.8.8" or "8.8.8.8:53" → a socket address (port 53 by default).
pub fn upstream_addr(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>().ok().or_else(|| s.parse::<std::net::IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
}

impl Resolver {
    fn with_limits(forwards: usize, per_container: Limits) -> Resolver {
        Resolver {
            names: Names::default(),
            servers: Mutex::default(),
            forwards: Arc::new(Semaphore::new(forwards)),
            per_container,
            dropped: Mutex::new(RepeatLog::new(Duration::from_secs(10))),
        }
    }

    /// A forwarding permit from both the daemon's and the container's
    /// bound, or None (logged, at most one line per 10 s) when either is
    /// spent.
    fn forward_permit(&self, served: &Served) -> Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)> {
        let permits = served.forwards.clone().try_acquire_owned().ok().zip(self.forwards.clone().try_acquire_owned().ok());
        if permits.is_none() {
            self.dropped
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .log(&format!("embedded DNS: too many queries in flight (container {}); query not forwarded", served.asker));
        }
        permits
    }

    /// Names of `container` on `network`, answered at `ip` (and `ip6`).
    pub fn add(&self, container: &str, network: &str, network_name: &str, names: &[String], ip: Ipv4Addr, ip6: Option<Ipv6Addr>) {
        self.names.add(container, network, network_name, names, ip, ip6);
    }

    /// `container`'s links on `network`: (alias, target container name).
    pub fn set_links(&self, container: &str, network: &str, links: &[(String, String)]) {
        self.names.set_links(container, network, links);
    }

    /// Drops `container`'s names and links on `network` (all for `None`).
    pub fn remove(&self, container: &str, network: Option<&str>) {
        self.names.remove(container, network);
    }

    fn reply(&self, asker: &str, query: &[u8], up: &Upstream) -> Reply {
        let Some(q) = dns::parse_query(query) else { return Reply::Drop };
        if let Some((ips, ips6)) = self.names.lookup(asker, &q.name, q.qtype) {
            return Reply::Local(dns::answer_addrs(query, &q, &ips, &ips6, TTL));
        }
        if !up.forward || up.servers.is_empty() {
            let code = if up.forward { dns::RCODE_SERVFAIL } else { dns::RCODE_NXDOMAIN };
            return Reply::Local(dns::error_reply(query, &q, code));
        }
        Reply::Forward
    }

    /// Serves `container` on sockets made inside its namespace `ns`.
    pub fn start(self: &Arc<Self>, container: &str, ns: &str, up: Upstream) -> Result<(), String> {
        let handle = tokio::runtime::Handle::try_current().map_err(|e| format!("embedded DNS: {e}"))?;
        let (udp, tcp) = berth_net::dnsns::listen_in(ns).map_err(|e| format!("embedded DNS: {e}"))?;
        let _guard = handle.enter();
        let udp = Arc::new(UdpSocket::from_std(udp).map_err(|e| format!("embedded DNS: {e}"))?);
        let tcp = TcpListener::from_std(tcp).map_err(|e| format!("embedded DNS: {e}"))?;
        let served = self.served(container, up);
        let tasks = vec![handle.spawn(self.clone().serve_udp(served.clone(), udp)), handle.spawn(self.clone().serve_tcp(served, tcp))];
        let old = self.servers.lock().unwrap_or_else(|p| p.into_inner()).insert(container.to_string(), tasks);
        for t in old.into_iter().flatten() {
            t.abort();
        }
        Ok(())
    }

    /// Stops serving `container` and forgets its names.
    pub fn stop(&self, container: &str) {
        if let Some(tasks) = self.servers.lock().unwrap_or_else(|p| p.into_inner()).remove(container) {
            for t in tasks {
                t.abort();
            }
        }
        self.remove(container, None);
    }

    fn served(&self, container: &str, up: Upstream) -> Arc<Served> {
        Arc::new(Served {
            asker: container.to_string(),
            up,
            forwards: Arc::new(Semaphore::new(self.per_container.forwards)),
            tcp_conns: Arc::new(Semaphore::new(self.per_container.tcp_conns)),
        })
    }

    async fn serve_udp(self: Arc<Self>, served: Arc<Served>, sock: Arc<UdpSocket>) {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else { return };
            let query = buf[..n].to_vec();
            match self.reply(&served.asker, &query, &served.up) {
                Reply::Local(r) => {
                    let _ = sock.send_to(&r, peer).await;
                }
                Reply::Forward => {
                    let Some(permits) = self.forward_permit(&served) else { continue };
                    let (sock, served) = (sock.clone(), served.clone());
                    tokio::spawn(async move {
                        let _permits = permits;
                        let r = match forward_udp(&query, &served.up.servers).await {
                            Some(r) => r,
                            None => servfail(&query),
                        };
                        let _ = sock.send_to(&r, peer).await;
                    });
                }
                Reply::Drop => {}
            }
        }
    }

    async fn serve_tcp(self: Arc<Self>, served: Arc<Served>, listener: TcpListener) {
        loop {
            // A connection slot first, so at most tcp_conns are open.
            let Ok(slot) = served.tcp_conns.clone().acquire_owned().await else { return };
            let Ok((conn, _)) = listener.accept().await else { return };
            let (me, served) = (self.clone(), served.clone());
            tokio::spawn(async move {
                let _slot = slot;
                let _ = tokio::time::timeout(Duration::from_secs(30), me.tcp_conn(&served, conn)).await;
            });
        }
    }

    async fn tcp_conn(&self, served: &Served, mut conn: TcpStream) -> std::io::Result<()> {
        loop {
            let query = read_framed(&mut conn).await?;
            let resp = match self.reply(&served.asker, &query, &served.up) {
                Reply::Local(r) => r,
                Reply::Forward => match self.forward_permit(served) {
                    Some(_permits) => forward_tcp(&query, &served.up.servers).await.unwrap_or_else(|| servfail(&query)),
                    None => servfail(&query),
                },
                Reply::Drop => return Ok(()),
            };
            write_framed(&mut conn, &resp).await?;
        }
    }
}

fn servfail(query: &[u8]) -> Vec<u8> {
    match dns::parse_query(query) {
        Some(q) => dns::error_reply(query, &q, dns::RCODE_SERVFAIL),
        None => Vec::new(),
    }
}

async fn read_framed(conn: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    conn.read_exact(&mut len).await?;
    let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
    conn.read_exact(&mut msg).await?;
    Ok(msg)
}

async fn write_framed(conn: &mut TcpStream, msg: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(msg.len()).map_err(|_| std::io::Error::other("DNS message too long"))?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(msg);
    conn.write_all(&out).await
}

/// The answer of the first upstream that gives one (same ID, from it).
async fn forward_udp(query: &[u8], servers: &[SocketAddr]) -> Option<Vec<u8>> {
    for s in servers {
        let bind = if s.ip().is_loopback() { "127.0.0.1:0" } else { "0.0.0.0:0" };
        let Ok(sock) = UdpSocket::bind(bind).await else { continue };
        if sock.connect(s).await.is_err() || sock.send(query).await.is_err() {
            continue;
        }
        let mut buf = vec![0u8; 4096];
        if let Ok(Ok(n)) = tokio::time::timeout(UPSTREAM_TIMEOUT, sock.recv(&mut buf)).await {
            if n >= 2 && buf[..2] == query[..2] {
                buf.truncate(n);
                return Some(buf);
            }
        }
    }
    None
}

async fn forward_tcp(query: &[u8], servers: &[SocketAddr]) -> Option<Vec<u8>> {
    for s in servers {
        let attempt = async {
            let mut c = TcpStream::connect(s).await?;
            write_framed(&mut c, query).await?;
            read_framed(&mut c).await
        };
        if let Ok(Ok(r)) = tokio::time::timeout(UPSTREAM_TIMEOUT, attempt).await {
            return Some(r);
        }
    }
    None
}

/// For unit tests: the reply a query gets, without sockets.
#[cfg(test)]
fn local(r: &Resolver, asker: &str, q: &[u8], up: &Upstream) -> Option<Vec<u8>> {
    match r.reply(asker, q, up) {
        Reply::Local(v) => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn names_aliases_and_round_robin() {
        let r = Resolver::default();
        r.add("c1", "n1", "net1", &["web".into(), "Shared".into()], ip("10.0.0.2"), None);
        r.add("c2", "n1", "net1", &["db".into(), "shared".into()], ip("10.0.0.3"), None);
        r.add("c3", "n2", "net2", &["other".into()], ip("10.1.0.2"), None);
        let up = Upstream::default();
        let q = dns::build_query(7, "db", dns::TYPE_A);
        assert_eq!(dns::answer_ips(&local(&r, "c1", &q, &up).unwrap()), [ip("10.0.0.3")]);
        let q = dns::build_query(7, "db.net1.", dns::TYPE_A);
        assert_eq!(dns::answer_ips(&local(&r, "c1", &q, &up).unwrap()), [ip("10.0.0.3")]);
        let q = dns::build_query(7, "SHARED", dns::TYPE_A);
        let a = dns::answer_ips(&local(&r, "c1", &q, &up).unwrap());
        let b = dns::answer_ips(&local(&r, "c1", &q, &up).unwrap());
        assert_eq!(a.len(), 2);
        assert_ne!(a, b, "order rotates");
        // Another network's names are not visible; without upstreams: NXDOMAIN.
        let q = dns::build_query(7, "other", dns::TYPE_A);
        let resp = local(&r, "c1", &q, &up).unwrap();
        assert_eq!(resp[3] & 0x0f, dns::RCODE_NXDOMAIN);
        let fwd = Upstream { servers: vec![upstream_addr("127.0.0.1").unwrap()], forward: true };
        assert!(local(&r, "c1", &q, &fwd).is_none(), "forwarded");
        r.stop("c2");
        let q = dns::build_query(7, "db", dns::TYPE_A);
        assert_eq!(local(&r, "c1", &q, &up).unwrap()[3] & 0x0f, dns::RCODE_NXDOMAIN);
        assert!(local(&r, "c1", b"garbage", &up).is_none());
        assert_eq!(upstream_addr("10.0.0.1:5353"), Some("10.0.0.1:5353".parse().unwrap()));
        assert_eq!(upstream_addr("bogus"), None);
    }

    #[test]
    fn aaaa_answers_and_link_aliases() {
        let r = Resolver::default();
        let v6: Ipv6Addr = "2001:db8:1::3".parse().unwrap();
        r.add("c1", "n1", "net1", &["web".into()], ip("10.0.0.2"), Some("2001:db8:1::2".parse().unwrap()));
        r.add("c2", "n1", "net1", &["db".into()], ip("10.0.0.3"), Some(v6));
        r.add("c3", "n1", "net1", &["v4only".into()], ip("10.0.0.4"), None);
        let up = Upstream::default();
        let q = dns::build_query(7, "db", dns::TYPE_AAAA);
        let resp = local(&r, "c1", &q, &up).unwrap();
        assert_eq!(dns::answer_ips6(&resp), [v6]);
        assert!(dns::answer_ips(&resp).is_empty());
        // A known name without an IPv6 address: NOERROR, no records.
        let resp = local(&r, "c1", &dns::build_query(7, "v4only", dns::TYPE_AAAA), &up).unwrap();
        assert_eq!((resp[3] & 0x0f, dns::answer_ips6(&resp).len()), (0, 0));
        // c1's link alias "bar" names db, for c1 only, on the link's network
        // (db is on n2 as well, where c1 also is).
        r.add("c2", "n2", "net2", &["db".into()], ip("10.1.0.3"), None);
        r.add("c1", "n2", "net2", &["web".into()], ip("10.1.0.2"), None);
        assert_eq!(dns::answer_ips(&local(&r, "c1", &dns::build_query(7, "db", dns::TYPE_A), &up).unwrap()).len(), 2);
        r.set_links("c1", "n1", &[("bar".into(), "/DB".into())]);
        let q = dns::build_query(7, "bar", dns::TYPE_A);
        assert_eq!(dns::answer_ips(&local(&r, "c1", &q, &up).unwrap()), [ip("10.0.0.3")]);
        assert_eq!(local(&r, "c3", &q, &up).unwrap()[3] & 0x0f, dns::RCODE_NXDOMAIN);
        r.remove("c1", Some("n1"));
        assert_eq!(local(&r, "c1", &q, &up).unwrap()[3] & 0x0f, dns::RCODE_NXDOMAIN);
    }

    /// A container asking for names no upstream answers: forwarded queries
    /// stop at the bound instead of growing a task and a socket each.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forwarding_is_bounded() {
        let r = Arc::new(Resolver::with_limits(100, Limits { forwards: 5, tcp_conns: 2 }));
        // An upstream that counts queries and never answers.
        let upstream = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let up = Upstream { servers: vec![upstream.local_addr().unwrap()], forward: true };
        let served = r.served("c1", up);
        let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let server_addr = sock.local_addr().unwrap();
        tokio::spawn(r.clone().serve_udp(served.clone(), sock));
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for id in 0..50u16 {
            client.send_to(&dns::build_query(id, "nobody.example", dns::TYPE_A), server_addr).await.unwrap();
        }
        let mut got = 0;
        let mut buf = [0u8; 512];
        while tokio::time::timeout(Duration::from_millis(500), upstream.recv_from(&mut buf)).await.is_ok() {
            got += 1;
        }
        assert_eq!(got, 5, "queries forwarded at once");
        assert_eq!(served.forwards.available_permits(), 0);
        // The daemon-wide bound holds across containers too.
        let r = Resolver::with_limits(3, Limits { forwards: 5, tcp_conns: 2 });
        let (a, b) = (r.served("a", Upstream::default()), r.served("b", Upstream::default()));
        let held: Vec<_> = [&a, &a, &b].iter().map(|s| r.forward_permit(s).expect("permit")).collect();
        assert!(r.forward_permit(&b).is_none());
        drop(held);
        assert!(r.forward_permit(&b).is_some());
    }
}
