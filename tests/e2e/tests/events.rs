//! `events`: Docker's event objects for container and image actions,
//! replayed with --since/--until and filtered.

use berth_e2e::{both, Cli, TestDaemon};

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn events(d: &TestDaemon, c: Cli, since: u64, extra: &[&str]) -> Vec<String> {
    let since = since.to_string();
    let until = (now_secs() + 1).to_string();
    let mut args = vec!["events", "--since", &since, "--until", &until];
    args.extend_from_slice(extra);
    d.cli(c, &args).assert_ok().lines()
}

both! {
    fn container_lifecycle_events(d, c) {
        let t0 = now_secs();
        d.cli(c, &["run", "--name", "ev1", "--label", "team=a", "busybox", "sh", "-c", "exit 4"]).assert_code(4);
        d.cli(c, &["rm", "ev1"]).assert_ok();
        d.cli(c, &["tag", "busybox", "evtag:1"]).assert_ok();
        let fmt = ["--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"];
        let mut args = vec!["--filter", "type=container"];
        args.extend_from_slice(&fmt);
        assert_eq!(events(d, c, t0, &args), vec![
            "container create ev1", "container attach ev1", "container start ev1", "container die ev1", "container destroy ev1",
        ]);
        let die = events(d, c, t0, &["--filter", "event=die"]);
        assert_eq!(die.len(), 1, "{die:?}");
        assert!(die[0].contains(" container die ") && die[0].contains("exitCode=4") && die[0].contains("team=a") && die[0].contains("name=ev1"), "{die:?}");
        // (the harness loaded busybox moments ago: that `load` is in the window too)
        let mut args = vec!["--filter", "type=image", "--filter", "event=tag"];
        args.extend_from_slice(&fmt);
        assert_eq!(events(d, c, t0, &args), vec!["image tag evtag:1"]);
        assert!(events(d, c, t0, &["--filter", "container=nosuch"]).is_empty());
        let json = events(d, c, t0, &["--filter", "event=create", "--format", "{{json .}}"]);
        let v: serde_json::Value = serde_json::from_str(&json[0]).expect("json event");
        assert_eq!(v["Type"], "container");
        assert_eq!(v["status"], "create");
        assert_eq!(v["from"], "busybox");
        assert!(v["timeNano"].as_i64().unwrap_or(0) > 0);
    }
}

both! {
    fn bad_event_filters(d, c) {
        d.cli(c, &["events", "--filter", "bogus=1", "--until", "1"]).assert_fail().assert_stderr_contains("invalid filter 'bogus'");
        d.cli(c, &["events", "--since", "yesterday", "--until", "1"]).assert_fail();
    }
}

both! {
    fn volume_events(d, c) {
        let t0 = now_secs();
        d.cli(c, &["volume", "create", "evvol"]).assert_ok();
        d.cli(c, &["volume", "rm", "evvol"]).assert_ok();
        let got = events(d, c, t0, &["--filter", "type=volume", "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}"]);
        assert_eq!(got, vec!["volume create evvol", "volume destroy evvol"]);
    }
}

both! {
    fn network_events(d, c) {
        let t0 = now_secs();
        d.cli(c, &["network", "create", "evnet"]).assert_ok();
        d.cli(c, &["create", "--name", "evc", "busybox", "true"]).assert_ok();
        d.cli(c, &["network", "connect", "evnet", "evc"]).assert_ok();
        d.cli(c, &["network", "disconnect", "evnet", "evc"]).assert_ok();
        d.cli(c, &["network", "rm", "evnet"]).assert_ok();
        let got = events(d, c, t0, &["--filter", "type=network", "--format", "{{.Action}} {{.Actor.Attributes.name}}"]);
        assert_eq!(got, vec!["create evnet", "connect evnet", "disconnect evnet", "destroy evnet"]);
    }
}

both! {
    fn exec_and_attach_events(d, c) {
        let t0 = now_secs();
        d.cli(c, &["run", "-d", "--name", "exv", "busybox", "sleep", "1000"]).assert_ok();
        d.cli(c, &["exec", "exv", "sh", "-c", "exit 3"]).assert_code(3);
        d.cli(c, &["run", "--rm", "busybox", "true"]).assert_ok();
        let got = events(d, c, t0, &["--filter", "container=exv", "--filter", "event=exec_create", "--filter", "event=exec_start",
                                     "--filter", "event=exec_die", "--format", "{{.Action}}"]);
        assert_eq!(got, vec!["exec_create: sh -c exit 3", "exec_start: sh -c exit 3", "exec_die"]);
        let die = events(d, c, t0, &["--filter", "event=exec_die", "--format", "{{.Actor.Attributes.exitCode}}"]);
        assert_eq!(die, vec!["3"]);
        let attach = events(d, c, t0, &["--filter", "event=attach"]);
        assert_eq!(attach.len(), 1, "`run` attaches once: {attach:?}");
    }
}
