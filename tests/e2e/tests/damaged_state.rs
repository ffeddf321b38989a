//! One damaged record of each kind is moved to `<data-root>/quarantine/` at start-up;
//! the daemon starts and everything else still works.
use std::fs;
use std::path::Path;

use berth_e2e::TestDaemon;

fn entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

fn hex(id: &str) -> String {
    id.trim().trim_start_matches("sha256:").to_string()
}

#[test]
fn damaged_records_are_quarantined_and_the_daemon_starts() {
    let d = TestDaemon::start();
    let data = d.data_root();
    let busybox = hex(&d.docker(&["image", "inspect", "-f", "{{.Id}}", "busybox"]).assert_ok().out());
    let keep = d.docker(&["create", "--name", "keep", "busybox", "true"]).assert_ok().out();
    let lost = d.docker(&["create", "--name", "lost", "busybox", "true"]).assert_ok().out();
    d.docker(&["network", "create", "keepnet"]).assert_ok();
    let lostnet = d.docker(&["network", "create", "lostnet"]).assert_ok().out();
    d.docker(&["volume", "create", "keepvol"]).assert_ok();
    d.docker(&["volume", "create", "lostvol"]).assert_ok();
    d.docker(&["run", "--rm", "-v", "lostvol:/v", "busybox", "sh", "-c", "echo data > /v/kept"]).assert_ok();
    d.docker(&["tag", "busybox", "mytag:1"]).assert_ok();
    // An image whose record will be damaged, with its own layer, and a container using it.
    d.docker(&["run", "--name", "maker", "busybox", "sh", "-c", "echo x > /made"]).assert_ok();
    let layers_before = entries(&data.join("layers"));
    let lostimg = hex(&d.docker(&["commit", "maker", "lostimg:1"]).assert_ok().out());
    let new_layer: Vec<String> = entries(&data.join("layers")).into_iter().filter(|l| !layers_before.contains(l)).collect();
    assert_eq!(new_layer.len(), 1, "{new_layer:?}");
    d.docker(&["create", "--name", "orphan", "lostimg:1", "true"]).assert_ok();
    d.kill9();

    let damaged = [
        ("containers", data.join("db/containers").join(format!("{lost}.json"))),
        ("networks", data.join("db/networks").join(format!("{lostnet}.json"))),
        ("volumes", data.join("db/volumes/lostvol.json")),
        ("images", data.join("images").join(format!("{lostimg}.json"))),
        ("repositories", data.join("repositories.json")),
        ("layers", data.join("layers").join(&new_layer[0]).join("meta.json")),
    ];
    for (i, (kind, path)) in damaged.iter().enumerate() {
        let body = fs::read(path).unwrap_or_else(|e| panic!("{kind} {}: {e}", path.display()));
        // Truncated half of them, garbage the other half.
        let bad = if i % 2 == 0 { body[..body.len() / 2].to_vec() } else { b"{".to_vec() };
        fs::write(path, bad).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    d.restart();

    assert_eq!(d.api("GET", "/_ping", None).0, 200);
    let names = d.docker(&["ps", "-a", "--format", "{{.Names}}"]).assert_ok().lines();
    for n in ["keep", "maker", "orphan"] {
        assert!(names.contains(&n.to_string()), "{n} missing: {names:?}");
    }
    assert!(!names.contains(&"lost".to_string()), "{names:?}");
    // Its files are not swept as an orphan's: they wait for a repair.
    assert!(data.join("containers").join(lost.trim()).is_dir(), "the damaged container's directory was removed");
    let nets = d.docker(&["network", "ls", "--format", "{{.Name}}"]).assert_ok().lines();
    for n in ["bridge", "host", "none", "keepnet"] {
        assert!(nets.contains(&n.to_string()), "{n} missing: {nets:?}");
    }
    assert!(!nets.contains(&"lostnet".to_string()), "{nets:?}");
    let vols = d.docker(&["volume", "ls", "--format", "{{.Name}}"]).assert_ok().lines();
    assert!(vols.contains(&"keepvol".to_string()) && !vols.contains(&"lostvol".to_string()), "{vols:?}");
    // Tags are gone with repositories.json; the images stay, by ID.
    let ids = d.docker(&["images", "-q", "--no-trunc"]).assert_ok().out();
    assert!(ids.contains(&busybox) && !ids.contains(&lostimg), "{ids}");

    for (kind, path) in &damaged {
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let moved = entries(&data.join("quarantine").join(kind));
        assert_eq!(moved.len(), 1, "{kind}: {moved:?}");
        if *kind != "layers" {
            assert!(moved[0].starts_with(&file), "{kind}: {moved:?}");
        }
        assert!(!path.exists(), "{} still in place", path.display());
        assert!(d.log().contains(&path.display().to_string()), "log does not name {}:\n{}", path.display(), d.log());
    }

    // Everything else works: tag again, run, remove the container whose image is gone.
    d.docker(&["tag", &busybox, "busybox"]).assert_ok();
    d.docker(&["start", "-a", &keep]).assert_ok();
    d.docker(&["run", "--rm", "--network", "keepnet", "-v", "keepvol:/v", "busybox", "echo", "ok"]).assert_ok().assert_stdout("ok");
    d.docker(&["rm", "orphan"]).assert_ok();
    d.docker(&["network", "rm", "keepnet"]).assert_ok();
    // A quarantined volume's data stays put; creating the name again adopts it.
    assert!(data.join("volumes/lostvol/_data/kept").is_file());
    d.docker(&["volume", "create", "lostvol"]).assert_ok();
    d.docker(&["run", "--rm", "-v", "lostvol:/v", "busybox", "cat", "/v/kept"]).assert_ok().assert_stdout("data");
    d.docker(&["volume", "rm", "lostvol"]).assert_ok();
    d.stop();
}

/// The default bridge's record damaged while a container runs on it: the
/// bridge keeps the subnet its link carries (not a fresh pool), the running
/// container stays reachable and a new one joins it.
#[test]
fn a_quarantined_default_bridge_record_keeps_its_subnet() {
    let d = TestDaemon::start();
    let subnet = d.docker(&["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "bridge"]).assert_ok().out();
    let id = d.docker(&["network", "inspect", "-f", "{{.Id}}", "bridge"]).assert_ok().out();
    d.docker(&["run", "-d", "--name", "live", "busybox", "sleep", "300"]).assert_ok();
    let ip = d.docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "live"]).assert_ok().out();
    d.kill9();
    let path = d.data_root().join("db/networks").join(format!("{id}.json"));
    fs::write(&path, b"{").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    d.restart();
    assert_eq!(entries(&d.data_root().join("quarantine").join("networks")).len(), 1);
    let after = d.docker(&["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "bridge"]).assert_ok().out();
    assert_eq!(after, subnet);
    d.docker(&["ps", "--format", "{{.Names}}"]).assert_ok().assert_stdout("live");
    d.docker(&["run", "--rm", "busybox", "ping", "-c1", "-w3", &ip]).assert_ok();
    let other = d.docker(&["run", "--rm", "busybox", "sh", "-c", "ip -4 -o addr show eth0"]).assert_ok().out();
    let prefix = subnet.rsplit_once('.').map(|(p, _)| p).unwrap_or(&subnet).to_string();
    assert!(other.contains(&format!("inet {prefix}.")), "{other} not in {subnet}");
    d.docker(&["rm", "-f", "live"]).assert_ok();
    d.stop();
}
