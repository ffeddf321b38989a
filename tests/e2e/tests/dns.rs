//! The embedded DNS of user networks, at 127.0.0.11 in each container.
//! Forwarding is tested against a resolver this test runs on loopback.
use berth_e2e::both;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A resolver on `addr:53` answering every A query with 10.77.77.77.
fn fake_upstream(addr: &str) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let sock = UdpSocket::bind(format!("{addr}:53")).unwrap_or_else(|e| panic!("bind {addr}:53: {e}"));
    sock.set_read_timeout(Some(std::time::Duration::from_millis(100))).expect("timeout");
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let t = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !s2.load(Ordering::Relaxed) {
            let Ok((n, peer)) = sock.recv_from(&mut buf) else { continue };
            if n < 17 {
                continue;
            }
            // Header: same ID, response + RD + RA, 1 question, 1 answer.
            let mut r = vec![buf[0], buf[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
            let mut i = 12;
            while i < n && buf[i] != 0 {
                i += 1 + buf[i] as usize;
            }
            let end = (i + 5).min(n);
            r.extend_from_slice(&buf[12..end]);
            r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 77, 77, 77]);
            let _ = sock.send_to(&r, peer);
        }
    });
    (stop, t)
}

both! {
    fn names_aliases_round_robin_and_isolation(d, c) {
        d.cli(c, &["network", "create", "dnsnet"]).assert_ok();
        d.cli(c, &["network", "create", "othernet"]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "web", "--hostname", "webhost", "--network-alias", "svc", "--network", "dnsnet", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "web2", "--network-alias", "svc", "--network", "dnsnet", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["run", "-d", "--name", "far", "--network", "othernet", "busybox", "sleep", "60"]).assert_ok();
        let ip1 = d.docker(&["inspect", "-f", "{{.NetworkSettings.Networks.dnsnet.IPAddress}}", "web"]).assert_ok().out();
        let ip2 = d.docker(&["inspect", "-f", "{{.NetworkSettings.Networks.dnsnet.IPAddress}}", "web2"]).assert_ok().out();
        let short = d.docker(&["inspect", "-f", "{{.Id}}", "web"]).assert_ok().out()[..12].to_string();
        let script = format!(
            "cat /etc/resolv.conf; for n in web web2.dnsnet webhost {short}; do nslookup $n; done; \
             for i in 1 2 3 4; do nslookup svc | grep Address: | grep -v 127.0.0.11 | head -1; done; \
             ping -c1 -w3 web; nslookup far && echo FAR-RESOLVED; true"
        );
        let out = d.cli(c, &["run", "--rm", "--network", "dnsnet", "busybox", "sh", "-c", &script]);
        out.assert_ok();
        let s = &out.stdout;
        assert!(s.contains("\nnameserver 127.0.0.11\n") && s.contains("options ndots:0") && s.contains("# ExtServers:"), "{s}");
        assert!(s.contains(&format!("Name:\tweb\nAddress: {ip1}")), "{s}");
        assert!(s.contains(&format!("Name:\tweb2.dnsnet\nAddress: {ip2}")), "{s}");
        assert!(s.contains(&format!("Name:\twebhost\nAddress: {ip1}")), "{s}");
        assert!(s.contains(&format!("Name:\t{short}\nAddress: {ip1}")), "{s}");
        let firsts: Vec<&str> = s.lines().filter(|l| l.starts_with("Address: ") && !l.contains("127.0.0.11")).collect();
        assert!(firsts.iter().any(|l| l.ends_with(&ip2)), "{s}");
        assert!(s.contains("1 packets received"), "{s}");
        assert!(!s.contains("FAR-RESOLVED"), "a name on another network resolved: {s}");
        // The default bridge has no name resolution.
        d.cli(c, &["run", "-d", "--name", "onbridge", "busybox", "sleep", "60"]).assert_ok();
        let out = d.cli(c, &["run", "--rm", "busybox", "sh", "-c", "cat /etc/resolv.conf; ping -c1 -W1 onbridge"]);
        out.assert_fail();
        assert!(!out.stdout.contains("127.0.0.11"), "{out:?}");
        // A container stopped is gone from the DNS.
        d.cli(c, &["rm", "-f", "web2"]).assert_ok();
        let out = d.cli(c, &["run", "--rm", "--network", "dnsnet", "busybox", "nslookup", "web2"]);
        out.assert_fail();
        d.cli(c, &["rm", "-f", "web", "far", "onbridge"]).assert_ok();
        d.cli(c, &["network", "rm", "dnsnet", "othernet"]).assert_ok();
    }
}

both! {
    fn forwards_other_names_and_connect_registers(d, c) {
        // Each scenario on its own loopback address (both run in parallel).
        let addr = if c == berth_e2e::Cli::Berth { "127.0.0.77" } else { "127.0.0.78" };
        let (stop, t) = fake_upstream(addr);
        d.cli(c, &["network", "create", "fwdnet"]).assert_ok();
        let out = d.cli(c, &["run", "--rm", "--dns", addr, "--network", "fwdnet", "busybox", "sh", "-c", "cat /etc/resolv.conf; nslookup some.example.test"]);
        out.assert_ok();
        assert!(out.stdout.contains(&format!("# ExtServers: [host({addr})]")), "{out:?}");
        assert!(out.stdout.contains("Address: 10.77.77.77"), "{out:?}");
        // Connected later: its name answers on the new network.
        d.cli(c, &["run", "-d", "--name", "late", "busybox", "sleep", "60"]).assert_ok();
        d.cli(c, &["network", "connect", "--alias", "latecomer", "fwdnet", "late"]).assert_ok();
        let ip = d.docker(&["inspect", "-f", "{{.NetworkSettings.Networks.fwdnet.IPAddress}}", "late"]).assert_ok().out();
        let out = d.cli(c, &["run", "--rm", "--network", "fwdnet", "busybox", "sh", "-c", "nslookup late; nslookup latecomer"]);
        out.assert_ok();
        assert!(out.stdout.contains(&format!("Name:\tlate\nAddress: {ip}")) && out.stdout.contains(&format!("Name:\tlatecomer\nAddress: {ip}")), "{out:?}");
        d.cli(c, &["network", "disconnect", "fwdnet", "late"]).assert_ok();
        d.cli(c, &["run", "--rm", "--network", "fwdnet", "busybox", "nslookup", "late"]).assert_fail();
        d.cli(c, &["rm", "-f", "late"]).assert_ok();
        d.cli(c, &["network", "rm", "fwdnet"]).assert_ok();
        stop.store(true, Ordering::Relaxed);
        let _ = t.join();
    }
}

#[test]
fn dns_survives_daemon_kill9() {
    let d = berth_e2e::TestDaemon::start();
    d.berth(&["network", "create", "keepnet"]).assert_ok();
    d.berth(&["run", "-d", "--name", "kept", "--network", "keepnet", "busybox", "sleep", "60"]).assert_ok();
    d.berth(&["run", "-d", "--name", "asker", "--network", "keepnet", "busybox", "sleep", "60"]).assert_ok();
    d.kill9();
    d.restart();
    // A new container resolves the old one, and the old one is served again.
    d.berth(&["run", "--rm", "--network", "keepnet", "busybox", "nslookup", "kept"]).assert_ok();
    let ns = format!("berth-{}-{}", d.bridge(), &d.berth(&["inspect", "-f", "{{.Id}}", "asker"]).assert_ok().out()[..12]);
    let o = std::process::Command::new("ip").args(["netns", "exec", &ns, "busybox", "nslookup", "kept", "127.0.0.11"]).output().expect("ip netns exec");
    assert!(o.status.success(), "{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    d.berth(&["rm", "-f", "kept", "asker"]).assert_ok();
    d.berth(&["network", "rm", "keepnet"]).assert_ok();
    d.stop();
}
