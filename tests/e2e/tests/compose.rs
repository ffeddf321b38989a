//! `berth compose`: what exists so far is `config` (the compose file model
//! of berth-compose, no daemon needed); the commands that drive the daemon
//! are refused by name.
use std::path::Path;
use std::process::Command;

fn berth(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(berth_e2e::bin_dir().join("berth"))
        .args(args)
        .current_dir(dir)
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .env("TAG", "7")
        .output()
        .expect("run berth")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const APP: &str = "services:\n  web:\n    image: \"busybox:${TAG}\"\n    ports: [\"8080:80\"]\n    depends_on: [db]\n    networks: [front, back]\n  db:\n    image: busybox\n    volumes: [\"data:/var/lib/db\"]\n    networks: [back]\nnetworks:\n  front: {}\n  back: {}\nvolumes:\n  data: {}\n";

#[test]
fn config_resolves_the_project_in_compose_form() {
    let dir = tempfile::tempdir().expect("tempdir");
    let proj = dir.path().join("My_App");
    std::fs::create_dir(&proj).expect("mkdir");
    std::fs::write(proj.join("compose.yaml"), APP).expect("write compose.yaml");
    let out = berth(&proj, &["compose", "config", "--services"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "db\nweb\n", "dependencies first");
    let out = berth(&proj, &["compose", "config", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["name"], "my_app", "project name from the directory, normalised");
    assert_eq!(v["services"]["web"]["image"], "busybox:7", "interpolated from the environment");
    assert_eq!(v["services"]["web"]["ports"][0]["published"], "8080");
    assert_eq!(v["services"]["web"]["ports"][0]["target"], 80);
    assert_eq!(v["networks"]["back"]["name"], "my_app_back");
    assert_eq!(v["volumes"]["data"]["name"], "my_app_data");
    let out = berth(&proj, &["compose", "-p", "other", "config", "--volumes"]);
    assert_eq!(text(&out.stdout), "data\n");
    let out = berth(&proj, &["compose", "config", "-q"]);
    assert!(out.status.success() && out.stdout.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn bad_files_and_missing_commands_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    let out = berth(p, &["compose", "config"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no configuration file provided: not found"), "{}", text(&out.stderr));
    std::fs::write(p.join("compose.yaml"), "services:\n  web:\n    imagee: busybox\n").expect("write");
    let out = berth(p, &["compose", "config"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("services.web additional properties 'imagee' not allowed"), "{}", text(&out.stderr));
    std::fs::write(p.join("compose.yaml"), "services:\n  web:\n    image: [busybox\n").expect("write");
    let out = berth(p, &["compose", "config"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("compose.yaml: line 4, column 1:"), "{}", text(&out.stderr));
    std::fs::write(p.join("compose.yaml"), "services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n").expect("write");
    let out = berth(p, &["compose", "config"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("dependency cycle detected"), "{}", text(&out.stderr));
    // up refuses the same cycle before it creates anything.
    let out = berth(p, &["compose", "up", "-d"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("dependency cycle detected"), "{}", text(&out.stderr));
}
