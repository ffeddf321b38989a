#![allow(clippy::unwrap_used)]
//! The Engine API bodies the plan maps services, networks and volumes to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_compose::{engine, load, LoadOptions, Project};
use serde_json::json;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn project(name: &str) -> Project {
    load(&LoadOptions {
        working_dir: fixture(name),
        environment: BTreeMap::from([("HOME".to_string(), "/home/u".to_string())]),
        ..Default::default()
    })
    .unwrap()
}

fn inline(yaml: &str) -> Project {
    let t = tempfile::tempdir().unwrap();
    load(&LoadOptions {
        working_dir: t.path().join("p"),
        files: vec!["-".into()],
        stdin: Some(yaml.to_string()),
        project_name: Some("p".into()),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn voting_app_vote_container() {
    let p = project("voting");
    let c = engine::container(&p, "vote", 1, Some("sha256:1")).unwrap();
    assert_eq!(c.name, "voting-vote-1");
    let v = serde_json::to_value(&c.request).unwrap();
    assert_eq!(v["Image"], "voting-vote");
    assert_eq!(v["Cmd"], json!(["python", "app.py"]));
    assert_eq!(v["Labels"]["com.docker.compose.service"], "vote");
    assert_eq!(v["Labels"]["com.docker.compose.image"], "sha256:1");
    assert_eq!(v["ExposedPorts"], json!({"80/tcp": {}}));
    let h = &v["HostConfig"];
    assert_eq!(
        h["PortBindings"],
        json!({"80/tcp": [{"HostIp": "", "HostPort": "5000"}]})
    );
    assert_eq!(h["NetworkMode"], "voting_back-tier");
    assert_eq!(
        h["RestartPolicy"],
        json!({"Name": "no", "MaximumRetryCount": 0})
    );
    assert_eq!(
        h["Mounts"],
        json!([{"Type": "bind", "Source": fixture("voting").join("vote").display().to_string(), "Target": "/app", "BindOptions": {"CreateMountpoint": true}}])
    );
    assert_eq!(
        v["NetworkingConfig"],
        json!({"EndpointsConfig": {"voting_back-tier": {"Aliases": ["voting-vote-1", "vote"]}}})
    );
    assert_eq!(
        c.connect_after,
        vec![(
            "voting_front-tier".to_string(),
            json!({"Aliases": ["voting-vote-1", "vote"]})
        )]
    );
}

#[test]
fn voting_app_db_volume_and_healthcheck() {
    let p = project("voting");
    let c = engine::container(&p, "db", 1, None).unwrap();
    let v = serde_json::to_value(&c.request).unwrap();
    assert_eq!(
        v["Env"],
        json!(["POSTGRES_PASSWORD=postgres", "POSTGRES_USER=postgres"])
    );
    assert_eq!(
        v["Healthcheck"],
        json!({"Test": ["CMD-SHELL", "/healthchecks/postgres.sh"], "Interval": 5_000_000_000u64})
    );
    assert_eq!(
        v["HostConfig"]["Mounts"][0],
        json!({"Type": "volume", "Source": "voting_db-data", "Target": "/var/lib/postgresql/data"})
    );
    assert!(v["Labels"].get("com.docker.compose.image").is_none());

    let n = serde_json::to_value(engine::network(&p, "front-tier").unwrap()).unwrap();
    assert_eq!(n["Name"], "voting_front-tier");
    assert_eq!(n["Driver"], "bridge");
    assert_eq!(n["Labels"]["com.docker.compose.network"], "front-tier");
    let vol = serde_json::to_value(engine::volume(&p, "db-data").unwrap()).unwrap();
    assert_eq!(vol["Name"], "voting_db-data");
    assert_eq!(vol["Driver"], "local");
    assert_eq!(vol["Labels"]["com.docker.compose.volume"], "db-data");
}

#[test]
fn five_services_restart_anonymous_volume_and_stdin() {
    let p = project("five");
    let nginx =
        serde_json::to_value(engine::container(&p, "nginx", 1, None).unwrap().request).unwrap();
    assert_eq!(nginx["HostConfig"]["RestartPolicy"]["Name"], "always");
    assert_eq!(nginx["HostConfig"]["NetworkMode"], "five_default");
    let api = serde_json::to_value(engine::container(&p, "api", 1, None).unwrap().request).unwrap();
    assert_eq!(
        api["HostConfig"]["Mounts"][0],
        json!({"Type": "volume", "Target": "/app/node_modules"})
    );
    let client =
        serde_json::to_value(engine::container(&p, "client", 1, None).unwrap().request).unwrap();
    assert_eq!(client["OpenStdin"], true);
    assert!(engine::container(&p, "nope", 1, None).is_err());
}

#[test]
fn many_keys_map_to_host_config() {
    let p = inline(
        r#"
services:
  s:
    image: busybox
    restart: on-failure:3
    ports: ["127.0.0.1:8000-8001:80-81/udp"]
    expose: ["9000-9001"]
    networks:
      a: {priority: 1}
      b: {priority: 10, aliases: [bee], ipv4_address: 10.9.0.5}
    deploy:
      resources:
        limits: {cpus: "0.5", memory: 64m, pids: 50}
        reservations: {memory: 32m}
    ulimits: {nofile: {soft: 10, hard: 20}, nproc: 5}
    tmpfs: ["/run:size=1m", /tmp]
    extra_hosts: ["h=1.2.3.4"]
    dns: [1.1.1.1]
    links: ["t:tee"]
    stop_grace_period: 1m30s
    healthcheck: {disable: true}
    logging: {driver: json-file, options: {max-size: 1m}}
    shm_size: 1m
    init: true
    read_only: true
    volumes:
      - type: tmpfs
        target: /cache
        tmpfs: {size: 2m}
  t:
    image: busybox
networks:
  a: {}
  b:
    ipam:
      config: [{subnet: 10.9.0.0/16}]
"#,
    );
    let c = engine::container(&p, "s", 1, None).unwrap();
    let v = serde_json::to_value(&c.request).unwrap();
    let h = &v["HostConfig"];
    assert_eq!(
        h["RestartPolicy"],
        json!({"Name": "on-failure", "MaximumRetryCount": 3})
    );
    assert_eq!(
        h["PortBindings"]["81/udp"],
        json!([{"HostIp": "127.0.0.1", "HostPort": "8001"}])
    );
    assert_eq!(
        v["ExposedPorts"],
        json!({"80/udp": {}, "81/udp": {}, "9000/tcp": {}, "9001/tcp": {}})
    );
    assert_eq!(h["NetworkMode"], "p_b");
    assert_eq!(
        v["NetworkingConfig"]["EndpointsConfig"]["p_b"],
        json!({"Aliases": ["p-s-1", "s", "bee"], "IPAMConfig": {"IPv4Address": "10.9.0.5"}})
    );
    assert_eq!(c.connect_after.len(), 1);
    assert_eq!(c.connect_after[0].0, "p_a");
    assert_eq!(h["NanoCpus"], 500_000_000);
    assert_eq!(h["Memory"], 64 << 20);
    assert_eq!(h["MemoryReservation"], 32 << 20);
    assert_eq!(h["PidsLimit"], 50);
    assert_eq!(
        h["Ulimits"],
        json!([{"Name": "nofile", "Soft": 10, "Hard": 20}, {"Name": "nproc", "Soft": 5, "Hard": 5}])
    );
    assert_eq!(h["Tmpfs"], json!({"/run": "size=1m", "/tmp": ""}));
    assert_eq!(h["ExtraHosts"], json!(["h:1.2.3.4"]));
    assert_eq!(h["Dns"], json!(["1.1.1.1"]));
    assert_eq!(h["Links"], json!(["p-t-1:tee"]));
    assert_eq!(v["StopTimeout"], 90);
    assert_eq!(v["Healthcheck"], json!({"Test": ["NONE"]}));
    assert_eq!(
        h["LogConfig"],
        json!({"Type": "json-file", "Config": {"max-size": "1m"}})
    );
    assert_eq!(h["ShmSize"], 1 << 20);
    assert_eq!(h["Init"], true);
    assert_eq!(h["ReadonlyRootfs"], true);
    assert_eq!(
        h["Mounts"],
        json!([{"Type": "tmpfs", "Target": "/cache", "TmpfsOptions": {"SizeBytes": 2 << 20}}])
    );
    let n = serde_json::to_value(engine::network(&p, "b").unwrap()).unwrap();
    assert_eq!(n["IPAM"]["Config"], json!([{"Subnet": "10.9.0.0/16"}]));
}

#[test]
fn selinux_relabelling_is_refused_and_external_resources_are_not_created() {
    let p = inline("services:\n  s:\n    image: busybox\n    volumes: ['/h:/c:z', 'ext:/e']\nvolumes:\n  ext:\n    external: true\nnetworks:\n  outside:\n    external: true\n");
    let e = engine::container(&p, "s", 1, None).unwrap_err().to_string();
    assert!(e.contains("SELinux"), "{e}");
    assert!(engine::volume(&p, "ext").is_none());
    assert!(engine::network(&p, "outside").is_none());
    assert!(engine::network(&p, "default").is_some());
    let p = inline("services:\n  s:\n    image: busybox\n    deploy:\n      restart_policy: {condition: on-failure, max_attempts: 2}\n");
    let v = serde_json::to_value(engine::container(&p, "s", 1, None).unwrap().request).unwrap();
    assert_eq!(
        v["HostConfig"]["RestartPolicy"],
        json!({"Name": "on-failure", "MaximumRetryCount": 2})
    );
}

#[test]
fn secrets_and_configs() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("token.txt"), "s3cret").unwrap();
    let p = load(&LoadOptions {
        working_dir: t.path().to_path_buf(),
        files: vec!["-".into()],
        stdin: Some(
            "services:\n  s:\n    image: busybox\n    secrets: [token, {source: envsec, target: e, mode: 0400, uid: '1000'}]\n    configs: [conf]\nsecrets:\n  token:\n    file: ./token.txt\n  envsec:\n    environment: SECRET_VALUE\nconfigs:\n  conf:\n    content: hello\n"
                .into(),
        ),
        project_name: Some("p".into()),
        environment: BTreeMap::from([("SECRET_VALUE".to_string(), "from-env".to_string())]),
        ..Default::default()
    })
    .unwrap();
    let c = engine::container(&p, "s", 1, None).unwrap();
    let v = serde_json::to_value(&c.request).unwrap();
    assert_eq!(
        v["HostConfig"]["Mounts"],
        json!([{"Type": "bind", "Source": t.path().join("token.txt").display().to_string(), "Target": "/run/secrets/token", "ReadOnly": true}])
    );
    assert_eq!(
        c.copy_in,
        vec![
            engine::CopyFile {
                target: "/run/secrets/e".into(),
                content: b"from-env".to_vec(),
                mode: 0o400,
                uid: 1000,
                gid: 0
            },
            engine::CopyFile {
                target: "/conf".into(),
                content: b"hello".to_vec(),
                mode: 0o444,
                uid: 0,
                gid: 0
            },
        ]
    );

    let p = inline("services:\n  s:\n    image: busybox\n    secrets: [x]\nsecrets:\n  x:\n    environment: NOT_SET_ANYWHERE\n");
    let e = engine::container(&p, "s", 1, None).unwrap_err().to_string();
    assert!(e.contains("NOT_SET_ANYWHERE"), "{e}");
    let p = inline("services:\n  s:\n    image: busybox\n    secrets: [x]\nsecrets:\n  x:\n    external: true\n");
    assert!(engine::container(&p, "s", 1, None)
        .unwrap_err()
        .to_string()
        .contains("external secrets"));
}
