//! What a process sees inside a container: caps, seccomp, net, masked paths, pid ns.
use berth_e2e::both;

both! {
    fn capabilities_and_seccomp(d, c) {
        let out = d.cli(c, &["run", "--rm", "busybox", "cat", "/proc/self/status"]);
        out.assert_ok()
            .assert_stdout_contains("CapEff:\t00000000a80425fb")
            .assert_stdout_contains("Seccomp:\t2");
        // Docker leaves no_new_privs off unless --security-opt no-new-privileges.
        out.assert_stdout_contains("NoNewPrivs:\t0");
    }
}

both! {
    fn own_network_namespace(d, c) {
        // The default bridge: its own eth0 and lo, none of the host's links.
        d.cli(c, &["run", "--rm", "busybox", "ls", "/sys/class/net"]).assert_ok().assert_stdout("eth0\nlo");
    }
}

both! {
    fn masked_paths(d, c) {
        d.cli(c, &["run", "--rm", "busybox", "sh", "-c", "cat /proc/kcore 2>/dev/null | wc -c"])
            .assert_ok()
            .assert_stdout("0");
        // Read-only paths cannot be written.
        d.cli(c, &["run", "--rm", "busybox", "sh", "-c", "echo 1 > /proc/sys/kernel/domainname"]).assert_fail();
    }
}

both! {
    fn cgroup_hierarchies_are_read_only(d, c) {
        let pids = "f=/sys/fs/cgroup/pids/pids.max; [ -e $f ] || f=/sys/fs/cgroup/pids.max";
        d.cli(c, &["run", "--rm", "--pids-limit", "50", "busybox", "sh", "-c", &format!("{pids}; cat $f")])
            .assert_ok()
            .assert_stdout("50");
        // Root in the container cannot raise its own limits...
        d.cli(c, &["run", "--rm", "--pids-limit", "50", "busybox", "sh", "-c", &format!("{pids}; echo max > $f")])
            .assert_fail()
            .assert_stderr_contains("Read-only file system");
        // ...nor add to a hierarchy (the tmpfs above them is private and
        // writable, as with runc).
        d.cli(c, &["run", "--rm", "busybox", "sh", "-c", "d=/sys/fs/cgroup/pids; [ -d $d ] || d=/sys/fs/cgroup; mkdir $d/x"])
            .assert_fail()
            .assert_stderr_contains("Read-only file system");
    }
}

both! {
    fn hostname_is_short_id(d, c) {
        let run = d.cli(c, &["run", "--name", "hn", "busybox", "sh", "-c", "cat /etc/hostname; hostname"]);
        run.assert_ok();
        let id = d.cli(c, &["inspect", "-f", "{{.Id}}", "hn"]).assert_ok().out();
        assert_eq!(id.len(), 64, "{id}");
        let short = &id[..12];
        assert_eq!(run.lines(), vec![short.to_string(), short.to_string()], "{run:?}");
    }
}

both! {
    fn pid_namespace(d, c) {
        d.cli(c, &["run", "--rm", "busybox", "sh", "-c", "echo $$"]).assert_ok().assert_stdout("1");
        // Only the container's own processes are visible.
        let out = d.cli(c, &["run", "--rm", "busybox", "ps", "-o", "pid,comm"]);
        out.assert_ok();
        assert!(out.lines().len() <= 3, "host processes visible: {out:?}");
    }
}
