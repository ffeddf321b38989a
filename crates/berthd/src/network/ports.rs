//! Published ports: reading `PortBindings`/`PublishAllPorts` from a create
//! request, and holding each host port with a socket (TCP: SO_REUSEADDR,
//! listening, never accepting; UDP: bound) so no other process or
//! container can take it while NAT points it at the container.

use super::record::PortMap;
use berth_api::ApiError;
use berth_net::firewall::Proto;
use serde_json::Value;
use std::net::Ipv4Addr;
use std::os::fd::{FromRawFd, OwnedFd};

/// One wanted mapping, host port 0..=0 meaning "any".
#[derive(Debug, Clone, PartialEq)]
pub struct PortRequest {
    pub container_port: u16,
    pub proto: Proto,
    pub host_ip: Option<Ipv4Addr>,
    pub host_ports: (u16, u16),
}

/// "80/tcp" → (80, tcp).
pub fn parse_port_key(k: &str) -> Result<(u16, Proto), ApiError> {
    let (p, proto) = k.split_once('/').unwrap_or((k, "tcp"));
    let proto = Proto::parse(proto).ok_or_else(|| ApiError::invalid(format!("invalid proto: {proto}")))?;
    let port = p
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| ApiError::invalid(format!("invalid port specification: {p:?}")))?;
    Ok((port, proto))
}

fn host_range(s: &str) -> Result<(u16, u16), ApiError> {
    let bad = || ApiError::invalid(format!("invalid port specification: {s:?}"));
    if s.is_empty() {
        return Ok((0, 0));
    }
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u16 = a.parse().map_err(|_| bad())?;
    let b: u16 = b.parse().map_err(|_| bad())?;
    if b < a {
        return Err(bad());
    }
    Ok((a, b))
}

/// A binding's string field (`HostIp`, `HostPort`): absent or null is
/// empty; any other type is refused rather than read as empty.
fn binding_str<'a>(b: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    match b.get(key) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(ApiError::invalid(format!("invalid {key}: {v}"))),
    }
}

/// The mappings a container asks for: explicit bindings, and with
/// `PublishAllPorts` every exposed port not bound explicitly.
pub fn requests(bindings: Option<&Value>, publish_all: bool, exposed: &[String]) -> Result<Vec<PortRequest>, ApiError> {
    let mut out = Vec::new();
    match bindings {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let (container_port, proto) = parse_port_key(k)?;
                let list = match v {
                    Value::Null => vec![],
                    Value::Array(a) => a.clone(),
                    other => return Err(ApiError::invalid(format!("invalid port bindings for {k}: {other}"))),
                };
                let list = if list.is_empty() { vec![Value::Null] } else { list };
                for b in list {
                    if !(b.is_null() || b.is_object()) {
                        return Err(ApiError::invalid(format!("invalid port binding for {k}: {b}")));
                    }
                    let host_ip = match binding_str(&b, "HostIp")? {
                        "" | "0.0.0.0" => None,
                        s if s.contains(':') => {
                            // Ports are published with iptables (IPv4) only;
                            // an IPv6 host address would be a silent no-op.
                            s.trim_matches(|c| c == '[' || c == ']')
                                .parse::<std::net::Ipv6Addr>()
                                .map_err(|_| ApiError::invalid(format!("invalid host IP: {s}")))?;
                            return Err(ApiError::invalid(format!("berth does not support publishing ports on IPv6 host addresses (HostIp {s}) yet")));
                        }
                        s => Some(s.parse().map_err(|_| ApiError::invalid(format!("invalid host IP: {s}")))?),
                    };
                    let host_ports = host_range(binding_str(&b, "HostPort")?)?;
                    out.push(PortRequest { container_port, proto, host_ip, host_ports });
                }
            }
        }
        Some(other) => return Err(ApiError::invalid(format!("invalid PortBindings: {other}"))),
    }
    if publish_all {
        for k in exposed {
            let (container_port, proto) = parse_port_key(k)?;
            if !out.iter().any(|r| r.container_port == container_port && r.proto == proto) {
                out.push(PortRequest { container_port, proto, host_ip: None, host_ports: (0, 0) });
            }
        }
    }
    Ok(out)
}

/// A held host port.
pub struct Reservation {
    pub map: PortMap,
    _sock: OwnedFd,
}

fn bind(ip: Ipv4Addr, port: u16, proto: Proto) -> std::io::Result<(OwnedFd, u16)> {
    let ty = match proto {
        Proto::Udp => libc::SOCK_DGRAM,
        _ => libc::SOCK_STREAM,
    };
    // SAFETY: socket() takes no pointers.
    let fd = unsafe { libc::socket(libc::AF_INET, ty | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd was just returned by socket() and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(ip).to_be() },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    let tcp = ty == libc::SOCK_STREAM;
    if tcp {
        // As dockerd: SO_REUSEADDR, so a port whose old connections sit in
        // TIME-WAIT (a dev server just stopped) can be published at once.
        let one: libc::c_int = 1;
        // SAFETY: `one` is a c_int that outlives the call; its size is passed.
        let rc = unsafe {
            libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, (&one as *const libc::c_int).cast(), std::mem::size_of::<libc::c_int>() as libc::socklen_t)
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    // SAFETY: addr is a valid sockaddr_in of `len` bytes.
    if unsafe { libc::bind(fd, (&addr as *const libc::sockaddr_in).cast(), len) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if tcp {
        // With SO_REUSEADDR a bound socket no longer keeps others out:
        // Linux lets a second SO_REUSEADDR socket bind (and listen) beside
        // one that is not listening. Listening keeps the port ours. No
        // connection reaches it: NAT sends the port's traffic to the
        // container before any socket lookup; none is ever accepted.
        // SAFETY: listen() on a socket we own; no pointers.
        if unsafe { libc::listen(fd, 1) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    let mut got: libc::sockaddr_in = addr;
    let mut glen = len;
    // SAFETY: got/glen are valid for writing a sockaddr_in.
    if unsafe { libc::getsockname(fd, (&mut got as *mut libc::sockaddr_in).cast(), &mut glen) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((owned, u16::from_be(got.sin_port)))
}

/// Reserves a host port for `r` (trying each port of a range), with
/// Docker's messages when it is taken.
pub fn reserve(r: &PortRequest, container_ip: Ipv4Addr, taken_by_us: &dyn Fn(Proto, u16) -> bool) -> Result<Reservation, String> {
    let ip = r.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let shown = |p: u16| format!("{ip}:{p}");
    let (lo, hi) = r.host_ports;
    let mut last = String::new();
    for port in lo..=hi {
        if port != 0 && taken_by_us(r.proto, port) {
            last = format!("Bind for {} failed: port is already allocated", shown(port));
            continue;
        }
        match bind(ip, port, r.proto) {
            Ok((sock, got)) => {
                let map = PortMap {
                    container_port: r.container_port,
                    proto: r.proto,
                    host_ip: r.host_ip.map(|i| i.to_string()).unwrap_or_default(),
                    host_port: got,
                };
                return Ok(Reservation { map, _sock: sock });
            }
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => {
                last = format!(
                    "failed to bind host port for {}:{container_ip}:{}/{}: address already in use",
                    shown(port),
                    r.container_port,
                    r.proto.as_str()
                );
            }
            Err(e) => last = format!("failed to bind host port {}: {e}", shown(port)),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bindings_and_publish_all() {
        let b = json!({"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}], "53/udp": [{"HostIp": "", "HostPort": ""}], "90/tcp": null});
        let r = requests(Some(&b), true, &["80/tcp".into(), "443/tcp".into()]).unwrap();
        assert_eq!(r.len(), 4);
        assert!(r.contains(&PortRequest { container_port: 80, proto: Proto::Tcp, host_ip: Some(Ipv4Addr::LOCALHOST), host_ports: (8080, 8080) }));
        assert!(r.contains(&PortRequest { container_port: 443, proto: Proto::Tcp, host_ip: None, host_ports: (0, 0) }));
        assert!(r.contains(&PortRequest { container_port: 90, proto: Proto::Tcp, host_ip: None, host_ports: (0, 0) }));
    }

    #[test]
    fn hostile_bindings() {
        for (b, want) in [
            (json!({"0/tcp": []}), "invalid port specification: \"0\""),
            (json!({"x/tcp": []}), "invalid port specification: \"x\""),
            (json!({"80/foo": []}), "invalid proto: foo"),
            (json!({"80/icmp": []}), "invalid proto: icmp"),
            (json!({"80/tcp": [{"HostPort": "9-1"}]}), "invalid port specification: \"9-1\""),
            (json!({"80/tcp": [{"HostPort": "65536"}]}), "invalid port specification: \"65536\""),
            (json!({"80/tcp": [{"HostPort": "-1"}]}), "invalid port specification: \"-1\""),
            (json!({"80/tcp": [{"HostPort": "abc"}]}), "invalid port specification: \"abc\""),
            (json!({"80/tcp": [{"HostPort": 8080}]}), "invalid HostPort: 8080"),
            (json!({"80/tcp": [{"HostIp": "1.2.3"}]}), "invalid host IP: 1.2.3"),
            (json!({"80/tcp": [{"HostIp": "999.1.1.1"}]}), "invalid host IP: 999.1.1.1"),
            (json!({"80/tcp": [{"HostIp": "::zz"}]}), "invalid host IP: ::zz"),
            (json!({"80/tcp": [{"HostIp": "::"}]}), "berth does not support publishing ports on IPv6 host addresses (HostIp ::) yet"),
            (json!({"80/tcp": ["x"]}), "invalid port binding for 80/tcp: \"x\""),
            (json!({"80/tcp": 5}), "invalid port bindings for 80/tcp: 5"),
            (json!(["80/tcp"]), "invalid PortBindings: [\"80/tcp\"]"),
        ] {
            let e = requests(Some(&b), false, &[]).unwrap_err();
            assert_eq!((e.status(), e.message.as_str()), (400, want), "{b}");
        }
        assert!(requests(None, true, &["0/tcp".into()]).is_err());
    }

    #[test]
    fn reserve_refuses_a_taken_port() {
        let r = PortRequest { container_port: 80, proto: Proto::Tcp, host_ip: Some(Ipv4Addr::LOCALHOST), host_ports: (0, 0) };
        let a = reserve(&r, Ipv4Addr::new(10, 0, 0, 2), &|_, _| false).unwrap();
        assert!(a.map.host_port > 0);
        let again = PortRequest { host_ports: (a.map.host_port, a.map.host_port), ..r };
        let e = reserve(&again, Ipv4Addr::new(10, 0, 0, 2), &|_, _| false).err().unwrap();
        assert!(e.contains("address already in use"), "{e}");
        let e = reserve(&again, Ipv4Addr::new(10, 0, 0, 2), &|_, _| true).err().unwrap();
        assert!(e.ends_with("port is already allocated"), "{e}");
    }

    #[test]
    fn a_held_tcp_port_keeps_reuseaddr_servers_out() {
        let r = PortRequest { container_port: 80, proto: Proto::Tcp, host_ip: Some(Ipv4Addr::LOCALHOST), host_ports: (0, 0) };
        let held = reserve(&r, Ipv4Addr::new(10, 0, 0, 2), &|_, _| false).unwrap();
        // A server that sets SO_REUSEADDR itself (most do) must still fail.
        let again = PortRequest { host_ports: (held.map.host_port, held.map.host_port), ..r };
        let e = reserve(&again, Ipv4Addr::new(10, 0, 0, 2), &|_, _| false).err().unwrap();
        assert!(e.contains("address already in use"), "{e}");
        assert!(std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, held.map.host_port)).is_err());
    }

    #[test]
    fn a_port_in_time_wait_can_be_held() {
        // A server on the port, one connection closed by the server side
        // first, so the server's end sits in TIME-WAIT on that port.
        let server = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = server.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        let (conn, _) = server.accept().unwrap();
        drop(conn);
        drop(server);
        drop(client);
        let r = PortRequest { container_port: 80, proto: Proto::Tcp, host_ip: Some(Ipv4Addr::LOCALHOST), host_ports: (port, port) };
        let held = reserve(&r, Ipv4Addr::new(10, 0, 0, 2), &|_, _| false).unwrap();
        assert_eq!(held.map.host_port, port);
    }
}
