#![allow(clippy::unwrap_used)]
//! Loading whole projects from files on disk: discovery, several files,
//! override files, include, extends, .env, interpolation, errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_compose::model::{DependCondition, VolumeKind};
use berth_compose::{load, ComposeError, LoadOptions, Project};

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn opts(dir: &Path) -> LoadOptions {
    LoadOptions {
        working_dir: dir.to_path_buf(),
        environment: BTreeMap::from([("HOME".to_string(), "/home/u".to_string())]),
        ..Default::default()
    }
}

/// A project directory named `app` holding `files`, loaded by discovery.
fn load_files(
    files: &[(&str, &str)],
) -> (tempfile::TempDir, PathBuf, Result<Project, ComposeError>) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir, files);
    let r = load(&opts(&dir));
    (t, dir, r)
}

fn err(files: &[(&str, &str)]) -> String {
    let (_t, _d, r) = load_files(files);
    r.expect_err("load should fail").to_string()
}

#[test]
fn discovery_override_and_project_name_from_directory() {
    let (_t, dir, r) = load_files(&[
        (
            "compose.yaml",
            "services:\n  web:\n    image: busybox\n    environment: [A=1]\n",
        ),
        (
            "compose.override.yaml",
            "services:\n  web:\n    environment: [B=2]\n",
        ),
    ]);
    let p = r.unwrap();
    assert_eq!(p.name, "app");
    assert_eq!(
        p.config_files,
        vec![dir.join("compose.yaml"), dir.join("compose.override.yaml")]
    );
    assert_eq!(p.working_dir, dir);
    let env = &p.services["web"].environment;
    assert_eq!(env["A"].as_deref(), Some("1"));
    assert_eq!(env["B"].as_deref(), Some("2"));
}

#[test]
fn no_file_anywhere() {
    let t = tempfile::tempdir().unwrap();
    // Discovery walks up to /, where no compose file is expected.
    let e = load(&opts(t.path()));
    if let Err(e) = e {
        assert_eq!(e.to_string(), "no configuration file provided: not found");
    }
}

#[test]
fn several_files_merge_in_order() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("a.yml", "name: merged\nservices:\n  web:\n    image: a\n    command: [echo, a]\n    ports: ['8080:80']\n    volumes: ['data:/data']\nvolumes:\n  data: {}\n  other: {}\n"),
            ("b.yml", "services:\n  web:\n    image: b\n    command: [echo, b]\n    ports: ['8081:81']\n    volumes: ['other:/data']\n"),
        ],
    );
    let mut o = opts(t.path());
    o.files = vec!["a.yml".into(), "b.yml".into()];
    let p = load(&o).unwrap();
    assert_eq!(p.name, "merged");
    let w = &p.services["web"];
    assert_eq!(w.image.as_deref(), Some("b"));
    assert_eq!(
        w.command.as_deref(),
        Some(&["echo".to_string(), "b".to_string()][..])
    );
    assert_eq!(w.ports.len(), 2);
    assert_eq!(w.volumes.len(), 1);
    assert_eq!(w.volumes[0].source.as_deref(), Some("other"));
}

#[test]
fn version_is_accepted_with_a_warning() {
    let (_t, _d, r) = load_files(&[(
        "docker-compose.yml",
        "version: '3.8'\nservices:\n  a:\n    image: busybox\n",
    )]);
    let p = r.unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("the attribute `version` is obsolete")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn extension_fields_anchors_and_merge_keys() {
    let (_t, _d, r) = load_files(&[(
        "compose.yaml",
        "x-base: &base\n  image: busybox\n  restart: always\n  environment:\n    TZ: utc\nservices:\n  a:\n    <<: *base\n    x-note: ignored by the model\n  b:\n    <<: *base\n    restart: \"no\"\nnetworks:\n  n:\n    x-meta: 1\n",
    )]);
    let p = r.unwrap();
    assert_eq!(p.services["a"].restart.as_deref(), Some("always"));
    assert_eq!(p.services["b"].restart.as_deref(), Some("no"));
    assert_eq!(p.services["b"].environment["TZ"].as_deref(), Some("utc"));
}

#[test]
fn interpolation_env_beats_dotenv_and_env_file_replaces_it() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            ("compose.yaml", "services:\n  web:\n    image: \"busybox:${TAG:-latest}\"\n    ports: ['${PORT}:80']\n    labels:\n      $KEY: \"$$literal\"\n"),
            (".env", "TAG=1.36\nPORT=8000\nKEY=k\n"),
            ("other.env", "TAG=other\nPORT=9000\n"),
        ],
    );
    let mut o = opts(t.path());
    o.environment.insert("PORT".into(), "7000".into());
    let p = load(&o).unwrap();
    let w = &p.services["web"];
    assert_eq!(w.image.as_deref(), Some("busybox:1.36"));
    assert_eq!(w.ports[0].published.as_deref(), Some("7000"));
    // Keys are not interpolated; `$$` is a literal dollar.
    assert_eq!(w.labels["$KEY"].as_deref(), Some("$literal"));

    assert_eq!(p.variables["TAG"], "1.36");
    assert_eq!(p.variables["PORT"], "7000");

    o.env_files = vec!["other.env".into()];
    let p = load(&o).unwrap();
    assert_eq!(p.services["web"].image.as_deref(), Some("busybox:other"));
    assert_eq!(
        p.services["web"].ports[0].published.as_deref(),
        Some("7000")
    );
}

#[test]
fn interpolation_errors() {
    let e = err(&[(
        "compose.yaml",
        "services:\n  web:\n    image: ${IMG:?image is required}\n",
    )]);
    assert_eq!(
        e,
        "error while interpolating services.web.image: required variable IMG is missing a value: image is required"
    );
    let e = err(&[("compose.yaml", "services:\n  web:\n    image: ${IMG\n")]);
    assert!(
        e.starts_with("invalid interpolation format for services.web.image"),
        "{e}"
    );
}

#[test]
fn unknown_key_names_key_service_and_file() {
    let (_t, dir, r) = load_files(&[(
        "compose.yaml",
        "services:\n  web:\n    image: busybox\n    imagee: typo\n",
    )]);
    let e = r.unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "validating {}: services.web additional properties 'imagee' not allowed",
            dir.join("compose.yaml").display()
        )
    );
    let e = err(&[(
        "compose.yaml",
        "services:\n  web:\n    image: busybox\n    build:\n      context: .\n      contxt: x\n",
    )]);
    assert!(
        e.ends_with("services.web.build additional properties 'contxt' not allowed"),
        "{e}"
    );
    let e = err(&[("compose.yaml", "services: {}\nnetwork:\n  a: {}\n")]);
    assert!(
        e.ends_with("additional properties 'network' not allowed"),
        "{e}"
    );
}

#[test]
fn spec_keys_berth_cannot_honour_are_refused() {
    for (yaml, key) in [
        ("services:\n  web:\n    image: busybox\n    cpus: 0.5\n", "cpus"),
        ("services:\n  web:\n    image: busybox\n    build:\n      context: .\n      ssh: [default]\n", "ssh"),
        ("services:\n  web:\n    image: busybox\n    deploy:\n      placement: {}\n", "placement"),
        ("services:\n  web:\n    image: busybox\nnetworks:\n  n:\n    enable_ipv6: true\n", "enable_ipv6"),
        ("services:\n  web:\n    image: busybox\nmodels:\n  m: {}\n", "models"),
    ] {
        let e = err(&[("compose.yaml", yaml)]);
        assert!(e.contains(&format!("berth does not support the Compose key {key:?} yet")), "{key}: {e}");
    }
}

#[test]
fn yaml_syntax_error_has_line_and_column() {
    let (_t, dir, r) = load_files(&[(
        "compose.yaml",
        "services:\n  web:\n    image: busybox\n   bad: indent\n",
    )]);
    match r.unwrap_err() {
        ComposeError::Yaml {
            file, line, column, ..
        } => {
            assert_eq!(file, dir.join("compose.yaml").display().to_string());
            assert_eq!(line, 4);
            assert!(column > 0);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn undefined_references() {
    let base = "services:\n  web:\n    image: busybox\n";
    for (extra, want) in [
        (
            "    networks: [front]\n",
            "service \"web\" refers to undefined network front: invalid compose project",
        ),
        (
            "    volumes: ['data:/data']\n",
            "service \"web\" refers to undefined volume data: invalid compose project",
        ),
        (
            "    secrets: [token]\n",
            "service \"web\" refers to undefined secret token: invalid compose project",
        ),
        (
            "    configs: [conf]\n",
            "service \"web\" refers to undefined config conf: invalid compose project",
        ),
        (
            "    depends_on: [db]\n",
            "service \"web\" depends on undefined service \"db\": invalid compose project",
        ),
    ] {
        let e = err(&[("compose.yaml", &format!("{base}{extra}"))]);
        assert_eq!(e, want);
    }
    let e = err(&[("compose.yaml", "services:\n  web: {}\n")]);
    assert_eq!(e, "service \"web\" has neither an image nor a build context specified: invalid compose project");
}

#[test]
fn depends_on_cycle() {
    let e = err(&[(
        "compose.yaml",
        "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n  c:\n    image: x\n    depends_on: [a]\n",
    )]);
    assert_eq!(e, "dependency cycle detected: a -> b -> c -> a");
}

#[test]
fn profiles_select_services() {
    let text = "services:\n  foo:\n    image: foo\n  bar:\n    image: bar\n    profiles: [test]\n  zot:\n    image: zot\n    depends_on: [bar]\n    profiles: [debug]\n";
    let t = tempfile::tempdir().unwrap();
    write(t.path(), &[("compose.yaml", text)]);
    let mut o = opts(t.path());
    let p = load(&o).unwrap();
    assert_eq!(p.services.keys().collect::<Vec<_>>(), ["foo"]);
    assert_eq!(berth_compose::config::profiles(&p), ["debug", "test"]);
    o.profiles = vec!["test".into()];
    assert_eq!(load(&o).unwrap().services.len(), 2);
    o.profiles = vec!["debug".into()];
    let e = load(&o).unwrap_err().to_string();
    assert_eq!(
        e,
        "service \"zot\" depends on undefined service \"bar\": invalid compose project"
    );
    o.profiles = vec![];
    o.services = vec!["bar".into()];
    assert!(load(&o).unwrap().services.contains_key("bar"));
    o.services = vec![];
    o.environment
        .insert("COMPOSE_PROFILES".into(), "debug,test".into());
    assert_eq!(load(&o).unwrap().services.len(), 3);
}

#[test]
fn project_name_sources() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("My_Project.Dir");
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir, &[("compose.yaml", "services:\n  a:\n    image: x\n")]);
    let mut o = opts(&dir);
    assert_eq!(load(&o).unwrap().name, "my_projectdir");
    write(
        &dir,
        &[(
            "compose.yaml",
            "name: from-file\nservices:\n  a:\n    image: x\n",
        )],
    );
    assert_eq!(load(&o).unwrap().name, "from-file");
    o.environment
        .insert("COMPOSE_PROJECT_NAME".into(), "from-env".into());
    assert_eq!(load(&o).unwrap().name, "from-env");
    o.project_name = Some("flag".into());
    assert_eq!(load(&o).unwrap().name, "flag");
    o.project_name = Some("Bad Name".into());
    assert!(matches!(load(&o), Err(ComposeError::ProjectName(_))));
}

#[test]
fn extends_same_file_and_other_file() {
    let (_t, dir, r) = load_files(&[
        (
            "compose.yaml",
            "services:\n  common:\n    image: busybox\n    environment:\n      TZ: utc\n      PORT: 80\n  cli:\n    extends: common\n    environment:\n      PORT: 8080\n  web:\n    extends:\n      file: lib/base.yml\n      service: base\n    command: [httpd]\n",
        ),
        ("lib/base.yml", "services:\n  base:\n    image: nginx\n    volumes: ['./html:/usr/share/html']\n    command: [sleep, '1']\n"),
    ]);
    let p = r.unwrap();
    let cli = &p.services["cli"];
    assert_eq!(cli.image.as_deref(), Some("busybox"));
    assert_eq!(cli.environment["TZ"].as_deref(), Some("utc"));
    assert_eq!(cli.environment["PORT"].as_deref(), Some("8080"));
    let web = &p.services["web"];
    assert_eq!(web.image.as_deref(), Some("nginx"));
    assert_eq!(web.command.as_deref(), Some(&["httpd".to_string()][..]));
    // Paths in the extended file resolve against that file's directory.
    assert_eq!(
        web.volumes[0].source.as_deref(),
        Some(dir.join("lib/html").to_str().unwrap())
    );
}

#[test]
fn extends_errors() {
    let e = err(&[(
        "compose.yaml",
        "services:\n  a:\n    extends: b\n  b:\n    extends: a\n",
    )]);
    assert!(e.starts_with("circular reference with extends"), "{e}");
    let e = err(&[("compose.yaml", "services:\n  a:\n    extends: nope\n")]);
    assert!(e.contains("service \"nope\" not found"), "{e}");
}

#[test]
fn include_loads_other_projects_with_their_own_dir_and_env() {
    let (_t, dir, r) = load_files(&[
        ("compose.yaml", "include:\n  - sub/compose.yaml\nservices:\n  web:\n    image: busybox\n    depends_on: [db]\n"),
        ("sub/compose.yaml", "services:\n  db:\n    image: postgres:${PGTAG}\n    volumes: ['./init:/init', 'pg:/data']\nvolumes:\n  pg: {}\n"),
        ("sub/.env", "PGTAG=15\n"),
    ]);
    let p = r.unwrap();
    let db = &p.services["db"];
    assert_eq!(db.image.as_deref(), Some("postgres:15"));
    assert_eq!(
        db.volumes[0].source.as_deref(),
        Some(dir.join("sub/init").to_str().unwrap())
    );
    assert!(p.volumes.contains_key("pg"));
    assert_eq!(p.volumes["pg"].name.as_deref(), Some("app_pg"));

    let e = err(&[
        (
            "compose.yaml",
            "include: [sub.yaml]\nservices:\n  db:\n    image: a\n",
        ),
        ("sub.yaml", "services:\n  db:\n    image: b\n"),
    ]);
    assert!(
        e.ends_with("services.db conflicts with imported resource"),
        "{e}"
    );
    let e = err(&[("compose.yaml", "include: [compose.yaml]\nservices: {}\n")]);
    assert!(e.starts_with("include cycle"), "{e}");
}

#[test]
fn env_file_required_and_optional() {
    let (_t, _d, r) = load_files(&[
        (
            "compose.yaml",
            "services:\n  web:\n    image: x\n    env_file:\n      - web.env\n      - path: missing.env\n        required: false\n    environment:\n      B: from-environment\n",
        ),
        ("web.env", "A=1\nB=from-file\n"),
    ]);
    let p = r.unwrap();
    let env = &p.services["web"].environment;
    assert_eq!(env["A"].as_deref(), Some("1"));
    assert_eq!(env["B"].as_deref(), Some("from-environment"));
    assert!(p.services["web"].env_file.is_empty());
    let e = err(&[(
        "compose.yaml",
        "services:\n  web:\n    image: x\n    env_file: nope.env\n",
    )]);
    assert!(
        e.starts_with("env file /") && e.contains("nope.env not found: stat "),
        "{e}"
    );
}

#[test]
fn every_service_key_of_the_issue_loads() {
    let text = r#"
services:
  full:
    image: busybox
    build:
      context: ./ctx
      dockerfile: Containerfile
      args: [A=1]
      target: final
      labels: {l: v}
      cache_from: [busybox]
    command: ["sh", "-c", "sleep 1"]
    entrypoint: /init
    environment: {X: 1, Y: null}
    env_file: []
    ports:
      - 80
      - "127.0.0.1:8000-8001:80-81/udp"
      - target: 443
        published: "8443"
        host_ip: 0.0.0.0
        protocol: tcp
        mode: host
    expose: [9000, "9001"]
    volumes:
      - data:/data:ro
      - /anon
      - ./src:/src
      - type: tmpfs
        target: /tmp
        tmpfs: {size: 64m}
      - type: bind
        source: /etc/hosts
        target: /h
        read_only: true
        bind: {create_host_path: false}
    networks:
      front:
        aliases: [f]
        ipv4_address: 10.5.0.9
        priority: 10
      back:
    depends_on:
      dep:
        condition: service_completed_successfully
        restart: true
        required: false
    restart: on-failure:3
    healthcheck:
      test: ["CMD", "true"]
      interval: 10s
      timeout: 1s
      retries: 3
      start_period: 1m
    deploy:
      replicas: 1
      resources:
        limits: {cpus: "0.5", memory: 64m, pids: 100}
        reservations: {memory: 32m}
      restart_policy: {condition: on-failure, max_attempts: 3}
    scale: 1
    container_name: full-one
    hostname: h
    domainname: d.example
    labels: [a=b]
    working_dir: /w
    user: "1000:1000"
    stdin_open: true
    tty: true
    init: true
    stop_signal: SIGINT
    stop_grace_period: 1m30s
    ulimits:
      nproc: 65535
      nofile: {soft: 1024, hard: 2048}
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    privileged: false
    read_only: true
    tmpfs: /run
    extra_hosts: ["somehost=10.0.0.1"]
    dns: [1.1.1.1]
    sysctls: {net.core.somaxconn: 1024}
    devices: ["/dev/null:/dev/xnull:r"]
    shm_size: 64m
    logging: {driver: json-file, options: {max-size: 10m}}
    secrets: [tok, {source: tok2, target: t2, mode: 0400}]
    configs: [conf]
    profiles: [full]
    pull_policy: missing
    links: [dep:alias]
    external_links: [other_container]
  dep:
    image: busybox
networks:
  front:
    driver: bridge
    internal: true
    labels: {n: "1"}
    ipam:
      driver: default
      config: [{subnet: 10.5.0.0/16, gateway: 10.5.0.1}]
  back:
    external: true
    name: real-back
volumes:
  data:
    driver_opts: {type: none}
    labels: [v=1]
  ext:
    external: true
secrets:
  tok: {file: ./tok.txt}
  tok2: {environment: TOKEN}
configs:
  conf: {content: "hello"}
"#;
    let t = tempfile::tempdir().unwrap();
    write(t.path(), &[("compose.yaml", text)]);
    let mut o = opts(t.path());
    o.profiles = vec!["full".into()];
    let p = load(&o).unwrap();
    let s = &p.services["full"];
    assert_eq!(s.ports.len(), 4);
    assert_eq!(s.ports[1].host_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(s.ports[2].published.as_deref(), Some("8001"));
    assert_eq!(s.ports[2].protocol, "udp");
    assert_eq!(s.volumes[0].kind, VolumeKind::Volume);
    assert!(s.volumes[0].read_only);
    assert_eq!(s.volumes[2].kind, VolumeKind::Bind);
    assert!(s.volumes[2].bind.as_ref().unwrap().create_host_path);
    assert_eq!(
        s.volumes[3].tmpfs.as_ref().unwrap().size.unwrap().0,
        64 << 20
    );
    assert_eq!(
        s.depends_on["dep"].condition,
        DependCondition::ServiceCompletedSuccessfully
    );
    assert!(!s.depends_on["dep"].required);
    assert_eq!(s.secrets[0].target.as_deref(), Some("/run/secrets/tok"));
    assert_eq!(s.secrets[1].target.as_deref(), Some("/run/secrets/t2"));
    assert_eq!(s.configs[0].target.as_deref(), Some("/conf"));
    assert_eq!(s.stop_grace_period.unwrap().to_string(), "1m30s");
    assert_eq!(s.shm_size.unwrap().0, 64 << 20);
    assert_eq!(s.entrypoint.as_deref(), Some(&["/init".to_string()][..]));
    assert_eq!(s.devices[0].target, "/dev/xnull");
    assert_eq!(
        p.networks["front"].name.as_deref(),
        Some(&*format!("{}_front", p.name))
    );
    assert_eq!(p.networks["back"].name.as_deref(), Some("real-back"));
    assert_eq!(p.volumes["ext"].name.as_deref(), Some("ext"));
    // `dep` names no network: it joins the project's default one.
    assert_eq!(
        p.networks["default"].name.as_deref(),
        Some(&*format!("{}_default", p.name))
    );
    assert!(!s.networks.contains_key("default"));
}

#[test]
fn bad_values_are_refused() {
    for (extra, needle) in [
        ("    restart: sometimes\n", "invalid restart policy"),
        ("    ports: ['99999:80']\n", "invalid port"),
        ("    volumes: ['a:b:c:d']\n", "too many colons"),
        ("    stop_grace_period: 10\n", "a unit is required"),
        ("    privileged: maybe\n", "invalid boolean"),
        (
            "    depends_on:\n      x:\n        condition: whenever\n",
            "unknown variant",
        ),
        (
            "    scale: 2\n    deploy: {replicas: 3}\n",
            "can't set distinct values",
        ),
        (
            "    network_mode: host\n    networks: [default]\n",
            "mutually exclusive",
        ),
        (
            "    container_name: one\n    scale: 2\n",
            "can't set container_name and scale > 1",
        ),
    ] {
        let e = err(&[(
            "compose.yaml",
            &format!("services:\n  web:\n    image: busybox\n{extra}"),
        )]);
        assert!(e.contains(needle), "{extra}: {e}");
    }
}

#[test]
fn file_from_standard_input() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("here");
    std::fs::create_dir_all(&dir).unwrap();
    let mut o = opts(&dir);
    o.files = vec!["-".into()];
    let e = load(&o).unwrap_err().to_string();
    assert_eq!(
        e,
        "-f -: the compose file's text from standard input was not given"
    );
    o.stdin = Some("services:\n  a:\n    image: busybox\n    volumes: ['./d:/d']\n".into());
    let p = load(&o).unwrap();
    assert_eq!(p.name, "here");
    assert_eq!(p.config_files, vec![PathBuf::from("-")]);
    assert_eq!(
        p.services["a"].volumes[0].source.as_deref(),
        Some(dir.join("d").to_str().unwrap())
    );
}

#[test]
fn missing_file_given_with_f() {
    let t = tempfile::tempdir().unwrap();
    let mut o = opts(t.path());
    o.files = vec!["nope.yml".into()];
    let e = load(&o).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("open {}", t.path().join("nope.yml").display())),
        "{e}"
    );
}

#[test]
fn project_directory_and_compose_file_variable() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        &[
            (
                "files/base.yml",
                "services:\n  web:\n    image: busybox:${TAG}\n    volumes: ['./data:/data']\n",
            ),
            (
                "files/extra.yml",
                "services:\n  web:\n    labels: [extra=1]\n",
            ),
            ("proj/.env", "TAG=from-proj\n"),
            ("files/.env", "TAG=from-files\n"),
        ],
    );
    let mut o = opts(t.path());
    o.files = vec!["files/base.yml".into()];
    let p = load(&o).unwrap();
    assert_eq!(p.name, "files");
    assert_eq!(
        p.services["web"].image.as_deref(),
        Some("busybox:from-files")
    );

    o.project_directory = Some("proj".into());
    let p = load(&o).unwrap();
    assert_eq!(p.name, "proj");
    assert_eq!(p.working_dir, t.path().join("proj"));
    assert_eq!(
        p.services["web"].image.as_deref(),
        Some("busybox:from-proj")
    );
    assert_eq!(
        p.services["web"].volumes[0].source.as_deref(),
        Some(t.path().join("proj/data").to_str().unwrap())
    );

    // Without -f, --project-directory is where discovery looks.
    let mut o = opts(t.path());
    o.project_directory = Some("files".into());
    write(
        t.path(),
        &[(
            "files/compose.yaml",
            "services:\n  only:\n    image: busybox\n",
        )],
    );
    assert!(load(&o).unwrap().services.contains_key("only"));

    let mut o = opts(t.path());
    o.environment.insert(
        "COMPOSE_FILE".into(),
        "files/base.yml:files/extra.yml".into(),
    );
    let p = load(&o).unwrap();
    assert_eq!(p.config_files.len(), 2);
    assert_eq!(p.services["web"].labels["extra"].as_deref(), Some("1"));
}

#[test]
fn reset_and_override_in_an_override_file() {
    let (_t, _d, r) = load_files(&[
        (
            "compose.yaml",
            "services:\n  app:\n    image: myapp\n    ports:\n      - \"8080:80\"\n    environment:\n      FOO: BAR\n      KEEP: 1\n    command: [a]\n  other:\n    image: x\n    networks: [n1]\nnetworks:\n  n1: {}\n  n2: {}\n",
        ),
        (
            "compose.override.yaml",
            "services:\n  app:\n    image: myapp\n    ports: !reset []\n    environment:\n      FOO: !reset null\n  other:\n    networks: !override\n      - n2\n",
        ),
    ]);
    let p = r.unwrap();
    let app = &p.services["app"];
    assert!(app.ports.is_empty());
    assert!(!app.environment.contains_key("FOO"));
    assert_eq!(app.environment["KEEP"].as_deref(), Some("1"));
    assert_eq!(
        p.services["other"].networks.keys().collect::<Vec<_>>(),
        ["n2"]
    );

    // Ports replaced rather than appended.
    let (_t, _d, r) = load_files(&[
        (
            "compose.yaml",
            "services:\n  app:\n    image: myapp\n    ports:\n      - \"8080:80\"\n",
        ),
        (
            "compose.override.yaml",
            "services:\n  app:\n    ports: !override\n      - \"8443:443\"\n",
        ),
    ]);
    let p = r.unwrap();
    let ports = &p.services["app"].ports;
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0].target, 443);

    // Tags where they cannot mean one place are refused.
    let e = err(&[(
        "compose.yaml",
        "x-a: &a\n  ports: !reset []\nservices:\n  app:\n    image: x\n    <<: *a\n",
    )]);
    assert!(
        e.contains("berth does not support the Compose key \"!reset\""),
        "{e}"
    );
    let e = err(&[(
        "compose.yaml",
        "services:\n  app:\n    image: x\n    dns:\n      - !reset 1.1.1.1\n",
    )]);
    assert!(e.contains("only a mapping entry can be reset"), "{e}");
}

#[test]
fn long_extends_and_include_chains_are_refused() {
    let mut text = String::from("services:\n  s0:\n    image: busybox\n");
    for i in 1..200 {
        text.push_str(&format!("  s{i}:\n    extends: s{}\n", i - 1));
    }
    let e = err(&[("compose.yaml", &text)]);
    assert!(e.contains("extends chain longer than 64"), "{e}");

    let mut files: Vec<(String, String)> = vec![(
        "compose.yaml".into(),
        "include: [i1.yaml]\nservices: {}\n".into(),
    )];
    for i in 1..50 {
        files.push((
            format!("i{i}.yaml"),
            format!("include: [i{}.yaml]\nservices: {{}}\n", i + 1),
        ));
    }
    files.push(("i50.yaml".into(), "services: {}\n".into()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let e = err(&refs);
    assert!(e.contains("include nested deeper than 32 files"), "{e}");
}
