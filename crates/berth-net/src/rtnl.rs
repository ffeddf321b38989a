//! A minimal rtnetlink client: the few requests a container's veth needs
//! (create a pair, set a link up, add an address and a default route,
//! delete a link), sent on a NETLINK_ROUTE socket and acknowledged one by
//! one. It replaces two `ip -batch` processes per container start and one
//! per stop (2-5 ms each here, and serialised with every other command
//! berthd runs). Messages are built by pure functions, unit-tested below;
//! the netlink-packet-route crates were not used because these five
//! messages are all berth needs and their builders change between releases.

use std::io;
use std::net::IpAddr;
#[cfg(test)]
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_F_NODAD: u8 = 0x02;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const NLA_F_NESTED: u16 = 0x8000;

const IFF_UP: u32 = 0x1;
const RT_TABLE_MAIN: u8 = 254;
const RTPROT_BOOT: u8 = 3;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RTN_UNICAST: u8 = 1;

/// One netlink request being built: header, fixed part, attributes.
#[derive(Debug)]
pub struct Message {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

impl Message {
    fn new(kind: u16, flags: u16, fixed: &[u8]) -> Message {
        let mut buf = vec![0u8; NLMSG_HDRLEN];
        buf[4..6].copy_from_slice(&kind.to_ne_bytes());
        buf[6..8].copy_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        buf.extend_from_slice(fixed);
        pad(&mut buf);
        Message { buf, nests: Vec::new() }
    }

    fn attr(mut self, kind: u16, payload: &[u8]) -> Message {
        let len = (4 + payload.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        pad(&mut self.buf);
        self
    }

    fn str_attr(self, kind: u16, s: &str) -> Message {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.attr(kind, &v)
    }

    fn begin(mut self, kind: u16) -> Message {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        self
    }

    /// Raw bytes inside the current nest (the peer's ifinfomsg).
    fn raw(mut self, bytes: &[u8]) -> Message {
        self.buf.extend_from_slice(bytes);
        pad(&mut self.buf);
        self
    }

    fn end(mut self) -> Message {
        if let Some(at) = self.nests.pop() {
            let len = (self.buf.len() - at) as u16;
            self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    /// The finished bytes with length and sequence number filled in.
    fn finish(mut self, seq: u32) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

fn pad(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

fn ifinfomsg(index: i32, flags: u32, change: u32) -> [u8; 16] {
    let mut m = [0u8; 16];
    m[0] = libc::AF_UNSPEC as u8;
    m[4..8].copy_from_slice(&index.to_ne_bytes());
    m[8..12].copy_from_slice(&flags.to_ne_bytes());
    m[12..16].copy_from_slice(&change.to_ne_bytes());
    m
}

/// Parses "02:42:ac:11:00:02".
fn mac_bytes(mac: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = mac.split(':');
    for b in out.iter_mut() {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// A veth pair `host` (on bridge index `master`) and `peer`, the peer
/// created straight in the namespace `netns_fd` with address `mac`.
pub fn new_veth(host: &str, master: u32, peer: &str, mac: &str, netns_fd: RawFd) -> io::Result<Message> {
    let mac = mac_bytes(mac).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("bad MAC {mac:?}")))?;
    Ok(Message::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifinfomsg(0, 0, 0))
        .str_attr(IFLA_IFNAME, host)
        .attr(IFLA_MASTER, &master.to_ne_bytes())
        .begin(IFLA_LINKINFO)
        .str_attr(IFLA_INFO_KIND, "veth")
        .begin(IFLA_INFO_DATA)
        .begin(VETH_INFO_PEER)
        .raw(&ifinfomsg(0, 0, 0))
        .str_attr(IFLA_IFNAME, peer)
        .attr(IFLA_ADDRESS, &mac)
        .attr(IFLA_NET_NS_FD, &(netns_fd as u32).to_ne_bytes())
        .end()
        .end()
        .end())
}

pub fn link_up(index: i32) -> Message {
    Message::new(RTM_NEWLINK, 0, &ifinfomsg(index, IFF_UP, IFF_UP))
}

pub fn del_link(index: i32) -> Message {
    Message::new(RTM_DELLINK, 0, &ifinfomsg(index, 0, 0))
}

fn family_octets(ip: IpAddr) -> (u8, Vec<u8>) {
    match ip {
        IpAddr::V4(a) => (libc::AF_INET as u8, a.octets().to_vec()),
        IpAddr::V6(a) => (libc::AF_INET6 as u8, a.octets().to_vec()),
    }
}

/// An address on link `index`. IPv6 ones skip duplicate address detection
/// (IFA_F_NODAD, as dockerd does): the allocator already made them unique,
/// and a tentative address would not answer for a second or two.
pub fn add_addr(index: i32, ip: impl Into<IpAddr>, prefix: u8) -> Message {
    let ip = ip.into();
    let (family, octets) = family_octets(ip);
    let mut m = [0u8; 8];
    m[0] = family;
    m[1] = prefix;
    if ip.is_ipv6() {
        m[2] = IFA_F_NODAD;
    }
    m[4..8].copy_from_slice(&(index as u32).to_ne_bytes());
    Message::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &m).attr(IFA_LOCAL, &octets).attr(IFA_ADDRESS, &octets)
}

pub fn default_route(index: i32, gateway: impl Into<IpAddr>) -> Message {
    let (family, octets) = family_octets(gateway.into());
    let m = [family, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0, 0, 0, 0];
    Message::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &m).attr(RTA_GATEWAY, &octets).attr(RTA_OIF, &(index as u32).to_ne_bytes())
}

/// A NETLINK_ROUTE socket in the calling thread's network namespace.
pub struct Rtnl {
    fd: OwnedFd,
    seq: u32,
}

impl Rtnl {
    pub fn open() -> io::Result<Rtnl> {
        // SAFETY: socket() takes no pointers.
        let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_ROUTE) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a socket we just opened and own from here on.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Rtnl { fd, seq: 0 })
    }

    /// Sends `msg` and waits for its acknowledgement; a kernel error comes
    /// back as the matching io::Error (EEXIST, ENODEV...).
    pub fn request(&mut self, msg: Message) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1);
        let bytes = msg.finish(self.seq);
        // SAFETY: sends `bytes`, valid for its length, on our socket; the
        // kernel is the default destination of an unbound netlink socket.
        let sent = unsafe { libc::send(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; 8192];
        loop {
            // SAFETY: receives into `buf`, valid and writable for its length.
            let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if let Some(res) = ack_for(&buf[..n as usize], self.seq) {
                return res;
            }
        }
    }
}

/// The acknowledgement of request `seq` in a received datagram, if any.
fn ack_for(mut data: &[u8], seq: u32) -> Option<io::Result<()>> {
    let word = |b: &[u8], at: usize| -> Option<u32> { Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?)) };
    while data.len() >= NLMSG_HDRLEN {
        let len = word(data, 0)? as usize;
        let kind = u16::from_ne_bytes(data.get(4..6)?.try_into().ok()?);
        let this_seq = word(data, 8)?;
        if len < NLMSG_HDRLEN || len > data.len() {
            return Some(Err(io::Error::new(io::ErrorKind::InvalidData, "truncated netlink message")));
        }
        if kind == NLMSG_ERROR && this_seq == seq {
            let code = word(data, NLMSG_HDRLEN)? as i32;
            return Some(if code == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(-code)) });
        }
        let next = (len + 3) & !3;
        data = data.get(next..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_ne_bytes(b[at..at + 2].try_into().unwrap())
    }

    #[test]
    fn header_length_flags_and_sequence() {
        let b = link_up(7).finish(42);
        assert_eq!(b.len(), 32);
        assert_eq!(u32::from_ne_bytes(b[0..4].try_into().unwrap()), 32);
        assert_eq!(u16_at(&b, 4), RTM_NEWLINK);
        assert_eq!(u16_at(&b, 6), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(u32::from_ne_bytes(b[8..12].try_into().unwrap()), 42);
        assert_eq!(i32::from_ne_bytes(b[20..24].try_into().unwrap()), 7);
        assert_eq!(u32::from_ne_bytes(b[24..28].try_into().unwrap()), IFF_UP);
    }

    #[test]
    fn veth_nests_the_peer_with_its_namespace() {
        let b = new_veth("vb0123456789ab", 5, "eth0", "02:42:ac:11:00:02", 9).unwrap().finish(1);
        assert_eq!(b.len() % 4, 0);
        assert_eq!(u32::from_ne_bytes(b[0..4].try_into().unwrap()) as usize, b.len());
        // First attribute: the host name, NUL-terminated and padded.
        assert_eq!(u16_at(&b, 32), 19);
        assert_eq!(u16_at(&b, 34), IFLA_IFNAME);
        assert_eq!(&b[36..51], b"vb0123456789ab\0");
        // The link-info nest runs to the end of the message.
        let info = b.windows(2).position(|w| w == (IFLA_LINKINFO | NLA_F_NESTED).to_ne_bytes()).unwrap() - 2;
        assert_eq!(u16_at(&b, info) as usize, b.len() - info);
        assert!(b.windows(5).any(|w| w == b"veth\0"));
        assert!(b.windows(6).any(|w| w == [0x02, 0x42, 0xac, 0x11, 0x00, 0x02]));
        assert!(b.windows(5).any(|w| w == b"eth0\0"));
        assert!(new_veth("a", 1, "b", "not-a-mac", 3).is_err());
    }

    #[test]
    fn address_and_route_payloads() {
        let a = add_addr(3, Ipv4Addr::new(172, 17, 0, 2), 16).finish(1);
        assert_eq!(a[16], libc::AF_INET as u8);
        assert_eq!(a[17], 16);
        assert!(a.windows(4).any(|w| w == [172, 17, 0, 2]));
        let r = default_route(3, Ipv4Addr::new(172, 17, 0, 1)).finish(1);
        assert_eq!(r[16 + 4], RT_TABLE_MAIN);
        assert_eq!(u16_at(&r, 6), NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
        assert!(r.windows(4).any(|w| w == [172, 17, 0, 1]));
        let ip6: std::net::Ipv6Addr = "fd00::2".parse().unwrap();
        let a = add_addr(3, ip6, 64).finish(1);
        assert_eq!((a[16], a[17], a[18]), (libc::AF_INET6 as u8, 64, IFA_F_NODAD));
        assert!(a.windows(16).any(|w| w == ip6.octets()));
        let r = default_route(3, ip6).finish(1);
        assert_eq!(r[16], libc::AF_INET6 as u8);
    }

    fn error_msg(seq: u32, code: i32) -> Vec<u8> {
        let mut m = vec![0u8; 36];
        m[0..4].copy_from_slice(&36u32.to_ne_bytes());
        m[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m[8..12].copy_from_slice(&seq.to_ne_bytes());
        m[16..20].copy_from_slice(&code.to_ne_bytes());
        m
    }

    #[test]
    fn acks_and_errors_are_matched_by_sequence() {
        assert!(ack_for(&error_msg(3, 0), 3).unwrap().is_ok());
        let e = ack_for(&error_msg(3, -libc::EEXIST), 3).unwrap().unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EEXIST));
        assert!(ack_for(&error_msg(2, 0), 3).is_none());
        let mut two = error_msg(2, 0);
        two.extend(error_msg(3, -libc::ENODEV));
        assert_eq!(ack_for(&two, 3).unwrap().unwrap_err().raw_os_error(), Some(libc::ENODEV));
        assert!(ack_for(&[0u8; 8], 1).is_none());
        let mut bad = error_msg(3, 0);
        bad[0..4].copy_from_slice(&999u32.to_ne_bytes());
        assert!(ack_for(&bad, 3).unwrap().is_err());
    }
}
