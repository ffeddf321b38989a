#![allow(clippy::unwrap_used)]
//! The course's example projects: they load, print as `config` does, and
//! plan with Compose v2's names, labels and order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_compose::config::{self, Format};
use berth_compose::model::DependCondition;
use berth_compose::plan::{self, label, ActionKind, DiffOptions, ExistingContainer, Scale};
use berth_compose::{load, LoadOptions, Project};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load_fixture(name: &str) -> Project {
    let dir = fixture(name);
    load(&LoadOptions {
        working_dir: dir,
        environment: BTreeMap::from([("HOME".to_string(), "/home/u".to_string())]),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn node_app_with_redis() {
    let p = load_fixture("node-redis");
    assert_eq!(p.name, "node-redis");
    assert_eq!(
        p.services.keys().collect::<Vec<_>>(),
        ["node-app", "redis-server"]
    );
    let app = &p.services["node-app"];
    assert_eq!(app.restart.as_deref(), Some("always"));
    assert_eq!(
        app.build.as_ref().unwrap().context,
        fixture("node-redis").display().to_string()
    );
    assert_eq!(app.ports[0].published.as_deref(), Some("4001"));
    assert_eq!(app.ports[0].target, 8081);
    assert_eq!(
        plan::container_name(&p, "node-app", 1),
        "node-redis-node-app-1"
    );
    assert_eq!(
        plan::image_name(&p, "node-app").unwrap(),
        "node-redis-node-app"
    );
    assert_eq!(
        p.networks["default"].name.as_deref(),
        Some("node-redis_default")
    );
    assert!(p
        .warnings
        .iter()
        .any(|w| w.contains("`version` is obsolete")));
}

#[test]
fn voting_app_networks_and_health_gated_start() {
    let p = load_fixture("voting");
    assert_eq!(p.name, "voting");
    assert_eq!(
        p.networks["front-tier"].name.as_deref(),
        Some("voting_front-tier")
    );
    assert_eq!(
        p.networks["back-tier"].name.as_deref(),
        Some("voting_back-tier")
    );
    assert!(
        !p.networks.contains_key("default"),
        "every service names its networks"
    );
    assert_eq!(p.volumes["db-data"].name.as_deref(), Some("voting_db-data"));
    assert_eq!(
        p.services["worker"].depends_on["db"].condition,
        DependCondition::ServiceHealthy
    );
    assert_eq!(
        p.services["redis"]
            .healthcheck
            .as_ref()
            .unwrap()
            .test
            .as_deref(),
        Some(
            &[
                "CMD-SHELL".to_string(),
                "/healthchecks/redis.sh".to_string()
            ][..]
        )
    );
    let order = plan::start_order(&p).unwrap();
    assert_eq!(order, ["db", "redis", "result", "vote", "worker"]);
    let stop = plan::stop_order(&p).unwrap();
    assert_eq!(stop, ["worker", "vote", "result", "redis", "db"]);
    assert_eq!(config::volumes(&p), ["db-data"]);
    assert_eq!(
        plan::with_dependencies(&p, &["vote".into()], false).unwrap(),
        ["redis", "vote"]
    );
    assert_eq!(
        plan::with_dependencies(&p, &["vote".into()], true).unwrap(),
        ["vote"]
    );
}

#[test]
fn five_services_with_depends_on_and_restart() {
    let p = load_fixture("five");
    assert_eq!(
        p.services.len(),
        6,
        "postgres, redis, nginx, api, client, worker"
    );
    let order = plan::start_order(&p).unwrap();
    let pos = |s: &str| order.iter().position(|x| x == s).unwrap();
    assert!(pos("postgres") < pos("api") && pos("redis") < pos("api"));
    assert!(pos("api") < pos("nginx") && pos("client") < pos("nginx"));
    assert!(pos("redis") < pos("worker"));
    assert_eq!(p.services["nginx"].restart.as_deref(), Some("always"));
    assert!(p.services["client"].stdin_open);
    let api = &p.services["api"];
    assert_eq!(api.environment["PGPORT"].as_deref(), Some("5432"));
    assert_eq!(api.volumes[0].source, None, "anonymous volume");
    assert_eq!(
        api.volumes[1].source.as_deref(),
        Some(fixture("five").join("server").to_str().unwrap())
    );
    assert_eq!(
        api.build.as_ref().unwrap().dockerfile.as_deref(),
        Some("Dockerfile.dev")
    );
    assert_eq!(config::services(&p).unwrap(), order);
}

#[test]
fn config_output_yaml_and_json() {
    let p = load_fixture("voting");
    let y = config::render(&p, Format::Yaml).unwrap();
    if std::env::var_os("SHOW_CONFIG").is_some() {
        println!("{y}");
    }
    assert!(y.starts_with("name: voting\nservices:\n"), "{y}");
    assert!(
        y.contains("\n      - mode: ingress\n") || y.contains("published: \"5000\""),
        "{y}"
    );
    assert!(y.contains("published: \"5000\""), "{y}");
    assert!(
        y.contains(&format!(
            "source: {}",
            fixture("voting").join("vote").display()
        )),
        "{y}"
    );
    assert!(y.contains("create_host_path: true"), "{y}");
    assert!(y.contains("name: voting_back-tier"), "{y}");
    // The printed YAML loads back to the same project.
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("compose.yaml"), &y).unwrap();
    let back = load(&LoadOptions {
        working_dir: t.path().to_path_buf(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(back.services, p.services);
    assert_eq!(back.networks, p.networks);
    assert_eq!(back.volumes, p.volumes);

    let j = config::render(&p, Format::Json).unwrap();
    assert!(
        j.starts_with("{\n  \"name\": \"voting\",\n  \"services\": {"),
        "{j}"
    );
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["services"]["vote"]["ports"][0]["target"], 80);
    assert_eq!(
        v["services"]["vote"]["networks"]["front-tier"],
        serde_json::Value::Null
    );
    assert_eq!(config::hashes(&p).unwrap().len(), 5);
}

fn existing(p: &Project, service: &str, n: u64, hash: &str) -> ExistingContainer {
    let mut labels = plan::container_labels(p, service, n, false, None).unwrap();
    labels.insert(label::CONFIG_HASH.into(), hash.into());
    ExistingContainer {
        id: format!("id-{service}-{n}"),
        name: plan::container_name(p, service, n),
        labels,
        running: true,
    }
}

#[test]
fn labels_like_compose_v2() {
    let p = load_fixture("five");
    let l = plan::container_labels(&p, "api", 1, false, Some("sha256:abc")).unwrap();
    assert_eq!(l[label::PROJECT], "five");
    assert_eq!(l[label::SERVICE], "api");
    assert_eq!(l[label::CONTAINER_NUMBER], "1");
    assert_eq!(l[label::ONEOFF], "False");
    assert_eq!(l[label::CONFIG_HASH].len(), 64);
    assert_eq!(
        l[label::CONFIG_FILES],
        fixture("five")
            .join("docker-compose.yml")
            .display()
            .to_string()
    );
    assert_eq!(l[label::WORKING_DIR], fixture("five").display().to_string());
    assert_eq!(
        l[label::DEPENDS_ON],
        "postgres:service_started:false,redis:service_started:false"
    );
    assert_eq!(l[label::IMAGE], "sha256:abc");
    assert_eq!(l[label::VERSION], plan::COMPOSE_VERSION);
    let n = plan::network_labels(&p, "default");
    assert_eq!(n[label::NETWORK], "default");
    assert_eq!(plan::project_filter(&p), "com.docker.compose.project=five");
}

#[test]
fn config_hash_ignores_what_compose_ignores() {
    let p = load_fixture("five");
    let api = p.services["api"].clone();
    let h = plan::config_hash(&api).unwrap();
    let mut same = api.clone();
    same.build = None;
    same.depends_on.clear();
    same.scale = Some(3);
    same.pull_policy = Some("always".into());
    same.profiles = vec!["x".into()];
    assert_eq!(plan::config_hash(&same).unwrap(), h);
    let mut changed = api;
    changed.environment.insert("NEW".into(), Some("1".into()));
    assert_ne!(plan::config_hash(&changed).unwrap(), h);
}

#[test]
fn diff_creates_keeps_recreates_scales_and_finds_orphans() {
    let p = load_fixture("five");
    let hash = |s: &str| plan::config_hash(&p.services[s]).unwrap();
    // First `up`: everything is created, in start order.
    let d = plan::diff(&p, &[], &Scale::default()).unwrap();
    assert_eq!(d.actions.len(), 6);
    assert!(d.actions.iter().all(|a| a.kind == ActionKind::Create));
    assert_eq!(
        d.actions
            .iter()
            .map(|a| a.service.clone())
            .collect::<Vec<_>>(),
        plan::start_order(&p).unwrap()
    );

    // Second `up`: the same containers are kept; a changed one is recreated.
    let mut have: Vec<ExistingContainer> = p
        .services
        .keys()
        .map(|s| existing(&p, s, 1, &hash(s)))
        .collect();
    have.push(existing(&p, "api", 1, "stale").clone());
    have.retain(|c| {
        !(c.labels[label::SERVICE] == "api" && c.labels[label::CONFIG_HASH] != "stale")
    });
    let mut orphan = existing(&p, "api", 1, "x");
    orphan.labels.insert(label::SERVICE.into(), "gone".into());
    orphan.id = "orphan".into();
    have.push(orphan);
    let mut other_project = existing(&p, "api", 1, "x");
    other_project
        .labels
        .insert(label::PROJECT.into(), "other".into());
    have.push(other_project);
    let mut oneoff = existing(&p, "api", 7, "x");
    oneoff.labels.insert(label::ONEOFF.into(), "True".into());
    have.push(oneoff);

    let d = plan::diff(&p, &have, &Scale::default()).unwrap();
    for a in &d.actions {
        match a.service.as_str() {
            "api" => assert_eq!(
                a.kind,
                ActionKind::Recreate {
                    id: "id-api-1".into()
                }
            ),
            s => assert_eq!(
                a.kind,
                ActionKind::Keep {
                    id: format!("id-{s}-1")
                },
                "{s}"
            ),
        }
    }
    assert_eq!(
        d.orphans.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["orphan"]
    );

    // --no-recreate keeps it; --force-recreate recreates all.
    let d = plan::diff_with(
        &p,
        &have,
        &Scale::default(),
        DiffOptions {
            no_recreate: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(d
        .actions
        .iter()
        .all(|a| matches!(a.kind, ActionKind::Keep { .. })));
    let d = plan::diff_with(
        &p,
        &have,
        &Scale::default(),
        DiffOptions {
            force_recreate: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(d
        .actions
        .iter()
        .all(|a| matches!(a.kind, ActionKind::Recreate { .. })));

    // --scale worker=3 creates two more; back to 1 removes them.
    let scale = Scale(BTreeMap::from([("worker".to_string(), 3)]));
    let d = plan::diff(&p, &have, &scale).unwrap();
    let w: Vec<_> = d.actions.iter().filter(|a| a.service == "worker").collect();
    assert_eq!(w.len(), 3);
    assert_eq!(w[2].name, "five-worker-3");
    assert_eq!(w[2].kind, ActionKind::Create);
    have.push(existing(&p, "worker", 2, &hash("worker")));
    let d = plan::diff(&p, &have, &Scale::default()).unwrap();
    assert!(d.actions.iter().any(|a| a.service == "worker"
        && a.number == 2
        && a.kind
            == ActionKind::Remove {
                id: "id-worker-2".into()
            }));
}

/// `config` output of each course project against a golden file
/// (`tests/golden/NAME.yaml`, with `@FIXTURE@` for the fixture directory).
/// `UPDATE_GOLDEN=1` rewrites them.
#[test]
fn config_output_matches_golden_files() {
    for name in ["node-redis", "voting", "five"] {
        let p = load_fixture(name);
        let got = config::render(&p, Format::Yaml)
            .unwrap()
            .replace(&fixture(name).display().to_string(), "@FIXTURE@");
        let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("{name}.yaml"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &got).unwrap();
        }
        let want = std::fs::read_to_string(&golden)
            .unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn down_plan() {
    let p = load_fixture("voting");
    let d = plan::down(&p, false, plan::RemoveImages::None);
    assert_eq!(d.networks, ["voting_back-tier", "voting_front-tier"]);
    assert!(d.volumes.is_empty() && d.images.is_empty());
    let d = plan::down(&p, true, plan::RemoveImages::Local);
    assert_eq!(d.volumes, ["voting_db-data"]);
    assert_eq!(d.images, ["voting-result", "voting-vote", "voting-worker"]);
    let d = plan::down(&p, true, plan::RemoveImages::All);
    assert_eq!(
        d.images,
        [
            "postgres:15-alpine",
            "redis:alpine",
            "voting-result",
            "voting-vote",
            "voting-worker"
        ]
    );
}
