//! Bridges and veth pairs, behind the narrow [`Links`] trait. berthd uses
//! [`NetlinkLinks`]: veths over rtnetlink (rtnl.rs), no process per
//! container; bridges, once per network, through iproute2's `ip -batch`
//! (the script is built by a pure function, unit-tested).

use crate::NetError;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::{Command, Stdio};

/// One container's attachment to one bridge network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VethPlan {
    /// Name of the container's namespace (under /run/netns).
    pub netns: String,
    /// Host end, on the bridge ("vb<hex>", at most 15 bytes).
    pub host_if: String,
    /// Container end ("eth0", "eth1", ...).
    pub container_if: String,
    pub bridge: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub mac: String,
    /// Default route through this gateway (first non-internal network only).
    pub default_route: Option<Ipv4Addr>,
    /// The IPv6 lease on a network with IPv6, and its default route.
    pub ip6: Option<(Ipv6Addr, u8)>,
    pub default_route6: Option<Ipv6Addr>,
    /// More addresses on the interface (`--link-local-ip`), as host routes.
    pub extra_addrs: Vec<IpAddr>,
}

pub trait Links: Send + Sync {
    /// Creates the bridge unless it exists, gives it each `gateway/prefix`
    /// (one per subnet of the network), and brings it up. A bridge made
    /// here carries `owner` as its alias (IFLA_IFALIAS); one that already
    /// existed keeps whatever alias it had.
    fn ensure_bridge(&self, name: &str, gateways: &[(IpAddr, u8)], owner: &str) -> Result<(), NetError>;
    /// Deletes bridge `name` only when its alias is `owner`, so that a
    /// daemon never deletes a bridge it did not make (one the admin made,
    /// or another daemon's). Returns whether it was deleted (or missing).
    fn delete_bridge(&self, name: &str, owner: &str) -> Result<bool, NetError>;
    /// The bridges with alias `owner` that no interface is plugged into.
    fn idle_bridges_marked(&self, owner: &str) -> Vec<String>;
    /// Deletes a link in the host namespace; a missing one is fine.
    fn delete_link(&self, name: &str) -> Result<(), NetError>;
    /// Creates and configures a veth pair for `plan`.
    fn add_veth(&self, plan: &VethPlan) -> Result<(), NetError>;
}

pub fn link_exists(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && std::path::Path::new("/sys/class/net").join(name).exists()
}

/// Linux interface names: 1..=15 bytes, no '/', whitespace or ':'.
pub fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b':')
}

/// The alias berthd gives the bridges it makes: `berth:` and its data
/// root, so `ip link` tells whose a bridge is. A root that `ip -batch`
/// could not take as one word, or too long for an alias (IFALIASZ is
/// 256), is named by a digest instead.
pub fn owner_alias(data_root: &std::path::Path) -> String {
    let root = data_root.to_string_lossy();
    if root.len() <= 200 && root.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'#') {
        format!("berth:{root}")
    } else {
        use sha2::Digest;
        let d = sha2::Sha256::digest(root.as_bytes());
        format!("berth:sha256-{}", hex::encode(&d[..16]))
    }
}

/// The alias of link `name` in the host namespace ("" when it has none).
pub fn link_alias(name: &str) -> Option<String> {
    if !valid_ifname(name) {
        return None;
    }
    let raw = std::fs::read_to_string(std::path::Path::new("/sys/class/net").join(name).join("ifalias")).ok()?;
    Some(raw.trim_end_matches('\n').to_string())
}

pub fn bridge_script(name: &str, gateways: &[(IpAddr, u8)], exists: bool, owner: &str) -> String {
    let mut s = String::new();
    if !exists {
        s.push_str(&format!("link add name {name} type bridge\n"));
        s.push_str(&format!("link set dev {name} alias {owner}\n"));
    }
    for (gw, prefix) in gateways {
        // No duplicate address detection: the gateway answers at once.
        let nodad = if gw.is_ipv6() { " nodad" } else { "" };
        s.push_str(&format!("addr replace {gw}/{prefix} dev {name}{nodad}\n"));
    }
    s.push_str(&format!("link set {name} up\n"));
    s
}

fn ip_batch(netns: Option<&str>, script: &str) -> Result<(), NetError> {
    let mut cmd = Command::new("ip");
    if let Some(ns) = netns {
        cmd.args(["-n", ns]);
    }
    cmd.args(["-batch", "-"]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    let label = || format!("ip {}-batch", netns.map(|n| format!("-n {n} ")).unwrap_or_default());
    let _guard = crate::exec::command_lock();
    let mut child = cmd.spawn().map_err(NetError::io(format!("running {} (is iproute2 installed?)", label())))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes()).map_err(NetError::io(label()))?;
    }
    let out = child.wait_with_output().map_err(NetError::io(label()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(NetError::Command { cmd: format!("{} <<{:?}", label(), script), msg: String::from_utf8_lossy(&out.stderr).trim().to_string() })
    }
}

/// Creates bridge `name` with its gateways unless it exists, and brings
/// it up, through `ip -batch` (once per network, so a process is fine).
fn ensure_bridge_with_ip(name: &str, gateways: &[(IpAddr, u8)], owner: &str) -> Result<(), NetError> {
    if !valid_ifname(name) {
        return Err(NetError::Invalid(format!("invalid bridge name {name:?}")));
    }
    if gateways.iter().any(|(g, _)| g.is_ipv6()) {
        // A bridge made while the host's default had IPv6 off keeps it off.
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "0");
    }
    ip_batch(None, &bridge_script(name, gateways, link_exists(name), owner))?;
    // Published ports on 127.0.0.1 are DNAT'd to the bridge: the kernel
    // must route loopback sources out of it.
    let _ = std::fs::write(format!("/proc/sys/net/ipv4/conf/{name}/route_localnet"), "1");
    Ok(())
}

/// A recording fake for unit tests of the managers.
#[derive(Default)]
pub struct FakeLinks {
    pub log: std::sync::Mutex<Vec<String>>,
    /// Bridges that exist but were not made by this daemon.
    pub foreign: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl FakeLinks {
    fn rec(&self, s: String) {
        if let Ok(mut l) = self.log.lock() {
            l.push(s);
        }
    }
    pub fn entries(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Links for FakeLinks {
    fn ensure_bridge(&self, name: &str, gateways: &[(IpAddr, u8)], _owner: &str) -> Result<(), NetError> {
        let list: Vec<String> = gateways.iter().map(|(g, p)| format!("{g}/{p}")).collect();
        self.rec(format!("bridge {name} {}", list.join(" ")));
        Ok(())
    }
    fn idle_bridges_marked(&self, _owner: &str) -> Vec<String> {
        Vec::new()
    }
    fn delete_bridge(&self, name: &str, _owner: &str) -> Result<bool, NetError> {
        let foreign = self.foreign.lock().map(|f| f.contains(name)).unwrap_or(false);
        self.rec(format!("{} {name}", if foreign { "keep" } else { "del" }));
        Ok(!foreign)
    }
    fn delete_link(&self, name: &str) -> Result<(), NetError> {
        self.rec(format!("del {name}"));
        Ok(())
    }
    fn add_veth(&self, p: &VethPlan) -> Result<(), NetError> {
        let v6 = p.ip6.map(|(ip, pl)| format!(" {ip}/{pl}")).unwrap_or_default();
        self.rec(format!("veth {} {} {}/{}{v6} {} on {}", p.host_if, p.container_if, p.ip, p.prefix, p.mac, p.bridge));
        Ok(())
    }
}

/// A locally administered MAC from an IPv4 address, as Docker derives it.
pub fn mac_for(ip: Ipv4Addr) -> String {
    let o = ip.octets();
    format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3])
}

/// veth pairs over rtnetlink (rtnl.rs), without a process per container;
/// bridges, made once per network, still go through iproute2.
pub struct NetlinkLinks;

/// The index of link `name` in the calling thread's namespace.
fn if_index(name: &str) -> Option<i32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: `c` is a NUL-terminated name alive for the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (index != 0).then_some(index as i32)
}

/// Runs `f` with a netlink socket inside the namespace `ns`, on a thread of
/// its own (setns changes only the calling thread).
fn in_netns<T: Send>(
    ns: &std::fs::File,
    f: impl FnOnce(&mut crate::rtnl::Rtnl) -> std::io::Result<T> + Send,
) -> std::io::Result<T> {
    use std::os::fd::AsRawFd;
    let fd = ns.as_raw_fd();
    std::thread::scope(|s| {
        s.spawn(move || {
            // SAFETY: setns takes an open namespace fd; it moves only this thread.
            if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut nl = crate::rtnl::Rtnl::open()?;
            f(&mut nl)
        })
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("netns thread panicked")))
    })
}

impl Links for NetlinkLinks {
    fn ensure_bridge(&self, name: &str, gateways: &[(IpAddr, u8)], owner: &str) -> Result<(), NetError> {
        ensure_bridge_with_ip(name, gateways, owner)
    }

    fn idle_bridges_marked(&self, owner: &str) -> Vec<String> {
        let net = std::path::Path::new("/sys/class/net");
        let Ok(rd) = std::fs::read_dir(net) else { return Vec::new() };
        rd.flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| link_alias(name).is_some_and(|a| a == owner))
            // Only bridges: brif/ lists their ports (none when idle).
            .filter(|name| std::fs::read_dir(net.join(name).join("brif")).is_ok_and(|mut ports| ports.next().is_none()))
            .collect()
    }

    fn delete_bridge(&self, name: &str, owner: &str) -> Result<bool, NetError> {
        match link_alias(name) {
            None => Ok(true),
            Some(alias) if alias == owner => self.delete_link(name).map(|()| true),
            Some(_) => Ok(false),
        }
    }

    fn delete_link(&self, name: &str) -> Result<(), NetError> {
        let Some(index) = valid_ifname(name).then(|| if_index(name)).flatten() else {
            return Ok(());
        };
        let res = crate::rtnl::Rtnl::open().and_then(|mut nl| nl.request(crate::rtnl::del_link(index)));
        match res {
            Err(e) if e.raw_os_error() != Some(libc::ENODEV) => Err(NetError::io(format!("deleting link {name}"))(e)),
            _ => Ok(()),
        }
    }

    fn add_veth(&self, p: &VethPlan) -> Result<(), NetError> {
        use std::os::fd::AsRawFd;
        if !valid_ifname(&p.host_if) || !valid_ifname(&p.container_if) || !valid_ifname(&p.bridge) {
            return Err(NetError::Invalid(format!("invalid interface names in {p:?}")));
        }
        let master = if_index(&p.bridge).ok_or_else(|| NetError::Invalid(format!("bridge {} not found", p.bridge)))?;
        let ns_path = crate::netns::path(&p.netns);
        let ns = std::fs::File::open(&ns_path).map_err(NetError::io(format!("opening {}", ns_path.display())))?;
        let mut nl = crate::rtnl::Rtnl::open().map_err(NetError::io("netlink socket"))?;
        let veth = crate::rtnl::new_veth(&p.host_if, master as u32, &p.container_if, &p.mac, ns.as_raw_fd())
            .map_err(NetError::io(format!("veth {}", p.host_if)))?;
        nl.request(veth).map_err(NetError::io(format!("creating veth {} on {}", p.host_if, p.bridge)))?;
        let res = (|| -> std::io::Result<()> {
            let host = if_index(&p.host_if).ok_or_else(|| std::io::Error::from_raw_os_error(libc::ENODEV))?;
            // Published ports reached from the same bridge come back through it.
            std::fs::write(format!("/sys/class/net/{}/brport/hairpin_mode", p.host_if), "1")?;
            nl.request(crate::rtnl::link_up(host))?;
            in_netns(&ns, |nl| {
                let index = if_index(&p.container_if).ok_or_else(|| std::io::Error::from_raw_os_error(libc::ENODEV))?;
                if p.ip6.is_some() {
                    // Inside a new namespace IPv6 follows the host's default;
                    // this interface needs it on (dockerd turns it on only
                    // for IPv6 networks).
                    let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", p.container_if), "0");
                }
                nl.request(crate::rtnl::add_addr(index, p.ip, p.prefix))?;
                if let Some((ip6, prefix)) = p.ip6 {
                    nl.request(crate::rtnl::add_addr(index, ip6, prefix))?;
                }
                for ip in &p.extra_addrs {
                    nl.request(crate::rtnl::add_addr(index, *ip, if ip.is_ipv6() { 128 } else { 32 }))?;
                }
                nl.request(crate::rtnl::link_up(index))?;
                if let Some(gw) = p.default_route {
                    nl.request(crate::rtnl::default_route(index, gw))?;
                }
                if let Some(gw) = p.default_route6 {
                    nl.request(crate::rtnl::default_route(index, gw))?;
                }
                Ok(())
            })
        })();
        if let Err(e) = res {
            let _ = self.delete_link(&p.host_if);
            return Err(NetError::io(format!("configuring veth {} in {}", p.container_if, p.netns))(e));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> VethPlan {
        VethPlan {
            netns: "berth-abc".into(),
            host_if: "vbabc0".into(),
            container_if: "eth0".into(),
            bridge: "berth0".into(),
            ip: Ipv4Addr::new(172, 18, 0, 2),
            prefix: 16,
            mac: mac_for(Ipv4Addr::new(172, 18, 0, 2)),
            default_route: Some(Ipv4Addr::new(172, 18, 0, 1)),
            ip6: None,
            default_route6: None,
            extra_addrs: vec![],
        }
    }

    #[test]
    fn mac_and_bridge_script() {
        assert_eq!(plan().mac, "02:42:ac:12:00:02");
        let gw: IpAddr = Ipv4Addr::new(10, 0, 0, 1).into();
        assert_eq!(bridge_script("b0", &[(gw, 24)], true, "berth:/d"), "addr replace 10.0.0.1/24 dev b0\nlink set b0 up\n");
        assert_eq!(
            bridge_script("b0", &[(gw, 24)], false, "berth:/d"),
            "link add name b0 type bridge\nlink set dev b0 alias berth:/d\naddr replace 10.0.0.1/24 dev b0\nlink set b0 up\n"
        );
        let gw6: IpAddr = "fd00:1::1".parse().unwrap();
        assert_eq!(
            bridge_script("b0", &[(gw, 24), (gw6, 64)], true, "berth:/d"),
            "addr replace 10.0.0.1/24 dev b0\naddr replace fd00:1::1/64 dev b0 nodad\nlink set b0 up\n"
        );
    }

    #[test]
    fn the_owner_alias_is_one_word_of_bounded_length() {
        assert_eq!(owner_alias(std::path::Path::new("/var/lib/berth")), "berth:/var/lib/berth");
        for odd in ["/data root/x", "/a#b", &format!("/{}", "d".repeat(300))] {
            let a = owner_alias(std::path::Path::new(odd));
            assert!(a.starts_with("berth:sha256-") && a.len() == "berth:sha256-".len() + 32, "{a}");
            assert_eq!(a, owner_alias(std::path::Path::new(odd)), "stable");
        }
        assert_ne!(owner_alias(std::path::Path::new("/a b")), owner_alias(std::path::Path::new("/a  b")));
    }

    #[test]
    fn ifnames() {
        assert!(valid_ifname("berth0"));
        assert!(valid_ifname("br-0123456789ab"));
        for bad in ["", "0123456789abcdef", "a/b", "a b", "a:b", "..", "a\nb"] {
            assert!(!valid_ifname(bad), "{bad:?}");
        }
    }
}
