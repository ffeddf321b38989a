//! Resource limits: each observed from inside the container (its cgroup
//! files, or behaviour), OOM kills, `update`, and refused values.

use berth_e2e::{both, Cli, TestDaemon};

fn cgroup_file(d: &TestDaemon, c: Cli, flags: &[&str], file: &str) -> String {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["busybox", "cat", file]);
    d.cli(c, &args).assert_ok().out()
}

both! {
    fn limits_reach_the_cgroup(d, c) {
        assert_eq!(cgroup_file(d, c, &["-m", "64m"], "/sys/fs/cgroup/memory/memory.limit_in_bytes"), "67108864");
        // --memory-swap defaults to twice --memory, as in Docker.
        assert_eq!(cgroup_file(d, c, &["-m", "64m"], "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"), "134217728");
        assert_eq!(cgroup_file(d, c, &["--memory-reservation", "32m"], "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes"), "33554432");
        assert_eq!(cgroup_file(d, c, &["--cpus", "0.5"], "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), "50000");
        assert_eq!(cgroup_file(d, c, &["--cpu-shares", "512"], "/sys/fs/cgroup/cpu/cpu.shares"), "512");
        assert_eq!(cgroup_file(d, c, &["--cpuset-cpus", "0"], "/sys/fs/cgroup/cpuset/cpuset.cpus"), "0");
        assert_eq!(cgroup_file(d, c, &["--pids-limit", "10"], "/sys/fs/cgroup/pids/pids.max"), "10");
        assert_eq!(cgroup_file(d, c, &["--oom-kill-disable", "-m", "64m"], "/sys/fs/cgroup/memory/memory.oom_control").lines().next(), Some("oom_kill_disable 1"));
        d.cli(c, &["run", "--rm", "--ulimit", "nofile=100:200", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn"]).assert_ok().assert_stdout("100\n200");
        let shm = d.cli(c, &["run", "--rm", "--shm-size", "8m", "busybox", "df", "-k", "/dev/shm"]).assert_ok().out();
        assert!(shm.contains(" 8192 "), "{shm}");
        // The pids limit is enforced, not just written.
        let out = d.cli(c, &["run", "--rm", "--pids-limit", "5", "busybox", "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait"]);
        out.assert_fail();
        assert!(out.stderr.contains("can't fork") || out.stderr.contains("Resource temporarily unavailable"), "{out:?}");
    }
}

both! {
    fn oom_kill_is_reported(d, c) {
        d.cli(c, &["run", "--name", "hog", "-m", "8m", "--memory-swap", "8m", "busybox", "sh", "-c", "x=a; while true; do x=$x$x; done"]).assert_code(137);
        d.cli(c, &["inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "hog"]).assert_ok().assert_stdout("true 137");
        d.cli(c, &["run", "--name", "fine", "-m", "64m", "busybox", "true"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{.State.OOMKilled}}", "fine"]).assert_ok().assert_stdout("false");
    }
}

both! {
    fn update_changes_a_running_container(d, c) {
        let id = d.cli(c, &["run", "-d", "--name", "u1", "-m", "64m", "busybox", "sleep", "1000"]).assert_ok().out();
        d.cli(c, &["update", "-m", "128m", "--memory-swap", "256m", "--cpus", "0.25", "--pids-limit", "20", "u1"]).assert_ok().assert_stdout("u1");
        let cg = |ctl: &str, f: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{ctl}/berth/{id}/{f}")).unwrap_or_default().trim().to_string();
        assert_eq!(cg("memory", "memory.limit_in_bytes"), "134217728");
        assert_eq!(cg("cpu", "cpu.cfs_quota_us"), "25000");
        assert_eq!(cg("pids", "pids.max"), "20");
        d.cli(c, &["inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}", "u1"]).assert_ok().assert_stdout("134217728 250000000");
        // A value the kernel rejects is reported and the old limits stay.
        d.cli(c, &["update", "--cpuset-cpus", "63", "u1"]).assert_fail().assert_stderr_contains("Cannot update container");
        d.cli(c, &["inspect", "-f", "{{.HostConfig.CpusetCpus}}", "u1"]).assert_ok().assert_stdout("");
        // Docker's own checks refuse before the kernel sees anything.
        d.cli(c, &["update", "-m", "1m", "u1"]).assert_fail().assert_stderr_contains("Minimum memory limit allowed is 6MB");
        assert_eq!(cg("memory", "memory.limit_in_bytes"), "134217728");
        // A stopped container takes the new limits at its next start.
        d.cli(c, &["stop", "-t", "0", "u1"]).assert_ok();
        d.cli(c, &["update", "-m", "96m", "u1"]).assert_ok();
        d.cli(c, &["start", "u1"]).assert_ok();
        assert_eq!(cg("memory", "memory.limit_in_bytes"), "100663296");
    }
}

both! {
    fn refused_limits_create_nothing(d, c) {
        d.cli(c, &["run", "-m", "1k", "busybox", "true"]).assert_code(125).assert_stderr_contains("Minimum memory limit allowed is 6MB");
        d.cli(c, &["run", "-m", "64m", "--memory-swap", "32m", "busybox", "true"]).assert_code(125).assert_stderr_contains("Minimum memoryswap limit should be larger than memory limit");
        d.cli(c, &["run", "--ulimit", "bogus=1", "busybox", "true"]).assert_code(125);
        d.cli(c, &["ps", "-aq"]).assert_ok().assert_stdout("");
    }
}
