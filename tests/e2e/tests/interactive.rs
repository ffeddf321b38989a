//! TTY containers under a real terminal (tmux): window size and its
//! changes, Ctrl-C, detach keys, `attach`, `start -ai`, `exec -it`.
use berth_e2e::{both, Tmux};

/// Asks the shell for its size until it reports `want` (a resize reaches
/// the shell asynchronously, after SIGWINCH, a request and an ioctl).
fn expect_size(t: &Tmux, want: &str) {
    for _ in 0..20 {
        t.line("stty size");
        if berth_e2e::wait_until(std::time::Duration::from_millis(500), || {
            t.screen().lines().any(|l| l.trim() == want)
        }) {
            return;
        }
    }
    t.expect_line(want);
}

fn status(d: &berth_e2e::TestDaemon, name: &str) -> String {
    d.docker(&["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name]).assert_ok().out()
}

both! {
    fn run_it_size_ctrl_c_detach_and_attach(d, c) {
        let t = Tmux::start(d, "run", 100, 30, c, &["run", "-it", "--name", "t1", "busybox", "sh"]);
        t.expect_prompt();
        t.line("stty size");
        t.expect_line("30 100");
        t.resize(80, 24);
        expect_size(&t, "24 80");
        t.line("echo $TERM");
        t.expect_line("xterm");
        t.line("sleep 100");
        std::thread::sleep(std::time::Duration::from_millis(300));
        t.keys(&["C-c"]);
        t.line("echo alive$((1+1))");
        t.expect_line("alive2");
        t.keys(&["C-p", "C-q"]);
        assert_eq!(t.exit_code(), 0, "detaching exits 0");
        assert_eq!(status(d, "t1"), "running 0");
        drop(t);

        let t = Tmux::start(d, "attach", 90, 20, c, &["attach", "t1"]);
        // A fresh attach sends its own size.
        expect_size(&t, "20 90");
        t.line("exit 3");
        assert_eq!(t.exit_code(), 3);
        assert_eq!(status(d, "t1"), "exited 3");
        d.cli(c, &["logs", "t1"]).assert_ok().assert_stdout_contains("alive2");
    }
}

both! {
    fn start_ai_and_custom_detach_keys(d, c) {
        d.cli(c, &["create", "-it", "--name", "s1", "busybox", "sh"]).assert_ok();
        let t = Tmux::start(d, "start", 100, 30, c, &["start", "-ai", "--detach-keys", "ctrl-a,x", "s1"]);
        t.expect_prompt();
        t.line("echo started$((3*3))");
        t.expect_line("started9");
        // Half the sequence passes through; the whole one detaches.
        t.keys(&["C-a", "C-u"]);
        t.keys(&["C-a", "x"]);
        assert_eq!(t.exit_code(), 0);
        assert_eq!(status(d, "s1"), "running 0");
        drop(t);
        let t = Tmux::start(d, "start2", 100, 30, c, &["attach", "s1"]);
        t.line("exit 7");
        assert_eq!(t.exit_code(), 7);
        assert_eq!(status(d, "s1"), "exited 7");
    }
}

both! {
    fn exec_it_shell(d, c) {
        d.cli(c, &["run", "-d", "--name", "e1", "busybox", "sleep", "1000"]).assert_ok();
        let t = Tmux::start(d, "exec", 100, 30, c, &["exec", "-it", "e1", "sh"]);
        t.expect_prompt();
        t.line("stty size; tty");
        t.expect_line("30 100");
        t.expect_line("/dev/pts/0");
        t.resize(70, 22);
        expect_size(&t, "22 70");
        t.line("sleep 100");
        std::thread::sleep(std::time::Duration::from_millis(300));
        t.keys(&["C-c"]);
        t.line("echo ok$((2+2))");
        t.expect_line("ok4");
        t.line("exit 4");
        assert_eq!(t.exit_code(), 4);
        assert_eq!(status(d, "e1"), "running 0");
    }
}

both! {
    fn tty_without_a_terminal_is_refused(d, c) {
        d.cli_with_stdin(c, &["run", "-it", "--rm", "busybox", "true"], "")
            .assert_fail()
            .assert_stderr_contains("the input device is not a TTY");
        d.cli(c, &["run", "-d", "--name", "n1", "busybox", "sleep", "1000"]).assert_ok();
        d.cli_with_stdin(c, &["exec", "-it", "n1", "true"], "")
            .assert_fail()
            .assert_stderr_contains("the input device is not a TTY");
        // -t alone (no stdin) works without a terminal: output is raw.
        d.cli(c, &["run", "--rm", "-t", "busybox", "sh", "-c", "tty; exit 2"])
            .assert_code(2)
            .assert_stdout_contains("/dev/pts/0");
    }
}
