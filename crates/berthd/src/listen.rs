//! The API's listeners, as dockerd's `-H`: unix sockets (mode 0660, owned
//! by the socket group) and TCP, plain or TLS. Plain TCP on an address
//! other than loopback is refused unless TLS was explicitly turned off.

use rustls::ServerConfig;
use std::io;
use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("bad format {0}, expected PROTO://ADDR")]
    BadFormat(String),
    #[error("invalid bind address format: {0}")]
    BadAddress(String),
    #[error("berthd does not support {0} hosts (socket activation) yet; use unix:// or tcp://")]
    Unsupported(String),
    #[error("no hosts configured")]
    NoHosts,
    #[error("group {0} not found")]
    NoGroup(String),
    #[error(
        "refusing to listen on {0} without TLS: binding to an IP address without --tlsverify is insecure and gives root \
         access on this machine to everyone who has access to your network. Use --tlsverify, or override this by \
         explicitly specifying '--tls=false' or '--tlsverify=false'"
    )]
    PlainTcpRefused(String),
    #[error("listen {0}: {1}")]
    Bind(String, io::Error),
}

/// One `-H` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Unix(PathBuf),
    Tcp { host: String, port: u16 },
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Unix(p) => write!(f, "unix://{}", p.display()),
            Host::Tcp { host, port } if host.contains(':') => write!(f, "tcp://[{host}]:{port}"),
            Host::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
        }
    }
}

/// The default socket, and dockerd's default TCP ports.
pub const DEFAULT_UNIX: &str = "/run/berth/berth.sock";
const DEFAULT_TCP_PORT: u16 = 2375;
const DEFAULT_TLS_PORT: u16 = 2376;

impl Host {
    /// Parses `unix://PATH`, `tcp://HOST:PORT` or a bare `HOST:PORT` (TCP,
    /// as dockerd reads it); an empty host is localhost, an empty port
    /// dockerd's 2375 (2376 with TLS).
    pub fn parse(s: &str, tls: bool) -> Result<Host, ListenError> {
        let s = s.trim();
        let (proto, addr) = match s.split_once("://") {
            Some((p, a)) => (p, a),
            None if s.is_empty() => ("unix", DEFAULT_UNIX),
            None => ("tcp", s),
        };
        match proto {
            "unix" => Ok(Host::Unix(PathBuf::from(if addr.is_empty() { DEFAULT_UNIX } else { addr }))),
            "tcp" => parse_tcp(addr, if tls { DEFAULT_TLS_PORT } else { DEFAULT_TCP_PORT }),
            "fd" | "npipe" => Err(ListenError::Unsupported(format!("{proto}://"))),
            _ => Err(ListenError::BadFormat(s.to_string())),
        }
    }

    /// Whether a TCP host only answers on loopback (`localhost`, 127/8,
    /// ::1, or a name resolving only to those).
    fn is_loopback(&self) -> bool {
        let Host::Tcp { host, port } = self else { return true };
        if host == "localhost" {
            return true;
        }
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return ip.is_loopback();
        }
        match (host.as_str(), *port).to_socket_addrs() {
            Ok(addrs) => {
                let addrs: Vec<_> = addrs.collect();
                !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
            }
            Err(_) => false,
        }
    }
}

fn parse_tcp(addr: &str, default_port: u16) -> Result<Host, ListenError> {
    let bad = || ListenError::BadAddress(format!("tcp://{addr}"));
    let addr = addr.trim_end_matches('/');
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let (h, p) = rest.split_once(']').ok_or_else(bad)?;
        (h, p.strip_prefix(':').unwrap_or(p))
    } else {
        match addr.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, p),
            Some(_) => return Err(bad()),
            None => (addr, ""),
        }
    };
    if addr.contains('/') {
        return Err(bad());
    }
    let port = if port.is_empty() { default_port } else { port.parse::<u16>().map_err(|_| bad())? };
    let host = if host.is_empty() { "localhost" } else { host };
    Ok(Host::Tcp { host: host.to_string(), port })
}

/// How the TCP listeners are protected.
#[derive(Clone)]
pub struct TcpSecurity {
    /// The TLS server configuration when TLS is on.
    pub tls: Option<Arc<ServerConfig>>,
    /// Clients must present a verified certificate (`--tlsverify`).
    pub verify: bool,
    /// TLS or TLS verification was set explicitly, true or false, on the
    /// command line or in the configuration file: a plain listener is then
    /// what the user asked for.
    pub explicit: bool,
}

/// The warnings dockerd prints for a TCP listener without client
/// authentication, or the refusal for one on a non-loopback address that
/// nobody explicitly asked to be plain.
pub fn check_tcp(host: &Host, sec: &TcpSecurity) -> Result<Vec<String>, ListenError> {
    if matches!(host, Host::Unix(_)) || (sec.tls.is_some() && sec.verify) {
        return Ok(vec![]);
    }
    if !sec.explicit && !host.is_loopback() {
        return Err(ListenError::PlainTcpRefused(host.to_string()));
    }
    let mut w = vec![
        format!("WARNING: binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network. host=\"{host}\""),
        format!("WARNING: binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there! host=\"{host}\""),
    ];
    if sec.explicit && !host.is_loopback() {
        w.push(format!("WARNING: TLS client verification was explicitly turned off: the API on {host} is open to everyone who can reach it"));
    }
    Ok(w)
}

/// A bound listener.
pub enum Listener {
    Unix(UnixListener, PathBuf),
    Tcp(TcpListener, Option<TlsAcceptor>),
}

/// Binds every host, in order. `gid` owns the unix sockets.
pub async fn bind_all(hosts: &[Host], sec: &TcpSecurity, gid: u32) -> Result<Vec<Listener>, ListenError> {
    if hosts.is_empty() {
        return Err(ListenError::NoHosts);
    }
    let mut out = Vec::new();
    for h in hosts {
        let l = match h {
            Host::Unix(p) => Listener::Unix(bind_unix(p, gid).map_err(|e| ListenError::Bind(h.to_string(), e))?, p.clone()),
            Host::Tcp { host, port } => {
                let l = TcpListener::bind((host.as_str(), *port)).await.map_err(|e| ListenError::Bind(h.to_string(), e))?;
                Listener::Tcp(l, sec.tls.clone().map(TlsAcceptor::from))
            }
        };
        out.push(l);
    }
    Ok(out)
}

/// Binds a unix socket (replacing a stale one), mode 0660, group `gid`.
pub fn bind_unix(path: &Path, gid: u32) -> io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let l = UnixListener::bind(path)?;
    std::os::unix::fs::chown(path, None, Some(gid))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(l)
}

/// The socket group's id: `--group` must exist (a number is taken as is);
/// without it, the `berth` group if there is one, else root's.
pub fn socket_gid(explicit: Option<&str>, etc_group: &str) -> Result<u32, ListenError> {
    let find = |name: &str| {
        etc_group.lines().find_map(|l| {
            let mut f = l.split(':');
            (f.next() == Some(name)).then(|| f.nth(1).and_then(|g| g.parse::<u32>().ok())).flatten()
        })
    };
    match explicit {
        Some(g) => g.parse::<u32>().ok().or_else(|| find(g)).ok_or_else(|| ListenError::NoGroup(g.to_string())),
        None => Ok(find("berth").unwrap_or(0)),
    }
}

/// How long a TLS client may take over its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// An accepted connection, before any TLS handshake (which runs in the
/// connection's own task, so a slow client never holds up the accept loop).
pub enum Incoming {
    Unix(UnixStream),
    Tcp(TcpStream, Option<TlsAcceptor>),
}

impl Listener {
    pub async fn accept(&self) -> io::Result<Incoming> {
        match self {
            Listener::Unix(l, _) => l.accept().await.map(|(s, _)| Incoming::Unix(s)),
            Listener::Tcp(l, tls) => {
                let (s, _) = l.accept().await?;
                let _ = s.set_nodelay(true);
                Ok(Incoming::Tcp(s, tls.clone()))
            }
        }
    }

    /// What the daemon logs as "API listening on ...".
    pub fn describe(&self) -> String {
        match self {
            Listener::Unix(_, p) => p.display().to_string(),
            Listener::Tcp(l, tls) => {
                let addr = l.local_addr().map(|a| a.to_string()).unwrap_or_default();
                if tls.is_some() { format!("{addr} (TLS)") } else { addr }
            }
        }
    }

    /// The socket file to remove at shutdown.
    pub fn socket_path(&self) -> Option<&Path> {
        match self {
            Listener::Unix(_, p) => Some(p),
            Listener::Tcp(..) => None,
        }
    }
}

impl Incoming {
    /// Completes the TLS handshake, if any.
    pub async fn establish(self) -> io::Result<Conn> {
        match self {
            Incoming::Unix(s) => Ok(Conn::Unix(s)),
            Incoming::Tcp(s, None) => Ok(Conn::Tcp(s)),
            Incoming::Tcp(s, Some(acceptor)) => {
                let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(s))
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
                Ok(Conn::Tls(Box::new(tls)))
            }
        }
    }
}

/// A connection the API is served on.
pub enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Unix(s) => Pin::new(s).poll_flush(cx),
            Conn::Tcp(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(h: &str, p: u16) -> Host {
        Host::Tcp { host: h.into(), port: p }
    }

    #[test]
    fn hosts() {
        assert_eq!(Host::parse("unix:///tmp/x.sock", false).unwrap(), Host::Unix("/tmp/x.sock".into()));
        assert_eq!(Host::parse("tcp://0.0.0.0:2375", false).unwrap(), tcp("0.0.0.0", 2375));
        assert_eq!(Host::parse("tcp://127.0.0.1", true).unwrap(), tcp("127.0.0.1", 2376));
        assert_eq!(Host::parse("tcp://:4243", false).unwrap(), tcp("localhost", 4243));
        assert_eq!(Host::parse("10.0.0.1:99", false).unwrap(), tcp("10.0.0.1", 99));
        assert_eq!(Host::parse("tcp://[::1]:2375", false).unwrap(), tcp("::1", 2375));
        assert_eq!(tcp("::1", 2375).to_string(), "tcp://[::1]:2375");
        for bad in ["tcp://1.2.3.4:99999", "tcp://1.2.3.4:x", "ftp://x", "tcp://a:1/b"] {
            assert!(Host::parse(bad, false).is_err(), "{bad}");
        }
        assert!(matches!(Host::parse("fd://", false), Err(ListenError::Unsupported(_))));
    }

    #[test]
    fn plain_tcp_policy() {
        let plain = TcpSecurity { tls: None, verify: false, explicit: false };
        assert!(check_tcp(&Host::Unix("/x".into()), &plain).unwrap().is_empty());
        assert_eq!(check_tcp(&tcp("127.0.0.1", 1), &plain).unwrap().len(), 2);
        assert_eq!(check_tcp(&tcp("localhost", 1), &plain).unwrap().len(), 2);
        let e = check_tcp(&tcp("0.0.0.0", 2375), &plain).unwrap_err().to_string();
        assert!(e.starts_with("refusing to listen on tcp://0.0.0.0:2375 without TLS") && e.contains("'--tls=false'"), "{e}");
        let forced = TcpSecurity { explicit: true, ..plain };
        assert_eq!(check_tcp(&tcp("0.0.0.0", 2375), &forced).unwrap().len(), 3);
    }

    #[test]
    fn socket_group() {
        let etc = "root:x:0:\nberth:x:997:alice\nstaff:x:50:\n";
        assert_eq!(socket_gid(None, etc).unwrap(), 997);
        assert_eq!(socket_gid(None, "root:x:0:\n").unwrap(), 0);
        assert_eq!(socket_gid(Some("staff"), etc).unwrap(), 50);
        assert_eq!(socket_gid(Some("1234"), etc).unwrap(), 1234);
        assert_eq!(socket_gid(Some("nope"), etc).unwrap_err().to_string(), "group nope not found");
    }
}
