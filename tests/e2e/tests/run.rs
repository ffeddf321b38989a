//! `run` and its common flags.
use berth_e2e::both;

both! {
    fn echo_and_rm(d, c) {
        d.cli(c, &["run", "--rm", "busybox", "echo", "hello"]).assert_ok().assert_stdout("hello");
        d.cli(c, &["ps", "-aq"]).assert_ok().assert_stdout("");
    }
}

both! {
    fn exit_codes(d, c) {
        d.cli(c, &["run", "--rm", "busybox", "sh", "-c", "exit 3"]).assert_code(3);
        d.cli(c, &["run", "--rm", "busybox", "nosuchcommand"]).assert_code(127);
        d.cli(c, &["run", "--rm", "busybox", "/etc/passwd"]).assert_code(126);
        d.cli(c, &["run", "--rm", "nosuchimage"])
            .assert_code(125)
            .assert_stderr_contains("Unable to find image 'nosuchimage:latest' locally");
        d.cli(c, &["ps", "-aq"]).assert_ok().assert_stdout("");
    }
}

both! {
    fn stdout_and_stderr_are_separate(d, c) {
        let out = d.cli(c, &["run", "--rm", "busybox", "sh", "-c", "echo to-out; echo to-err >&2"]);
        out.assert_ok().assert_stdout("to-out").assert_stderr_contains("to-err");
        assert!(!out.stdout.contains("to-err"), "stderr leaked into stdout: {out:?}");
        assert!(!out.stderr.contains("to-out"), "stdout leaked into stderr: {out:?}");
    }
}

both! {
    fn env_flags(d, c) {
        let out = d.cli(c, &["run", "--rm", "-e", "K=V", "-e", "SPACED=a b", "busybox", "env"]);
        out.assert_ok();
        let lines = out.lines();
        assert!(lines.contains(&"K=V".to_string()), "{out:?}");
        assert!(lines.contains(&"SPACED=a b".to_string()), "{out:?}");
        assert!(lines.iter().any(|l| l.starts_with("PATH=")), "image env lost: {out:?}");

        let env_file = d.dir().join("vars.env");
        std::fs::write(&env_file, "# a comment\nA=1\n\nB=two words\n").expect("write env file");
        let out = d.cli(c, &["run", "--rm", "--env-file", &env_file.display().to_string(), "busybox", "env"]);
        out.assert_ok();
        let lines = out.lines();
        assert!(lines.contains(&"A=1".to_string()), "{out:?}");
        assert!(lines.contains(&"B=two words".to_string()), "{out:?}");
        assert!(!out.stdout.contains("comment"), "{out:?}");
    }
}

both! {
    fn workdir_user_hostname(d, c) {
        d.cli(c, &["run", "--rm", "-w", "/tmp", "busybox", "pwd"]).assert_ok().assert_stdout("/tmp");
        d.cli(c, &["run", "--rm", "-w", "/does/not/exist", "busybox", "pwd"]).assert_ok().assert_stdout("/does/not/exist");
        d.cli(c, &["run", "--rm", "-u", "1:1", "busybox", "id", "-u"]).assert_ok().assert_stdout("1");
        d.cli(c, &["run", "--rm", "-u", "1:1", "busybox", "id", "-g"]).assert_ok().assert_stdout("1");
        d.cli(c, &["run", "--rm", "-u", "daemon", "busybox", "id", "-u"]).assert_ok().assert_stdout("1");
        d.cli(c, &["run", "--rm", "-h", "myhost", "busybox", "hostname"]).assert_ok().assert_stdout("myhost");
    }
}

both! {
    fn entrypoint(d, c) {
        d.cli(c, &["run", "--rm", "--entrypoint", "echo", "busybox", "a", "b"]).assert_ok().assert_stdout("a b");
        d.cli(c, &["run", "--rm", "--entrypoint", "/bin/hostname", "-h", "ep", "busybox"]).assert_ok().assert_stdout("ep");
    }
}

both! {
    fn labels_in_inspect(d, c) {
        d.cli(c, &["run", "--name", "lab", "--label", "color=blue", "--label", "empty", "busybox", "true"]).assert_ok();
        d.cli(c, &["inspect", "-f", "{{index .Config.Labels \"color\"}}", "lab"]).assert_ok().assert_stdout("blue");
        d.cli(c, &["inspect", "-f", "{{json .Config.Labels}}", "lab"]).assert_ok().assert_stdout(r#"{"color":"blue","empty":""}"#);
    }
}

both! {
    fn duplicate_name(d, c) {
        d.cli(c, &["create", "--name", "dup", "busybox"]).assert_ok();
        // docker exits 1 for daemon errors on create, 125 on run.
        d.cli(c, &["create", "--name", "dup", "busybox"])
            .assert_code(1)
            .assert_stderr_contains("is already in use by container");
        d.cli(c, &["run", "--name", "dup", "busybox", "true"])
            .assert_code(125)
            .assert_stderr_contains("is already in use by container");
        assert_eq!(d.cli(c, &["ps", "-aq"]).assert_ok().lines().len(), 1);
    }
}

both! {
    fn interactive_stdin(d, c) {
        d.cli_with_stdin(c, &["run", "-i", "--rm", "busybox", "cat"], "abc\n").assert_ok().assert_stdout("abc");
        d.cli_with_stdin(c, &["run", "-i", "--rm", "busybox", "wc", "-l"], "1\n2\n3\n").assert_ok().assert_stdout("3");
        // Without -i the container sees no stdin.
        d.cli_with_stdin(c, &["run", "--rm", "busybox", "cat"], "ignored\n").assert_ok().assert_stdout("");
    }
}
