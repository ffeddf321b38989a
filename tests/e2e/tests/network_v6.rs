//! IPv6 and dual-stack networks, several subnets per network, auxiliary
//! addresses, MAC addresses, link-local addresses, links on user networks
//! and endpoint driver options: each observed inside the containers.
//! Only documentation (2001:db8::/32) and private prefixes, and traffic
//! only between the test's own containers.
use berth_e2e::{both, Cli, TestDaemon};

/// Per-CLI prefixes so the two variants of a test never share a subnet.
fn pre(c: Cli) -> (&'static str, &'static str) {
    if c == Cli::Berth {
        ("10.241", "2001:db8:41")
    } else {
        ("10.243", "2001:db8:43")
    }
}

fn fmt(d: &TestDaemon, c: Cli, what: &str, obj: &str) -> String {
    d.cli(c, &["inspect", "-f", what, obj]).assert_ok().out()
}

both! {
    fn dual_stack_ping6_dns_inspect(d, c) {
        let (v4, v6) = pre(c);
        let s4 = format!("{v4}.0.0/24");
        let s6 = format!("{v6}::/64");
        d.cli(c, &["network", "create", "--ipv6", "--subnet", &s4, "--subnet", &s6, "v6net"]).assert_ok();
        let ipam = d.cli(c, &["network", "inspect", "-f", "{{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}}/{{.Gateway}} {{end}}", "v6net"]).assert_ok().out();
        assert_eq!(ipam, format!("true {s4}/{v4}.0.1 {s6}/{v6}::1"));
        d.cli(c, &["run", "-d", "--name", "c1", "--network", "v6net", "busybox", "sleep", "60"]).assert_ok();
        let got = fmt(d, c, "{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}/{{.GlobalIPv6PrefixLen}} gw {{.IPv6Gateway}} {{.IPAddress}}{{end}}", "c1");
        assert_eq!(got, format!("{v6}::2/64 gw {v6}::1 {v4}.0.2"));
        let ns = d.cli(c, &["network", "inspect", "-f", "{{range .Containers}}{{.IPv6Address}}{{end}}", "v6net"]).assert_ok().out();
        assert_eq!(ns, format!("{v6}::2/64"));
        // A fixed IPv6 address; ping6 to c1 by address, AAAA from the embedded DNS.
        let script = format!("cat /etc/hosts; ip -6 addr show eth0; ip -6 route; ping6 -c1 -w5 {v6}::2; ping6 -c1 -w5 {v6}::1; nslookup -type=AAAA c1 127.0.0.11");
        let out = d.cli(c, &["run", "--rm", "--network", "v6net", "--ip6", &format!("{v6}::99"), "busybox", "sh", "-c", &script]);
        out.assert_ok();
        assert!(out.stdout.contains(&format!("inet6 {v6}::99/64 scope global")), "{out:?}");
        assert!(out.stdout.lines().any(|l| l.starts_with(&format!("{v6}::99\t"))), "/etc/hosts lists the v6 address: {out:?}");
        assert!(out.stdout.contains(&format!("default via {v6}::1 dev eth0")), "{out:?}");
        assert_eq!(out.stdout.matches("1 packets received").count(), 2, "{out:?}");
        assert!(out.stdout.contains(&format!("Address: {v6}::2")), "{out:?}");
        // The bridge holds both gateways.
        let br = d.cli(c, &["network", "inspect", "-f", "{{.Id}}", "v6net"]).assert_ok().out();
        let addrs = std::process::Command::new("ip").args(["addr", "show", &format!("br-{}", &br[..12])]).output().expect("ip");
        let addrs = String::from_utf8_lossy(&addrs.stdout);
        assert!(addrs.contains(&format!("inet {v4}.0.1/24")) && addrs.contains(&format!("inet6 {v6}::1/64")), "{addrs}");
        // ip6tables: the same isolation and forwarding as iptables, and NAT.
        let rules = std::process::Command::new("ip6tables-save").output().expect("ip6tables-save");
        let rules = String::from_utf8_lossy(&rules.stdout);
        let brn = format!("br-{}", &br[..12]);
        assert!(rules.contains(&format!("-A BERTH-{}-POST -s {s6} ! -o {brn} -j MASQUERADE", d.bridge())), "{rules}");
        assert!(rules.contains(&format!("-A BERTH-{}-ISO2 -o {brn} -j DROP", d.bridge())), "{rules}");
        // A v6 address outside the subnet, or taken, is refused; nothing runs.
        d.cli(c, &["run", "--rm", "--network", "v6net", "--ip6", "2001:db8:ff::5", "busybox", "true"]).assert_fail().assert_stderr_contains("is not in any configured subnet");
        // network connect --ip6 to a running container on the default bridge.
        d.cli(c, &["run", "-d", "--name", "c3", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["network", "connect", "--ip6", &format!("{v6}::77"), "v6net", "c3"]).assert_ok();
        let out = d.cli(c, &["exec", "c3", "sh", "-c", &format!("ip -6 addr show eth1; ping6 -c1 -w5 {v6}::2")]);
        out.assert_ok();
        assert!(out.stdout.contains(&format!("inet6 {v6}::77/64 scope global")) && out.stdout.contains("1 packets received"), "{out:?}");
        assert_eq!(fmt(d, c, "{{.NetworkSettings.Networks.v6net.IPAMConfig.IPv6Address}}", "c3"), format!("{v6}::77"));
        d.cli(c, &["rm", "-f", "c1", "c3"]).assert_ok();
        d.cli(c, &["network", "rm", "v6net"]).assert_ok();
    }
}

both! {
    fn ipv6_subnet_alone_gets_an_ipv4_pool(d, c) {
        let (_, v6) = pre(c);
        d.cli(c, &["network", "create", "--ipv6", "--subnet", &format!("{v6}:1::/64"), "only6"]).assert_ok();
        let cfg = d.cli(c, &["network", "inspect", "-f", "{{len .IPAM.Config}} {{(index .IPAM.Config 0).Subnet}}", "only6"]).assert_ok().out();
        assert!(cfg.starts_with("2 ") && cfg.split(' ').nth(1).is_some_and(|s| !s.contains(':')), "{cfg}");
        // --ipv6 without a subnet: a unique-local /64.
        d.cli(c, &["network", "create", "--ipv6", "ula"]).assert_ok();
        let ula = d.cli(c, &["network", "inspect", "-f", "{{(index .IPAM.Config 1).Subnet}}", "ula"]).assert_ok().out();
        assert!(ula.starts_with("fd") && ula.ends_with("::/64"), "{ula}");
        let out = d.cli(c, &["run", "--rm", "--network", "ula", "busybox", "ip", "-6", "addr", "show", "eth0"]);
        out.assert_ok();
        assert!(out.stdout.contains(&format!("inet6 {}2/64 scope global", ula.trim_end_matches("/64"))), "{out:?}");
        // IPv6 --gateway and --ip-range (matched to the IPv6 subnet by the CLI);
        // an internal network gets no IPv6 default route.
        let s6 = format!("{v6}:2::/64");
        d.cli(c, &["network", "create", "--internal", "--subnet", &s6, "--gateway", &format!("{v6}:2::ffff"), "--ip-range", &format!("{v6}:2::100/120"), "gw6"]).assert_ok();
        let cfg = d.cli(c, &["network", "inspect", "-f", "{{.Internal}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}};{{end}}", "gw6"]).assert_ok().out();
        assert!(cfg.starts_with("true ") && cfg.ends_with(&format!("{s6} {v6}:2::ffff {v6}:2::100/120;")), "{cfg}");
        let out = d.cli(c, &["run", "--rm", "--network", "gw6", "busybox", "sh", "-c", "ip -6 addr show eth0; ip -6 route"]);
        out.assert_ok();
        assert!(out.stdout.contains(&format!("inet6 {v6}:2::100/64 scope global")), "{out:?}");
        assert!(!out.stdout.contains("default via"), "internal: no IPv6 default route: {out:?}");
        let rules = std::process::Command::new("ip6tables-save").output().expect("ip6tables-save");
        let rules = String::from_utf8_lossy(&rules.stdout);
        assert!(!rules.contains(&format!("-s {s6} ")), "internal: no NAT: {rules}");
        d.cli(c, &["network", "rm", "only6", "ula", "gw6"]).assert_ok();
    }
}

both! {
    fn two_ipv4_subnets_and_aux_addresses(d, c) {
        let (v4, _) = pre(c);
        let a = format!("{v4}.1.0/30");
        let b = format!("{v4}.2.0/24");
        d.cli(c, &["network", "create", "--subnet", &a, "--subnet", &b, "two"]).assert_ok();
        // Pools keep the order of the request. berth's CLI sends the
        // subnets in the order given; the docker CLI collects them in a Go
        // map, so its order is random (dockerd sees the same).
        let cfg = d.cli(c, &["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", "two"]).assert_ok().out();
        let small_first = cfg == format!("{a} {b}");
        assert!(small_first || (c == Cli::Docker && cfg == format!("{b} {a}")), "{cfg}");
        // Addresses come from the first pool that has one: the /30 has
        // exactly one free address.
        d.cli(c, &["run", "-d", "--name", "t1", "--network", "two", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "t2", "--network", "two", "busybox", "sleep", "60"]).assert_ok();
        let (t1, t2) = if small_first { (format!("{v4}.1.2"), format!("{v4}.2.2")) } else { (format!("{v4}.2.2"), format!("{v4}.2.3")) };
        assert_eq!(fmt(d, c, "{{.NetworkSettings.Networks.two.IPAddress}}", "t1"), t1);
        assert_eq!(fmt(d, c, "{{.NetworkSettings.Networks.two.IPAddress}} {{.NetworkSettings.Networks.two.Gateway}}", "t2"), format!("{t2} {v4}.2.1"));
        // --ip from the second subnet; it reaches t2 and its own gateway.
        let out = d.cli(c, &["run", "--rm", "--network", "two", "--ip", &format!("{v4}.2.50"), "busybox", "sh", "-c",
            &format!("ip -4 addr show eth0; ping -c1 -w5 {t2}; ping -c1 -w5 {v4}.2.1")]);
        out.assert_ok();
        assert!(out.stdout.contains(&format!("inet {v4}.2.50/24")), "{out:?}");
        assert_eq!(out.stdout.matches("1 packets received").count(), 2, "{out:?}");
        // Auxiliary addresses: shown, and never handed out.
        d.cli(c, &["network", "create", "--subnet", &format!("{v4}.3.0/29"), "--ip-range", &format!("{v4}.3.0/30"), "--aux-address", &format!("router={v4}.3.2"), "auxnet"]).assert_ok();
        let aux = d.cli(c, &["network", "inspect", "-f", "{{(index .IPAM.Config 0).AuxiliaryAddresses}} {{(index .IPAM.Config 0).IPRange}}", "auxnet"]).assert_ok().out();
        assert_eq!(aux, format!("map[router:{v4}.3.2] {v4}.3.0/30"));
        let out = d.cli(c, &["run", "--rm", "--network", "auxnet", "busybox", "ip", "-4", "addr", "show", "eth0"]);
        out.assert_ok();
        assert!(out.stdout.contains(&format!("inet {v4}.3.3/29")), "{out:?}");
        d.cli(c, &["run", "--rm", "--network", "auxnet", "--ip", &format!("{v4}.3.2"), "busybox", "true"]).assert_fail().assert_stderr_contains("Address already in use");
        d.cli(c, &["network", "create", "--subnet", &format!("{v4}.4.0/29"), "--aux-address", &format!("gw={v4}.4.1"), "badaux"]).assert_fail().assert_stderr_contains("auxiliary address gw=");
        d.cli(c, &["rm", "-f", "t1", "t2"]).assert_ok();
        d.cli(c, &["network", "rm", "two", "auxnet"]).assert_ok();
        let names = d.cli(c, &["network", "ls", "--format", "{{.Name}}"]).assert_ok().lines();
        assert!(!names.contains(&"badaux".to_string()), "{names:?}");
    }
}

both! {
    fn mac_link_local_links_driver_opts(d, c) {
        let (v4, _) = pre(c);
        d.cli(c, &["network", "create", "--subnet", &format!("{v4}.5.0/24"), "mnet"]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "upstream", "--network", "mnet", "busybox", "sleep", "60"]).assert_ok();
        let script = "cat /sys/class/net/eth0/address; ip addr show eth0; nslookup bar 127.0.0.11";
        let out = d.cli(c, &["run", "--name", "m1", "--network", "mnet", "--mac-address", "02:42:0a:f1:00:99", "--link-local-ip", "169.254.7.7",
            "--link", "upstream:bar", "busybox", "sh", "-c", script]);
        out.assert_ok();
        assert!(out.stdout.starts_with("02:42:0a:f1:00:99\n"), "{out:?}");
        assert!(out.stdout.contains("inet 169.254.7.7/32"), "{out:?}");
        assert!(out.stdout.contains(&format!("Address: {v4}.5.2")), "link alias resolves to upstream: {out:?}");
        let shown = fmt(d, c, "{{.NetworkSettings.Networks.mnet.MacAddress}} {{.NetworkSettings.Networks.mnet.Links}} {{.NetworkSettings.Networks.mnet.IPAMConfig.LinkLocalIPs}}", "m1");
        assert_eq!(shown, "02:42:0a:f1:00:99 [upstream:bar] [169.254.7.7]");
        // The alias is m1's alone.
        let other = d.cli(c, &["run", "--rm", "--network", "mnet", "busybox", "nslookup", "bar", "127.0.0.11"]);
        assert!(!other.stdout.contains(&format!("Address: {v4}.5.2")), "{other:?}");
        // On the default bridge: the MAC is honoured too.
        let out = d.cli(c, &["run", "--rm", "--mac-address", "02:42:0a:f1:00:98", "busybox", "cat", "/sys/class/net/eth0/address"]);
        out.assert_ok().assert_stdout("02:42:0a:f1:00:98");
        d.cli(c, &["run", "--rm", "--mac-address", "not-a-mac", "busybox", "true"]).assert_fail();
        // network connect with a MAC and links, on a stopped container, then started.
        d.cli(c, &["create", "--name", "m2", "busybox", "sh", "-c", "cat /sys/class/net/eth1/address; nslookup up2 127.0.0.11"]).assert_ok();
        let body = r#"{"Container":"m2","EndpointConfig":{"MacAddress":"02:42:0a:f1:00:97","Links":["upstream:up2"],"DriverOpts":{"com.example.x":"1"}}}"#;
        let (code, resp) = d.api("POST", "/networks/mnet/connect", Some(body));
        assert_eq!(code, 200, "{resp}");
        let shown = fmt(d, c, "{{.NetworkSettings.Networks.mnet.MacAddress}} {{.NetworkSettings.Networks.mnet.Links}} {{.NetworkSettings.Networks.mnet.DriverOpts}}", "m2");
        assert_eq!(shown, "02:42:0a:f1:00:97 [upstream:up2] map[com.example.x:1]");
        let out = d.cli(c, &["start", "-a", "m2"]);
        out.assert_ok();
        assert!(out.stdout.starts_with("02:42:0a:f1:00:97\n") && out.stdout.contains(&format!("Address: {v4}.5.2")), "{out:?}");
        d.cli(c, &["rm", "-f", "upstream", "m1", "m2"]).assert_ok();
        d.cli(c, &["network", "rm", "mnet"]).assert_ok();
    }
}

/// What stays refused, through the API: each a 400 naming it, nothing made.
#[test]
fn refusals() {
    let d = TestDaemon::start();
    let nets = |d: &TestDaemon| d.docker(&["network", "ls", "-q"]).assert_ok().lines().len();
    let before = nets(&d);
    for (body, want) in [
        (r#"{"Name":"r1","EnableIPv6":true,"IPAM":{"Config":[{"Subnet":"fe80::/64"}]}}"#, "reserved range fe80::/10 (link-local)"),
        (r#"{"Name":"r2","IPAM":{"Config":[{"Subnet":"2001:db8:51::/64"},{"Subnet":"2001:db8:52::/64"}]}}"#, "berth does not support more than one IPv6 subnet per network yet"),
        (r#"{"Name":"r3","EnableIPv4":false,"EnableIPv6":true}"#, "berth does not support IPv6-only networks (EnableIPv4=false) yet"),
        (r#"{"Name":"r4","IPAM":{"Config":[{"Subnet":"2001:db8:53::/64","Gateway":"10.0.0.1"}]}}"#, "invalid gateway 10.0.0.1 for IPv6 subnet"),
        (r#"{"Name":"r5","IPAM":{"Config":[{"Subnet":"10.251.0.0/24"},{"Subnet":"10.251.0.128/25"}]}}"#, "Pool overlaps"),
        (r#"{"Name":"r6","IPAM":{"Config":[{"Subnet":"10.252.0.0/24","AuxiliaryAddresses":{"a":"10.9.9.9"}}]}}"#, "auxiliary address a=10.9.9.9 is not in subnet"),
    ] {
        let (code, resp) = d.api("POST", "/networks/create", Some(body));
        assert_eq!(code, 400, "{body}: {resp}");
        assert!(resp.contains(want), "{body}: {resp}");
    }
    assert_eq!(nets(&d), before);
    let create = |path: &str, body: &str| d.api("POST", path, Some(body));
    for (path, body, want) in [
        ("/v1.47/containers/create", r#"{"Image":"busybox","Cmd":["true"],"NetworkingConfig":{"EndpointsConfig":{"bridge":{"DriverOpts":{"com.docker.network.endpoint.sysctls":"x"}}}}}"#, "berth does not support the endpoint driver option com.docker.network.endpoint.sysctls yet"),
        ("/v1.47/containers/create", r#"{"Image":"busybox","Cmd":["true"],"NetworkingConfig":{"EndpointsConfig":{"bridge":{"GwPriority":5}}}}"#, "GwPriority yet"),
        ("/v1.43/containers/create", r#"{"Image":"busybox","Cmd":["true"],"MacAddress":"02:42:0a:00:00:01","HostConfig":{"NetworkMode":"none"}}"#, "conflicting options: mac-address and the network mode"),
        ("/v1.44/containers/create", r#"{"Image":"busybox","Cmd":["true"],"MacAddress":"02:42:0a:00:00:01","NetworkingConfig":{"EndpointsConfig":{"bridge":{"MacAddress":"02:42:0a:00:00:02"}}}}"#, "container-wide MAC address must match"),
        ("/v1.47/containers/create", r#"{"Image":"busybox","Cmd":["true"],"NetworkingConfig":{"EndpointsConfig":{"bridge":{"MacAddress":"03:42:0a:00:00:02"}}}}"#, "is a multicast address"),
        ("/v1.47/containers/create", r#"{"Image":"busybox","Cmd":["true"],"NetworkingConfig":{"EndpointsConfig":{"bridge":{"IPAMConfig":{"LinkLocalIPs":["10.0.0.1"]}}}}}"#, "is not in 169.254.0.0/16 or fe80::/10"),
        ("/v1.47/containers/create", r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"::","HostPort":"8080"}]}}}"#, "berth does not support publishing ports on IPv6 host addresses (HostIp ::) yet"),
    ] {
        let (code, resp) = create(path, body);
        assert_eq!(code, 400, "{body}: {resp}");
        assert!(resp.contains(want), "{body}: {resp}");
    }
    assert!(d.docker(&["ps", "-aq"]).assert_ok().out().is_empty());
    // API 1.43: Config.MacAddress sets the MAC (and stays in Config).
    let (code, resp) = create("/v1.43/containers/create?name=old", r#"{"Image":"busybox","Cmd":["cat","/sys/class/net/eth0/address"],"MacAddress":"02:42:0a:00:00:31"}"#);
    assert_eq!(code, 201, "{resp}");
    d.docker(&["start", "-a", "old"]).assert_ok().assert_stdout("02:42:0a:00:00:31");
    let (_, inspect) = d.api("GET", "/v1.43/containers/old/json", None);
    assert!(inspect.contains(r#""MacAddress":"02:42:0a:00:00:31""#), "{inspect}");
    // Path parameters are percent-decoded: a name with a space.
    d.docker(&["network", "create", "test 01"]).assert_ok();
    let (code, resp) = d.api("GET", "/networks/test%2001", None);
    assert_eq!(code, 200, "{resp}");
    let (code, _) = d.api("DELETE", "/networks/test%2001", None);
    assert_eq!(code, 204);
    d.docker(&["rm", "-f", "old"]).assert_ok();
    d.stop();
}

/// After berthd is killed and started again, a running container keeps
/// its IPv6 lease (a new one gets the next address), its AAAA name, and
/// ping6 still works; the bridge has its IPv6 gateway back.
#[test]
fn ipv6_leases_survive_daemon_kill9() {
    let d = TestDaemon::start();
    d.berth(&["network", "create", "--ipv6", "--subnet", "2001:db8:45::/64", "keep6"]).assert_ok();
    d.berth(&["run", "-d", "--name", "kept", "--network", "keep6", "busybox", "sleep", "60"]).assert_ok();
    d.kill9();
    d.restart();
    let out = d.berth(&["run", "--rm", "--network", "keep6", "busybox", "sh", "-c", "ip -6 addr show eth0; ping6 -c1 -w5 kept; nslookup -type=AAAA kept 127.0.0.11"]);
    out.assert_ok();
    assert!(out.stdout.contains("inet6 2001:db8:45::3/64 scope global"), "the kept lease is not handed out again: {out:?}");
    assert!(out.stdout.contains("1 packets received") && out.stdout.contains("Address: 2001:db8:45::2"), "{out:?}");
    d.docker(&["inspect", "-f", "{{.NetworkSettings.Networks.keep6.GlobalIPv6Address}}", "kept"]).assert_ok().assert_stdout("2001:db8:45::2");
    d.berth(&["rm", "-f", "kept"]).assert_ok();
    d.berth(&["network", "rm", "keep6"]).assert_ok();
    d.stop();
}

both! {
    fn ipv6_fields_are_present_when_unset(d, c) {
        // An IPv4-only container shows dockerd's IPv6 fields as empty
        // strings and zeros: per network GlobalIPv6Address/PrefixLen and
        // IPv6Gateway; at the top (deprecated) LinkLocalIPv6Address/PrefixLen,
        // which dockerd's per-network EndpointSettings does not have.
        for (name, args) in [("v4run", vec!["run", "-d", "--name", "v4run", "busybox", "sleep", "1000"]), ("v4new", vec!["create", "--name", "v4new", "busybox"])] {
            d.cli(c, &args).assert_ok();
            let out = d.cli(c, &["inspect", "-f", "{{json .NetworkSettings}}", name]);
            out.assert_ok();
            let ns: serde_json::Value = serde_json::from_str(&out.out()).expect("NetworkSettings JSON");
            assert_eq!(ns["LinkLocalIPv6Address"], "", "{ns}");
            assert_eq!(ns["LinkLocalIPv6PrefixLen"], 0, "{ns}");
            assert_eq!(ns["GlobalIPv6Address"], "", "{ns}");
            assert_eq!(ns["IPv6Gateway"], "", "{ns}");
            let bridge = &ns["Networks"]["bridge"];
            assert_eq!(bridge["GlobalIPv6Address"], "", "{bridge}");
            assert_eq!(bridge["GlobalIPv6PrefixLen"], 0, "{bridge}");
            assert_eq!(bridge["IPv6Gateway"], "", "{bridge}");
            assert!(bridge.get("LinkLocalIPv6Address").is_none(), "{bridge}");
        }
        d.cli(c, &["rm", "-f", "v4run", "v4new"]).assert_ok();
    }
}
