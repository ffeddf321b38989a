//! Networking: default bridge, none, host, user networks, published ports,
//! links, connect/disconnect, the CLIs' network flags and commands.
//! Traffic only to the project's own containers and loopback.
use berth_e2e::{both, TestDaemon};

fn ip_of(d: &TestDaemon, c: &str, net: &str) -> String {
    let f = format!("{{{{.NetworkSettings.Networks.{net}.IPAddress}}}}");
    d.docker(&["inspect", "-f", &f, c]).assert_ok().out()
}

both! {
    fn builtin_networks_listed(d, c) {
        let out = d.cli(c, &["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
        out.assert_ok();
        let lines = out.lines();
        for want in ["bridge bridge", "host host", "none null"] {
            assert!(lines.contains(&want.to_string()), "{out:?}");
        }
        let table = d.cli(c, &["network", "ls"]).assert_ok().lines();
        assert!(table[0].starts_with("NETWORK ID     NAME      DRIVER    SCOPE"), "{table:?}");
        assert_eq!(table.len(), 4, "{table:?}");
        assert!(table[1].ends_with("bridge    bridge    local"), "{table:?}");
        let br = d.cli(c, &["network", "inspect", "-f", "{{index .Options \"com.docker.network.bridge.name\"}}", "bridge"]);
        br.assert_ok().assert_stdout(&d.bridge());
        let json = d.cli(c, &["network", "inspect", "host"]).assert_ok().out();
        assert!(json.starts_with("[\n    {\n        \"Name\": \"host\","), "{json}");
        d.cli(c, &["network", "inspect", "nosuchnet"]).assert_code(1).assert_stderr_contains("network nosuchnet not found");
    }
}

both! {
    fn default_bridge_address_route_and_files(d, c) {
        let gw = d.cli(c, &["network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "bridge"]).assert_ok().out();
        let out = d.cli(c, &["run", "--rm", "--name", "c1", "--add-host", "h1:10.9.9.9", "--add-host", "gw=host-gateway", "--dns", "10.1.1.1", "--dns-search", "example.test", "--dns-option", "ndots:3", "busybox", "sh", "-c", "ip -4 addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf; ping -c1 -w3 $(ip route | awk '/default/ {print $3}')"]);
        out.assert_ok();
        assert!(out.stdout.contains(&format!("default via {gw} dev eth0")), "{out:?}");
        assert!(out.stdout.contains("1 packets received"), "{out:?}");
        assert!(out.stdout.contains("127.0.0.1\tlocalhost"), "{out:?}");
        assert!(out.stdout.contains("10.9.9.9\th1\n"), "{out:?}");
        assert!(out.stdout.contains(&format!("{gw}\tgw\n")), "{out:?}");
        assert!(out.stdout.contains("nameserver 10.1.1.1\n") && out.stdout.contains("search example.test\n") && out.stdout.contains("options ndots:3\n"), "{out:?}");
        assert!(!out.stdout.contains("127.0.0.11"), "no embedded DNS on the default bridge: {out:?}");
        // MASQUERADE for the bridge's subnet exists in this daemon's chain.
        let subnet = d.cli(c, &["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "bridge"]).assert_ok().out();
        let rules = std::process::Command::new("iptables-save").args(["-t", "nat"]).output().expect("iptables-save");
        let rules = String::from_utf8_lossy(&rules.stdout);
        assert!(rules.contains(&format!("-A BERTH-{}-POST -s {subnet} ! -o {} -j MASQUERADE", d.bridge(), d.bridge())), "{rules}");
        d.cli(c, &["run", "--rm", "--add-host", "nohost", "busybox", "true"]).assert_code(125).assert_stderr_contains("bad format for add-host");
        d.cli(c, &["run", "--rm", "--dns", "1.2.3", "busybox", "true"]).assert_code(125).assert_stderr_contains("IP address is not correctly formatted: 1.2.3");
    }
}

both! {
    fn inspect_network_settings(d, c) {
        d.cli(c, &["run", "-d", "--name", "web1", "busybox", "sleep", "60"]).assert_ok();
        let ip = d.cli(c, &["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "web1"]).assert_ok().out();
        assert!(ip.split('.').count() == 4, "{ip}");
        assert_eq!(ip_of(d, "web1", "bridge"), ip);
        let mac = d.cli(c, &["inspect", "-f", "{{.NetworkSettings.MacAddress}}", "web1"]).assert_ok().out();
        assert!(mac.starts_with("02:42:"), "{mac}");
        let members = d.cli(c, &["network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", "bridge"]).assert_ok().out();
        assert!(members.starts_with(&format!("web1 {ip}/")), "{members}");
        // From the host over the bridge.
        let ok = std::process::Command::new("busybox").args(["ping", "-c1", "-w3", &ip]).output().is_ok_and(|o| o.status.success());
        assert!(ok, "host cannot reach {ip}");
        d.cli(c, &["rm", "-f", "web1"]).assert_ok();
    }
}

both! {
    fn none_has_only_loopback_and_host_sees_host(d, c) {
        d.cli(c, &["run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"]).assert_ok().assert_stdout("lo");
        let out = d.cli(c, &["run", "--rm", "--net", "host", "busybox", "ls", "/sys/class/net"]);
        out.assert_ok();
        assert!(out.stdout.contains(&d.bridge()), "host netns should show our bridge: {out:?}");
        d.cli(c, &["run", "--rm", "--network", "nosuchnet", "busybox", "true"]).assert_code(125).assert_stderr_contains("network nosuchnet not found");
    }
}

both! {
    fn user_networks_isolation_overlap_rm(d, c) {
        // A /16 no route on the host touches (other daemons' bridges included).
        let b = berth_e2e::free_net16();
        let sub = |s: &str| s.replace("10.231", &b);
        d.cli(c, &["network", "create", "--subnet", &sub("10.231.0.0/24"), "--label", "k=v", "netaa"]).assert_ok();
        d.cli(c, &["network", "create", "--subnet", &sub("10.231.1.0/24"), "--internal", "netbb"]).assert_ok();
        d.cli(c, &["network", "create", "--subnet", &sub("10.231.0.128/25"), "netcc"])
            .assert_fail()
            .assert_stderr_contains("invalid pool request: Pool overlaps with other one on this address space");
        d.cli(c, &["network", "create", "--subnet", &sub("10.231.0.0/24"), "netaa"]).assert_fail();
        d.cli(c, &["network", "create", "--gateway", "10.1.0.1", "netdd"]).assert_fail().assert_stderr_contains("every ip-range or gateway must have a corresponding subnet");
        let id = d.cli(c, &["network", "ls", "-q", "--filter", "label=k=v"]).assert_ok().out();
        assert_eq!(id.len(), 12, "{id}");
        d.cli(c, &["run", "-d", "--name", "srva", "--network", "netaa", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "srvb", "--network", "netbb", "--ip", &sub("10.231.1.77"), "busybox", "sleep", "60"]).assert_ok();
        assert_eq!(ip_of(d, "srvb", "netbb"), sub("10.231.1.77"));
        d.cli(c, &["run", "--rm", "--ip", &sub("10.231.1.77"), "--network", "netbb", "busybox", "true"]).assert_fail();
        // A fixed address is free again as soon as its holder stopped
        // (veths are deleted in the background).
        d.cli(c, &["restart", "-t", "0", "srvb"]).assert_ok();
        assert_eq!(ip_of(d, "srvb", "netbb"), sub("10.231.1.77"));
        for _ in 0..3 {
            d.cli(c, &["run", "--rm", "--ip", &sub("10.231.1.78"), "--network", "netbb", "busybox", "true"]).assert_ok();
        }
        let a = ip_of(d, "srva", "netaa");
        // Same network: reachable. Other network: not.
        d.cli(c, &["run", "--rm", "--network", "netaa", "busybox", "ping", "-c1", "-w3", &a]).assert_ok();
        d.cli(c, &["run", "--rm", "--network", "netbb", "busybox", "ping", "-c1", "-W1", &a]).assert_fail();
        d.cli(c, &["run", "--rm", "busybox", "ping", "-c1", "-W1", &a]).assert_fail();
        // Internal network: no default route, and its members reach each other only.
        let out = d.cli(c, &["run", "--rm", "--network", "netbb", "busybox", "ip", "route"]);
        out.assert_ok();
        assert!(!out.stdout.contains("default"), "{out:?}");
        d.cli(c, &["run", "--rm", "--network", "netbb", "busybox", "ping", "-c1", "-w3", &sub("10.231.1.77")]).assert_ok();
        let gw_a = d.cli(c, &["network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "netaa"]).assert_ok().out();
        d.cli(c, &["run", "--rm", "--network", "netbb", "busybox", "ping", "-c1", "-W1", &gw_a]).assert_fail();
        d.cli(c, &["network", "rm", "netaa"]).assert_fail().assert_stderr_contains("has active endpoints");
        d.cli(c, &["network", "rm", "bridge"]).assert_fail().assert_stderr_contains("pre-defined network");
        d.cli(c, &["rm", "-f", "srva", "srvb"]).assert_ok();
        d.cli(c, &["network", "rm", "netaa"]).assert_ok().assert_stdout("netaa");
        d.cli(c, &["network", "prune", "-f"]).assert_ok().assert_stdout("Deleted Networks:\nnetbb");
        d.cli(c, &["network", "inspect", "netbb"]).assert_fail();
        d.cli(c, &["network", "rm", "nosuchnet"]).assert_fail().assert_stderr_contains("network nosuchnet not found");
    }
}

both! {
    fn published_ports_and_conflicts(d, c) {
        d.cli(c, &["run", "-d", "--name", "httpd1", "-p", "127.0.0.1:0:80", "-p", "90/udp", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]).assert_ok();
        let port = d.cli(c, &["port", "httpd1", "80"]).assert_ok().out();
        let hp = port.rsplit(':').next().unwrap_or("").to_string();
        assert!(port.starts_with("127.0.0.1:"), "{port}");
        let all = d.cli(c, &["port", "httpd1"]).assert_ok().lines();
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[0], format!("80/tcp -> 127.0.0.1:{hp}"), "{all:?}");
        assert!(all[1].starts_with("90/udp -> 0.0.0.0:"), "{all:?}");
        d.cli(c, &["port", "httpd1", "443"]).assert_code(1).assert_stderr_contains("Error: No public port '443' published for httpd1");
        let ps = d.cli(c, &["ps", "--format", "{{.Ports}}"]).assert_ok().out();
        assert!(ps.contains(&format!("127.0.0.1:{hp}->80/tcp")), "{ps}");
        // From the host on loopback.
        let ok = berth_e2e::wait_until(std::time::Duration::from_secs(5), || {
            std::process::Command::new("busybox")
                .args(["wget", "-qO-", &format!("http://127.0.0.1:{hp}/hostname")])
                .output()
                .is_ok_and(|o| o.status.success())
        });
        assert!(ok, "published port not reachable on 127.0.0.1:{hp}");
        // From another container, straight to the container's address.
        let ip = d.cli(c, &["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "httpd1"]).assert_ok().out();
        d.cli(c, &["run", "--rm", "busybox", "wget", "-qO-", &format!("http://{ip}:80/hostname")]).assert_ok();
        // The same host port again: Docker's error, and nothing left running.
        let out = d.cli(c, &["run", "-d", "--name", "httpd2", "-p", &format!("127.0.0.1:{hp}:80"), "busybox", "sleep", "5"]);
        out.assert_fail().assert_stderr_contains("port is already allocated");
        // In dockerd's words, not wrapped as a runtime error; recorded so.
        out.assert_stderr_contains("driver failed programming external connectivity on endpoint httpd2 (");
        assert!(!out.stderr.contains("OCI runtime"), "{}", out.stderr);
        let state = d.cli(c, &["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}", "httpd2"]).assert_ok().out();
        assert!(state.starts_with("created 128 driver failed programming external connectivity"), "{state}");
        d.cli(c, &["run", "--rm", "-p", "80/icmp", "busybox", "true"]).assert_code(125).assert_stderr_contains("invalid proto: icmp");
        d.cli(c, &["run", "--rm", "-p", "8000-8002:80-81", "busybox", "true"]).assert_code(125).assert_stderr_contains("invalid ranges specified");
        d.cli(c, &["rm", "-f", "httpd1", "httpd2"]).assert_ok();
    }
}

both! {
    fn publish_all_and_ranges(d, c) {
        d.cli(c, &["run", "-d", "--name", "pa", "-P", "--expose", "80", "--expose", "7000-7001/udp", "-p", "127.0.0.1:18080-18090:81", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]).assert_ok();
        let lines = d.cli(c, &["port", "pa"]).assert_ok().lines();
        assert_eq!(lines.len(), 4, "{lines:?}");
        let p81 = d.cli(c, &["port", "pa", "81/tcp"]).assert_ok().out();
        let n: u16 = p81.rsplit(':').next().unwrap_or("").parse().unwrap_or(0);
        assert!((18080..=18090).contains(&n) && p81.starts_with("127.0.0.1:"), "{p81}");
        let hp = d.cli(c, &["port", "pa", "80"]).assert_ok().out();
        let hp = hp.rsplit(':').next().unwrap_or("").to_string();
        let ok = berth_e2e::wait_until(std::time::Duration::from_secs(5), || {
            std::process::Command::new("busybox").args(["wget", "-qO-", &format!("http://127.0.0.1:{hp}/hostname")]).output().is_ok_and(|o| o.status.success())
        });
        assert!(ok, "-P port {hp} not reachable");
        let ps = d.cli(c, &["ps", "--format", "{{.Ports}}"]).assert_ok().out();
        assert!(ps.contains(&format!("0.0.0.0:{hp}->80/tcp")) && ps.contains("->7000/udp"), "{ps}");
        d.cli(c, &["rm", "-f", "pa"]).assert_ok();
    }
}

both! {
    fn publish_a_port_left_in_time_wait(d, c) {
        // A host server on a loopback port, one connection that the server
        // closes first (its end stays in TIME-WAIT for a minute), then the
        // server stops: the port must be publishable at once, as on dockerd.
        let server = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = server.local_addr().expect("addr").port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let (conn, _) = server.accept().expect("accept");
        drop(conn);
        drop(server);
        drop(client);
        let spec = format!("127.0.0.1:{port}:80");
        d.cli(c, &["run", "-d", "--name", "tw", "-p", &spec, "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]).assert_ok();
        let ok = berth_e2e::wait_until(std::time::Duration::from_secs(5), || {
            std::process::Command::new("busybox").args(["wget", "-qO-", &format!("http://127.0.0.1:{port}/hostname")]).output().is_ok_and(|o| o.status.success())
        });
        assert!(ok, "port {port} not reachable after publish");
        // Held while the container runs: a host server cannot take it.
        assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_err(), "a host process could bind the published port {port}");
        d.cli(c, &["rm", "-f", "tw"]).assert_ok();
    }
}

both! {
    fn links_and_shared_netns(d, c) {
        d.cli(c, &["run", "-d", "--name", "db1", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]).assert_ok();
        let ip = ip_of(d, "db1", "bridge");
        let out = d.cli(c, &["run", "--rm", "--link", "db1:dbalias", "busybox", "sh", "-c", "cat /etc/hosts; wget -qO- http://dbalias/hostname"]);
        out.assert_ok();
        assert!(out.stdout.contains(&format!("{ip}\tdbalias ")), "{out:?}");
        d.cli(c, &["run", "--rm", "busybox", "ping", "-c1", "-W1", "db1"]).assert_fail();
        d.cli(c, &["run", "--rm", "--link", "nosuch:x", "busybox", "true"]).assert_fail();
        // Sharing db1's namespace: same interfaces, its server on localhost.
        let out = d.cli(c, &["run", "--rm", "--network", "container:db1", "busybox", "sh", "-c", "ip -4 addr show eth0; wget -qO- http://127.0.0.1/hostname"]);
        out.assert_ok();
        assert!(out.stdout.contains(&format!("inet {ip}/")), "{out:?}");
        d.cli(c, &["rm", "-f", "db1"]).assert_ok();
    }
}

both! {
    fn connect_and_disconnect(d, c) {
        // A /16 no route on the host touches (other daemons' bridges included).
        let b = berth_e2e::free_net16();
        let sub = |s: &str| s.replace("10.232", &b);
        d.cli(c, &["network", "create", "--subnet", &sub("10.232.0.0/24"), "cnet"]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "cc1", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["network", "connect", "--alias", "ccalias", "--ip", &sub("10.232.0.50"), "cnet", "cc1"]).assert_ok().assert_stdout("");
        let ns = format!("berth-{}-{}", d.bridge(), &d.cli(c, &["inspect", "-f", "{{.Id}}", "cc1"]).assert_ok().out()[..12]);
        let addrs = std::process::Command::new("ip").args(["-n", &ns, "-4", "addr"]).output().expect("ip");
        let addrs = String::from_utf8_lossy(&addrs.stdout).into_owned();
        assert!(addrs.contains(&sub("inet 10.232.0.50/24")) && addrs.contains("eth1"), "{addrs}");
        assert_eq!(ip_of(d, "cc1", "cnet"), sub("10.232.0.50"));
        let members = d.cli(c, &["network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", "cnet"]).assert_ok().out();
        assert_eq!(members, sub("cc1 10.232.0.50/24"));
        let aliases = d.cli(c, &["inspect", "-f", "{{.NetworkSettings.Networks.cnet.Aliases}}", "cc1"]).assert_ok().out();
        assert!(aliases.contains("ccalias"), "{aliases}");
        d.cli(c, &["run", "--rm", "--network", "cnet", "busybox", "ping", "-c1", "-w3", &sub("10.232.0.50")]).assert_ok();
        d.cli(c, &["network", "connect", "cnet", "cc1"]).assert_fail().assert_stderr_contains("already exists in network cnet");
        d.cli(c, &["network", "connect", "nosuchnet", "cc1"]).assert_fail().assert_stderr_contains("network nosuchnet not found");
        d.cli(c, &["network", "connect", "cnet", "nosuchc"]).assert_fail().assert_stderr_contains("No such container: nosuchc");
        d.cli(c, &["network", "rm", "cnet"]).assert_fail().assert_stderr_contains("has active endpoints");
        d.cli(c, &["network", "disconnect", "cnet", "cc1"]).assert_ok();
        let addrs = std::process::Command::new("ip").args(["-n", &ns, "-4", "addr"]).output().expect("ip");
        assert!(!String::from_utf8_lossy(&addrs.stdout).contains(&sub("10.232.0.50")), "eth1 still there");
        let members = d.cli(c, &["network", "inspect", "-f", "{{len .Containers}}", "cnet"]).assert_ok().out();
        assert_eq!(members, "0");
        d.cli(c, &["network", "disconnect", "cnet", "cc1"]).assert_fail().assert_stderr_contains("is not connected to network cnet");
        // The lease went back: the same address can be taken again.
        d.cli(c, &["run", "--rm", "--network", "cnet", "--ip", &sub("10.232.0.50"), "busybox", "true"]).assert_ok();
        // A stopped container: recorded now, wired at start.
        d.cli(c, &["create", "--name", "cc2", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["network", "connect", "cnet", "cc2"]).assert_ok();
        d.cli(c, &["start", "cc2"]).assert_ok();
        let ip2 = ip_of(d, "cc2", "cnet");
        assert!(ip2.starts_with(&sub("10.232.0.")), "{ip2}");
        d.cli(c, &["run", "--rm", "--network", "cnet", "busybox", "ping", "-c1", "-w3", &ip2]).assert_ok();
        d.cli(c, &["rm", "-f", "cc1", "cc2"]).assert_ok();
        d.cli(c, &["network", "rm", "cnet"]).assert_ok();
    }
}

#[test]
fn leases_survive_kill9() {
    let d = TestDaemon::start();
    d.docker(&["run", "-d", "--name", "keep1", "busybox", "sleep", "60"]).assert_ok();
    let ip = d.docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "keep1"]).assert_ok().out();
    d.kill9();
    d.restart();
    d.berth(&["run", "-d", "--name", "keep2", "busybox", "sleep", "60"]).assert_ok();
    let ip2 = d.docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "keep2"]).assert_ok().out();
    assert_ne!(ip, ip2);
    d.docker(&["run", "--rm", "busybox", "ping", "-c1", "-w3", &ip]).assert_ok();
    d.stop();
}

both! {
    fn network_prune_label_and_until_filters(d, c) {
        d.cli(c, &["network", "create", "--label", "keep", "kept"]).assert_ok();
        d.cli(c, &["network", "create", "plain"]).assert_ok();
        d.cli(c, &["network", "prune", "-f", "--filter", "label!=keep"]).assert_ok().assert_stdout("Deleted Networks:\nplain");
        // `until` takes only networks created before the time given.
        d.cli(c, &["network", "prune", "-f", "--filter", "until=1h"]).assert_ok().assert_stdout("");
        d.cli(c, &["network", "create", "later"]).assert_ok();
        let soon = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() + 3600;
        d.cli(c, &["network", "prune", "-f", "--filter", &format!("until={soon}"), "--filter", "label!=keep"])
            .assert_ok()
            .assert_stdout("Deleted Networks:\nlater");
        d.cli(c, &["network", "prune", "-f", "--filter", "until=bogus"]).assert_fail();
        let left = d.cli(c, &["network", "ls", "--format", "{{.Name}}", "--filter", "type=custom"]).assert_ok().lines();
        assert_eq!(left, ["kept"]);
    }
}

#[test]
fn compose_style_network_names_and_null_map_values() {
    // dockerd takes any non-blank network name (docker-compose 1.29's tests
    // use `_underscoretest_bar`), and reads a JSON null in a string map as "".
    let d = TestDaemon::start();
    let (status, body) = d.api("POST", "/v1.38/networks/create", Some(r#"{"Name":"_underscoretest_bar","Labels":{"a":null}}"#));
    assert_eq!(status, 201, "{body}");
    d.docker(&["network", "inspect", "-f", "{{.Name}} {{json .Labels}}", "_underscoretest_bar"])
        .assert_ok()
        .assert_stdout(r#"_underscoretest_bar {"a":""}"#);
    let (status, body) = d.api("POST", "/networks/create", Some(r#"{"Name":"  "}"#));
    assert_eq!(status, 400, "{body}");
    let body = r#"{"Image":"busybox","Cmd":["sh","-c","grep -c ' /run tmpfs' /proc/mounts"],"HostConfig":{"Tmpfs":{"/run":null},"NetworkMode":"none"}}"#;
    let (status, body) = d.api("POST", "/v1.38/containers/create?name=tm", Some(body));
    assert_eq!(status, 201, "{body}");
    d.docker(&["start", "-a", "tm"]).assert_ok().assert_stdout("1");
    d.docker(&["network", "rm", "_underscoretest_bar"]).assert_ok();
    d.stop();
}

both! {
    fn legacy_link_variables_and_rm_link(d, c) {
        d.cli(c, &["run", "-d", "--name", "db", "-e", "SECRET=s3", "--expose", "6379", "--expose", "53/udp", "busybox", "sleep", "1000"]).assert_ok();
        let ip = ip_of(d, "db", "bridge");
        let env = d.cli(c, &["run", "--rm", "--name", "web", "--link", "db:my-db", "-e", "MY_DB_ENV_SECRET=mine", "busybox", "env"]).assert_ok().lines();
        for want in [
            "MY_DB_NAME=/web/my-db".to_string(),
            format!("MY_DB_PORT=udp://{ip}:53"),
            format!("MY_DB_PORT_6379_TCP=tcp://{ip}:6379"),
            format!("MY_DB_PORT_6379_TCP_ADDR={ip}"),
            "MY_DB_PORT_6379_TCP_PORT=6379".to_string(),
            "MY_DB_PORT_6379_TCP_PROTO=tcp".to_string(),
            format!("MY_DB_PORT_53_UDP=udp://{ip}:53"),
            // The container's own variable wins over the link's.
            "MY_DB_ENV_SECRET=mine".to_string(),
        ] {
            assert!(env.contains(&want), "{want} missing from {env:?}");
        }
        assert!(!env.iter().any(|e| e.starts_with("MY_DB_ENV_PATH=")), "{env:?}");

        // rm --link drops the link from the parent.
        d.cli(c, &["create", "--name", "app", "--link", "db:alias", "busybox", "cat", "/etc/hosts"]).assert_ok();
        d.cli(c, &["rm", "--link", "/app/alias"]).assert_ok().assert_stdout("/app/alias");
        d.cli(c, &["inspect", "-f", "{{json .HostConfig.Links}}", "app"]).assert_ok().assert_stdout("null");
        let hosts = d.cli(c, &["start", "-a", "app"]).assert_ok().out();
        assert!(!hosts.contains("alias"), "{hosts}");
        d.cli(c, &["rm", "--link", "/app/alias"]).assert_fail();
        d.cli(c, &["rm", "-f", "db"]).assert_ok();
    }
}

#[test]
fn compose_run_link_on_a_project_network() {
    // docker-compose 1.29's `run` links the service's containers as
    // "/name:/container/alias" on the project network.
    let d = TestDaemon::start();
    d.docker(&["network", "create", "proj"]).assert_ok();
    d.docker(&["run", "-d", "--name", "proj_db_1", "--network", "proj", "busybox", "sleep", "1000"]).assert_ok();
    let ip = ip_of(&d, "proj_db_1", "proj");
    let body = r#"{"Image":"busybox","Cmd":["cat","/etc/hosts"],"HostConfig":{"NetworkMode":"proj","Links":["/proj_db_1:/proj_run_1/db"]}}"#;
    let (status, body) = d.api("POST", "/v1.38/containers/create?name=proj_run_1", Some(body));
    assert_eq!(status, 201, "{body}");
    let hosts = d.docker(&["start", "-a", "proj_run_1"]).assert_ok().out();
    assert!(hosts.contains(&format!("{ip}\tdb ")), "{hosts}");
    d.docker(&["rm", "-f", "proj_db_1", "proj_run_1"]).assert_ok();
    d.docker(&["network", "rm", "proj"]).assert_ok();
    d.stop();
}

both! {
    fn network_settings_berth_cannot_honour_are_refused(d, c) {
        for (args, says) in [
            (vec!["--subnet", "127.0.0.0/8"], "reserved range 127.0.0.0/8 (loopback)"),
            (vec!["--subnet", "169.254.3.0/24"], "reserved range 169.254.0.0/16 (link-local)"),
            (vec!["--subnet", "239.1.0.0/16"], "reserved range 224.0.0.0/4 (multicast)"),
            (vec!["--ipv6", "--subnet", "ff02::/64"], "reserved range ff00::/8 (multicast)"),
            (vec!["-o", "com.docker.network.bridge.enable_icc=false"], "berth does not support network option com.docker.network.bridge.enable_icc yet"),
        ] {
            let mut full = vec!["network", "create"];
            full.extend(args);
            full.push("refused-net");
            d.cli(c, &full).assert_fail().assert_stderr_contains(says);
        }
        // Nothing was made: no network, and no route for the loopback range on a bridge.
        d.cli(c, &["network", "ls", "-q", "--filter", "name=refused-net"]).assert_ok().assert_stdout("");
        let routes = std::fs::read_to_string("/proc/net/route").expect("routes");
        assert!(!routes.lines().any(|l| l.split_whitespace().nth(1) == Some("0000007F")), "loopback route on a bridge:\n{routes}");
    }
}

both! {
    fn subnets_routed_on_the_host_are_refused(d, c) {
        // A route of its own for the test: a bare bridge with an address.
        let b = berth_e2e::free_net16();
        let dummy = format!("bd{:x}{}", std::process::id(), if c == berth_e2e::Cli::Berth { "b" } else { "d" });
        let ip = |args: &[&str]| {
            let out = std::process::Command::new("ip").args(args).output().expect("ip");
            assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        ip(&["link", "add", &dummy, "type", "bridge"]);
        let result = std::panic::catch_unwind(|| {
            ip(&["addr", "add", &format!("{b}.4.1/24"), "dev", &dummy]);
            ip(&["link", "set", &dummy, "up"]);
            d.cli(c, &["network", "create", "--subnet", &format!("{b}.0.0/16"), "routed-net"])
                .assert_fail()
                .assert_stderr_contains(&format!("Pool overlaps with other one on this address space ({b}.4.0/24 is routed on the host)"));
            d.cli(c, &["network", "create", "--subnet", &format!("{b}.4.128/25"), "routed-net"]).assert_fail().assert_stderr_contains("is routed on the host");
            d.cli(c, &["network", "ls", "-q", "--filter", "name=routed-net"]).assert_ok().assert_stdout("");
            // Beside the route: accepted.
            d.cli(c, &["network", "create", "--subnet", &format!("{b}.5.0/24"), "routed-net"]).assert_ok();
            // The default bridge's subnet is this daemon's own: refused by IPAM.
            let own = d.cli(c, &["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "bridge"]).assert_ok().out();
            d.cli(c, &["network", "create", "--subnet", &own, "own-net"]).assert_fail().assert_stderr_contains("Pool overlaps with other one on this address space");
            d.cli(c, &["network", "rm", "routed-net"]).assert_ok();
        });
        ip(&["link", "del", &dummy]);
        if let Err(p) = result {
            std::panic::resume_unwind(p);
        }
    }
}

/// A second berthd given a bridge name another one runs with is refused
/// at start, naming the owner, and touches nothing of it; once the first
/// stopped, the second starts on that name (and cleans up after itself).
#[test]
fn a_second_daemon_on_the_same_bridge_is_refused_naming_the_owner() {
    use std::process::{Command, Stdio};
    use std::time::Duration;
    let d = TestDaemon::start();
    let bridge = d.bridge();
    d.docker(&["run", "-d", "--name", "keep", "-p", "127.0.0.1::80", "busybox", "sleep", "60"]).assert_ok();
    let rules = || {
        let out = Command::new("iptables-save").output().expect("iptables-save");
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| berth_e2e::mentions_chain_of(l, &bridge)).count()
    };
    let before = rules();
    assert!(before > 0, "no chains of {bridge}");
    let dir = std::env::temp_dir().join(format!("berth-e2e-second-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let sock = dir.join("sock");
    let berthd = d.bin_dir().join("berthd");
    let spawn = || spawn_berthd(&berthd, &dir, &bridge);
    let mut second = spawn();
    if !berth_e2e::wait_until(Duration::from_secs(20), || second.try_wait().ok().flatten().is_some()) {
        let _ = second.kill();
        let _ = second.wait();
        panic!("the second berthd did not refuse to start");
    }
    let status = second.wait().expect("wait");
    assert!(!status.success(), "{status}");
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    let owner = format!("bridge {bridge} is in use by another berthd (pid {}, data root {})", d.daemon_pid(), d.data_root().display());
    assert!(log.contains(&owner), "{log}");
    // The first daemon lost nothing: its chains, its bridge, its container.
    assert_eq!(rules(), before);
    assert!(Command::new("ip").args(["link", "show", &bridge]).status().expect("ip").success());
    d.docker(&["run", "--rm", "busybox", "true"]).assert_ok();
    d.docker(&["ps", "--format", "{{.Names}}"]).assert_ok().assert_stdout("keep");
    d.docker(&["rm", "-f", "keep"]).assert_ok();
    d.stop();
    // Its claim went with it: the second starts now, and stops cleanly.
    let mut second = spawn();
    let host = format!("unix://{}", sock.display());
    let up = berth_e2e::wait_until(Duration::from_secs(20), || {
        Command::new("docker").args(["-H", &host, "version"]).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    });
    // SAFETY: signalling the child we spawned.
    unsafe { libc::kill(second.id() as i32, libc::SIGTERM) };
    let _ = second.wait();
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    assert!(up, "the second berthd did not start after the first stopped:\n{log}");
    assert!(!Command::new("ip").args(["link", "show", &bridge]).stderr(Stdio::null()).status().expect("ip").success(), "bridge left behind");
    assert_eq!(rules(), 0, "chains left behind");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A berthd of the test's own on `dir` (data, exec, sock, pid, log) with
/// default bridge `bridge`, outside the harness.
fn spawn_berthd(berthd: &std::path::Path, dir: &std::path::Path, bridge: &str) -> std::process::Child {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(berthd);
    cmd.arg("--data-root").arg(dir.join("data")).arg("--exec-root").arg(dir.join("exec"));
    cmd.arg("-H").arg(format!("unix://{}", dir.join("sock").display())).arg("--pidfile").arg(dir.join("pid"));
    cmd.args(["--bridge", bridge]);
    cmd.env("BERTH_DOCKER_HUB_HOST", "127.0.0.1:9");
    if let Ok(r) = std::env::var("BERTH_E2E_RUNTIME") {
        if !r.is_empty() {
            cmd.args(["--default-runtime", &r]);
        }
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(std::fs::File::create(dir.join("log")).expect("log"));
    cmd.spawn().expect("spawn berthd")
}

/// berthd marks the bridges it makes with `berth:<data root>` (their
/// alias) and deletes only those: a default bridge the admin made
/// (`--bridge` naming an existing link, as dockerd's `-b`) is used, loses
/// berthd's rules at shutdown, and stays.
#[test]
fn a_bridge_berthd_did_not_make_is_never_deleted() {
    use std::process::{Command, Stdio};
    use std::time::Duration;
    let alias = |link: &str| std::fs::read_to_string(format!("/sys/class/net/{link}/ifalias")).map(|a| a.trim().to_string());
    let d = TestDaemon::start();
    assert_eq!(alias(&d.bridge()).expect("alias of the daemon's bridge"), format!("berth:{}", d.data_root().display()));
    let foreign = format!("bf{:x}", std::process::id());
    let ip = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().expect("ip");
        assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    ip(&["link", "add", &foreign, "type", "bridge"]);
    let dir = std::env::temp_dir().join(format!("berth-e2e-foreign-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let result = std::panic::catch_unwind(|| {
        let mut other = spawn_berthd(&d.bin_dir().join("berthd"), &dir, &foreign);
        let host = format!("unix://{}", dir.join("sock").display());
        let up = berth_e2e::wait_until(Duration::from_secs(20), || {
            Command::new("docker").args(["-H", &host, "version"]).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
        });
        let ran = up
            && Command::new("docker")
                .args(["-H", &host, "network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "bridge"])
                .output()
                .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
        let marked = alias(&foreign).unwrap_or_default();
        // SAFETY: signalling the child we spawned.
        unsafe { libc::kill(other.id() as i32, libc::SIGTERM) };
        let _ = other.wait();
        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
        assert!(ran, "berthd on an existing bridge did not serve:\n{log}");
        assert_eq!(marked, "", "berthd marked a bridge it did not make");
        assert!(std::path::Path::new("/sys/class/net").join(&foreign).exists(), "berthd deleted a bridge it did not make:\n{log}");
        assert!(log.contains(&format!("leaving bridge {foreign}: this berthd did not make it")), "{log}");
        let rules = Command::new("iptables-save").output().expect("iptables-save");
        let left: Vec<String> = String::from_utf8_lossy(&rules.stdout).lines().filter(|l| berth_e2e::mentions_chain_of(l, &foreign)).map(String::from).collect();
        assert!(left.is_empty(), "its rules stayed: {left:?}");
    });
    ip(&["link", "del", &foreign]);
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
    d.stop();
}

/// berthd dies between making a network's bridge and writing its record:
/// the bridge carries this daemon's mark and no record names it, so the
/// next start removes it (one with something plugged in would stay).
#[test]
fn a_marked_bridge_no_record_names_is_removed_at_start() {
    let d = TestDaemon::start();
    let id = d.docker(&["network", "create", "cut-net"]).assert_ok().out();
    let bridge = format!("br-{}", &id[..12]);
    assert!(std::path::Path::new("/sys/class/net").join(&bridge).exists(), "{bridge} missing");
    d.kill9();
    let record = d.data_root().join("db").join("networks").join(format!("{id}.json"));
    std::fs::remove_file(&record).unwrap_or_else(|e| panic!("rm {}: {e}", record.display()));
    d.restart();
    assert!(!std::path::Path::new("/sys/class/net").join(&bridge).exists(), "{bridge} left after restart");
    assert!(d.log().contains(&format!("removing bridge {bridge}: made by this berthd for a network it has no record of")), "{}", d.log());
    d.docker(&["network", "ls", "-q", "--filter", "name=cut-net"]).assert_ok().assert_stdout("");
    d.docker(&["run", "--rm", "busybox", "true"]).assert_ok();
    d.stop();
}
