//! The embedded DNS server of user networks. Each container on one gets
//! its own UDP socket and TCP listener inside its namespace (see
//! berth-net's `dnsns`), served here from tokio. Names are looked up in
//! the networks the asking container is on: container names, short IDs,
//! hostnames and `--network-alias`es (all addresses, order rotating);
//! anything else is forwarded, from the host's namespace, to the
//! container's upstream servers.

use berth_net::dns;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

const TTL: u32 = 600;
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
struct Record {
    container: String,
    network: String,
    network_name: String,
    names: Vec<String>,
    ip: Ipv4Addr,
}

/// What a served container may do beyond our names.
#[derive(Debug, Clone, Default)]
pub struct Upstream {
    pub servers: Vec<SocketAddr>,
    /// False when all its networks are internal: no forwarding.
    pub forward: bool,
}

#[derive(Default)]
pub struct Resolver {
    records: Mutex<Vec<Record>>,
    servers: Mutex<HashMap<String, Vec<JoinHandle<()>>>>,
    turn: AtomicUsize,
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
    /// Names of `container` on `network`, answered at `ip`.
    pub fn add(&self, container: &str, network: &str, network_name: &str, names: &[String], ip: Ipv4Addr) {
        let names: Vec<String> = names.iter().filter(|n| !n.is_empty()).map(|n| n.trim_end_matches('.').to_ascii_lowercase()).collect();
        let mut r = self.records.lock().unwrap_or_else(|p| p.into_inner());
        r.retain(|x| !(x.container == container && x.network == network));
        r.push(Record { container: container.into(), network: network.into(), network_name: network_name.to_ascii_lowercase(), names, ip });
    }

    /// Drops `container`'s names on `network` (all networks for `None`).
    pub fn remove(&self, container: &str, network: Option<&str>) {
        let mut r = self.records.lock().unwrap_or_else(|p| p.into_inner());
        r.retain(|x| !(x.container == container && network.is_none_or(|n| x.network == n)));
    }

    /// The addresses of `name` seen by `asker`; `rotate` turns the order
    /// (A queries only, so an A+AAAA pair does not undo the turn).
    fn lookup(&self, asker: &str, name: &str, rotate: bool) -> Option<Vec<Ipv4Addr>> {
        let r = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let nets: Vec<&str> = r.iter().filter(|x| x.container == asker).map(|x| x.network.as_str()).collect();
        let mut ips: Vec<Ipv4Addr> = r
            .iter()
            .filter(|x| nets.contains(&x.network.as_str()))
            .filter(|x| x.names.iter().any(|n| n == name || name.strip_suffix(&x.network_name).and_then(|s| s.strip_suffix('.')) == Some(n)))
            .map(|x| x.ip)
            .collect();
        ips.dedup();
        if ips.is_empty() {
            return None;
        }
        if rotate {
            let k = self.turn.fetch_add(1, Ordering::Relaxed) % ips.len();
            ips.rotate_left(k);
        }
        Some(ips)
    }

    fn reply(&self, asker: &str, query: &[u8], up: &Upstream) -> Reply {
        let Some(q) = dns::parse_query(query) else { return Reply::Drop };
        if let Some(ips) = self.lookup(asker, &q.name, q.qtype == dns::TYPE_A) {
            return Reply::Local(dns::answer(query, &q, &ips, TTL));
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
        let up = Arc::new(up);
        let tasks = vec![
            handle.spawn(self.clone().serve_udp(container.to_string(), udp, up.clone())),
            handle.spawn(self.clone().serve_tcp(container.to_string(), tcp, up)),
        ];
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

    async fn serve_udp(self: Arc<Self>, asker: String, sock: Arc<UdpSocket>, up: Arc<Upstream>) {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else { return };
            let query = buf[..n].to_vec();
            match self.reply(&asker, &query, &up) {
                Reply::Local(r) => {
                    let _ = sock.send_to(&r, peer).await;
                }
                Reply::Forward => {
                    let (sock, up) = (sock.clone(), up.clone());
                    tokio::spawn(async move {
                        let r = match forward_udp(&query, &up.servers).await {
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

    async fn serve_tcp(self: Arc<Self>, asker: String, listener: TcpListener, up: Arc<Upstream>) {
        loop {
            let Ok((conn, _)) = listener.accept().await else { return };
            let (me, asker, up) = (self.clone(), asker.clone(), up.clone());
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(30), me.tcp_conn(&asker, conn, &up)).await;
            });
        }
    }

    async fn tcp_conn(&self, asker: &str, mut conn: TcpStream, up: &Upstream) -> std::io::Result<()> {
        loop {
            let query = read_framed(&mut conn).await?;
            let resp = match self.reply(asker, &query, up) {
                Reply::Local(r) => r,
                Reply::Forward => forward_tcp(&query, &up.servers).await.unwrap_or_else(|| servfail(&query)),
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
        r.add("c1", "n1", "net1", &["web".into(), "Shared".into()], ip("10.0.0.2"));
        r.add("c2", "n1", "net1", &["db".into(), "shared".into()], ip("10.0.0.3"));
        r.add("c3", "n2", "net2", &["other".into()], ip("10.1.0.2"));
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
}
