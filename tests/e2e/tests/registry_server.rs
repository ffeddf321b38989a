//! `berth registry serve` with real clients: skopeo pushes Docker and OCI
//! images and pulls them back (by tag and digest, across repositories),
//! with htpasswd auth and with TLS; `berth registry gc` after deletes; and
//! the course's flow, the server as an image run through berthd.

use berth_e2e::certs::{free_port, Certs};
use berth_e2e::berth_registry::{curl, sha256, skopeo, skopeo_ok, Registry};
use berth_e2e::{bin_dir, busybox_tar, wait_until, TestDaemon};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const NO_VERIFY: &str = "--dest-tls-verify=false";

/// The image ID (config digest) a docker-archive names.
fn archive_config(tar: &Path) -> String {
    let out = Command::new("tar").arg("-xOf").arg(tar).args(["--wildcards", "*manifest.json"]).output().expect("tar");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("manifest.json");
    let c = v[0]["Config"].as_str().expect("Config").trim_end_matches(".json");
    format!("sha256:{}", c.trim_start_matches("blobs/sha256/"))
}

/// Every blob skopeo wrote to a dir: transport is named by its digest.
fn assert_dir_blobs_verify(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "manifest.json" || name == "version" {
            continue;
        }
        let bytes = std::fs::read(e.path()).expect("read blob");
        assert_eq!(sha256(&bytes), format!("sha256:{name}"), "blob {name} does not match its digest");
        n += 1;
    }
    n
}

fn blob_count(data: &Path) -> usize {
    std::fs::read_dir(data.join("blobs/sha256"))
        .map(|d| d.flatten().map(|p| std::fs::read_dir(p.path()).map(|x| x.count()).unwrap_or(0)).sum())
        .unwrap_or(0)
}

fn berth(args: &[&str]) -> std::process::Output {
    Command::new(bin_dir().join("berth")).args(args).output().expect("run berth")
}

#[test]
fn skopeo_pushes_and_pulls_docker_and_oci_images() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = Registry::start(&tmp.path().join("data"), &[]);
    let tar = busybox_tar();
    let config = archive_config(tar);
    let src = format!("docker-archive:{}", tar.display());
    let docker_ref = format!("docker://{}/library/busybox:1.0", r.host());
    skopeo_ok(&["copy", "-q", NO_VERIFY, &src, &docker_ref]);
    skopeo_ok(&["copy", "-q", NO_VERIFY, "--format", "oci", &src, &format!("docker://{}/oci/busybox:1", r.host())]);

    for (repo, tag, media_type) in [
        ("library/busybox", "1.0", "application/vnd.docker.distribution.manifest.v2+json"),
        ("oci/busybox", "1", "application/vnd.oci.image.manifest.v1+json"),
    ] {
        let raw = skopeo_ok(&["inspect", "--raw", "--tls-verify=false", &format!("docker://{}/{repo}:{tag}", r.host())]);
        let head = curl(&["-I"], &r.url(&format!("/v2/{repo}/manifests/{tag}")));
        assert_eq!(head.header("Docker-Content-Digest"), Some(sha256(raw.as_bytes())), "{repo}");
        assert_eq!(head.header("Content-Type").as_deref(), Some(media_type));
        let m: serde_json::Value = serde_json::from_str(&raw).expect("manifest JSON");
        assert_eq!(m["mediaType"], media_type);
    }
    let raw = skopeo_ok(&["inspect", "--raw", "--tls-verify=false", &docker_ref]);
    let m: serde_json::Value = serde_json::from_str(&raw).expect("manifest JSON");
    assert_eq!(m["config"]["digest"], config.as_str(), "the config (image ID) travels unchanged");
    let digest = sha256(raw.as_bytes());

    // Back by tag into a dir: every blob verifies, the manifest is the same bytes.
    let out = tmp.path().join("pulled");
    skopeo_ok(&["copy", "-q", "--src-tls-verify=false", &docker_ref, &format!("dir:{}", out.display())]);
    assert_eq!(assert_dir_blobs_verify(&out), 2);
    assert_eq!(std::fs::read_to_string(out.join("manifest.json")).expect("manifest"), raw);
    // By digest into a docker-archive: the same image ID.
    let back = tmp.path().join("back.tar");
    let by_digest = format!("docker://{}/library/busybox@{digest}", r.host());
    skopeo_ok(&["copy", "-q", "--src-tls-verify=false", &by_digest, &format!("docker-archive:{}:busybox:back", back.display())]);
    assert_eq!(archive_config(&back), config);

    // Registry to registry: the blobs are mounted or re-sent, the manifest is identical.
    let mirror = format!("docker://{}/mirror/busybox:1.0", r.host());
    skopeo_ok(&["copy", "-q", "--src-tls-verify=false", NO_VERIFY, &docker_ref, &mirror]);
    assert_eq!(skopeo_ok(&["inspect", "--raw", "--tls-verify=false", &mirror]), raw);
    let tags = skopeo_ok(&["list-tags", "--tls-verify=false", &format!("docker://{}/library/busybox", r.host())]);
    assert!(tags.contains("\"1.0\""), "{tags}");
    let cat = curl(&[], &r.url("/v2/_catalog")).json();
    assert_eq!(cat["repositories"], serde_json::json!(["library/busybox", "mirror/busybox", "oci/busybox"]));
    // Deletion is off by default.
    let (ok, _, err) = skopeo(&["delete", "--tls-verify=false", &mirror]);
    assert!(!ok, "delete must be refused: {err}");
    r.stop();
}

#[test]
fn htpasswd_basic_auth() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Command::new("htpasswd").args(["-nbB", "-C", "5", "alice", "s3cret"]).output().expect("htpasswd (apache2-utils)");
    assert!(out.status.success());
    let file = tmp.path().join("htpasswd");
    std::fs::write(&file, &out.stdout).expect("write htpasswd");
    let r = Registry::start(&tmp.path().join("data"), &["--htpasswd", &file.display().to_string()]);

    let anon = curl(&[], &r.url("/v2/"));
    assert_eq!((anon.status, anon.code().as_str()), (401, "UNAUTHORIZED"));
    assert_eq!(anon.header("WWW-Authenticate").as_deref(), Some("Basic realm=\"berth registry\""));
    assert_eq!(curl(&["-u", "alice:wrong"], &r.url("/v2/")).status, 401);
    assert_eq!(curl(&["-u", "mallory:s3cret"], &r.url("/v2/_catalog")).status, 401);
    assert_eq!(curl(&["-u", "alice:s3cret"], &r.url("/v2/")).status, 200);

    let src = format!("docker-archive:{}", busybox_tar().display());
    let dest = format!("docker://{}/private/busybox:1", r.host());
    let (ok, _, err) = skopeo(&["copy", "-q", NO_VERIFY, &src, &dest]);
    assert!(!ok, "push without credentials must fail");
    assert!(err.to_lowercase().contains("unauthorized") || err.contains("401"), "{err}");
    assert_eq!(curl(&["-u", "alice:s3cret"], &r.url("/v2/_catalog")).json()["repositories"], serde_json::json!([]));
    skopeo_ok(&["copy", "-q", NO_VERIFY, "--dest-creds", "alice:s3cret", &src, &dest]);
    skopeo_ok(&["inspect", "--tls-verify=false", "--creds", "alice:s3cret", &dest]);
    assert_eq!(curl(&["-u", "alice:s3cret"], &r.url("/v2/_catalog")).json()["repositories"], serde_json::json!(["private/busybox"]));
    r.stop();

    // A file with hashes other than bcrypt stops the server at start.
    let md5 = tmp.path().join("md5");
    std::fs::write(&md5, "bob:$apr1$abc$def\n").expect("write");
    let o = berth(&["registry", "serve", "--addr", &format!("127.0.0.1:{}", free_port()), "--data-root", &tmp.path().join("d2").display().to_string(), "--htpasswd", &md5.display().to_string()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bcrypt") && err.contains(&md5.display().to_string()), "{err}");
}

#[test]
fn tls_with_a_ca_the_client_trusts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let certs = Certs::generate(tmp.path());
    let (cert, key) = (certs.server_cert().display().to_string(), certs.server_key().display().to_string());
    let r = Registry::start(&tmp.path().join("data"), &["--tls-cert", &cert, "--tls-key", &key]);
    let ca = certs.ca().display().to_string();
    assert_eq!(curl(&["--cacert", &ca], &r.url("/v2/")).status, 200);
    // Plain HTTP to it gets no registry answer.
    let plain = Command::new("curl").args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", &format!("http://{}/v2/", r.host())]).output().expect("curl");
    assert_ne!(String::from_utf8_lossy(&plain.stdout).trim(), "200");
    // skopeo verifies the server against the CA in its cert dir.
    let cert_dir = tmp.path().join("certs.d");
    std::fs::create_dir_all(&cert_dir).expect("mkdir");
    std::fs::copy(certs.ca(), cert_dir.join("ca.crt")).expect("copy ca");
    let cd = cert_dir.display().to_string();
    let dest = format!("docker://{}/secure/busybox:1", r.host());
    skopeo_ok(&["copy", "-q", "--dest-cert-dir", &cd, &format!("docker-archive:{}", busybox_tar().display()), &dest]);
    let out = tmp.path().join("pulled");
    skopeo_ok(&["copy", "-q", "--src-cert-dir", &cd, &dest, &format!("dir:{}", out.display())]);
    assert_eq!(assert_dir_blobs_verify(&out), 2);
    // Without the CA the certificate is not trusted.
    let (ok, _, _) = skopeo(&["inspect", &dest]);
    assert!(!ok);
    r.stop();

    // Half a TLS configuration is refused.
    let o = berth(&["registry", "serve", "--tls-cert", &cert]);
    assert!(!o.status.success());
}

#[test]
fn gc_removes_only_unreferenced_blobs_and_never_under_a_server() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let data_s = data.display().to_string();
    let r = Registry::start(&data, &["--enable-delete"]);
    // Two images sharing their layer: busybox:1 and a relabelled busybox:2.
    let two = tmp.path().join("two.tar");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/make-busybox-image.sh");
    let o = Command::new("bash").arg(&script).arg(&two).arg("busybox:2").arg("\"Labels\":{\"v\":\"2\"}").output().expect("make image");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (tar, tag) in [(busybox_tar(), "1"), (two.as_path(), "2")] {
        skopeo_ok(&["copy", "-q", NO_VERIFY, &format!("docker-archive:{}", tar.display()), &format!("docker://{}/bb:{tag}", r.host())]);
    }
    // 1 shared layer + 2 configs + 2 manifests.
    assert_eq!(blob_count(&data), 5);

    let busy = berth(&["registry", "gc", "--data-root", &data_s]);
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("stop it"), "{}", String::from_utf8_lossy(&busy.stderr));

    let d2 = curl(&["-I"], &r.url("/v2/bb/manifests/2")).header("Docker-Content-Digest").expect("digest");
    assert_eq!(curl(&["-X", "DELETE"], &r.url(&format!("/v2/bb/manifests/{d2}"))).status, 202);
    r.stop();

    let dry = berth(&["registry", "gc", "--data-root", &data_s, "--dry-run"]);
    let dry_out = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert_eq!(dry_out.lines().filter(|l| l.starts_with("would delete sha256:")).count(), 2, "{dry_out}");
    assert!(dry_out.contains(&d2), "{dry_out}");
    assert_eq!(blob_count(&data), 5, "a dry run deletes nothing");

    let gc = berth(&["registry", "gc", "--data-root", &data_s]);
    let gc_out = String::from_utf8_lossy(&gc.stdout).into_owned();
    assert!(gc.status.success() && gc_out.contains("3 blobs kept, 2 deleted"), "{gc_out}");
    assert_eq!(blob_count(&data), 3);

    // What is left still pulls whole; the deleted image is gone.
    let r = Registry::start(&data, &[]);
    let out = tmp.path().join("pulled");
    skopeo_ok(&["copy", "-q", "--src-tls-verify=false", &format!("docker://{}/bb:1", r.host()), &format!("dir:{}", out.display())]);
    assert_eq!(assert_dir_blobs_verify(&out), 2);
    assert_eq!(curl(&[], &r.url("/v2/bb/manifests/2")).code(), "MANIFEST_UNKNOWN");
    r.stop();
}

#[test]
fn gc_delete_untagged_drops_overwritten_images() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let data_s = data.display().to_string();
    let r = Registry::start(&data, &[]);
    let two = tmp.path().join("two.tar");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/make-busybox-image.sh");
    let o = Command::new("bash").arg(&script).arg(&two).arg("busybox:2").arg("\"Labels\":{\"v\":\"2\"}").output().expect("make image");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // bb:latest is pushed twice: the first manifest is left untagged.
    skopeo_ok(&["copy", "-q", NO_VERIFY, &format!("docker-archive:{}", busybox_tar().display()), &format!("docker://{}/bb:latest", r.host())]);
    let old = curl(&["-I"], &r.url("/v2/bb/manifests/latest")).header("Docker-Content-Digest").expect("digest");
    skopeo_ok(&["copy", "-q", NO_VERIFY, &format!("docker-archive:{}", two.display()), &format!("docker://{}/bb:latest", r.host())]);
    let new = curl(&["-I"], &r.url("/v2/bb/manifests/latest")).header("Docker-Content-Digest").expect("digest");
    assert_ne!(old, new);
    r.stop();
    // Plain gc keeps the untagged manifest (and its config).
    let gc = berth(&["registry", "gc", "--data-root", &data_s]);
    assert!(gc.status.success() && String::from_utf8_lossy(&gc.stdout).contains("5 blobs kept, 0 deleted"), "{}", String::from_utf8_lossy(&gc.stdout));
    let dry = berth(&["registry", "gc", "--data-root", &data_s, "--delete-untagged", "--dry-run"]);
    let dry_out = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(dry.status.success() && dry_out.contains(&format!("would delete manifest bb@{old}")), "{dry_out}");
    assert_eq!(blob_count(&data), 5, "a dry run deletes nothing");
    let gc = berth(&["registry", "gc", "--data-root", &data_s, "-m"]);
    let out = String::from_utf8_lossy(&gc.stdout).into_owned();
    assert!(gc.status.success() && out.contains(&format!("deleted manifest bb@{old}")) && out.contains("3 blobs kept, 2 deleted"), "{out}");
    let r = Registry::start(&data, &[]);
    assert_eq!(curl(&[], &r.url(&format!("/v2/bb/manifests/{old}"))).code(), "MANIFEST_UNKNOWN");
    let pulled = tmp.path().join("pulled");
    skopeo_ok(&["copy", "-q", "--src-tls-verify=false", &format!("docker://{}/bb:latest", r.host()), &format!("dir:{}", pulled.display())]);
    assert_eq!(assert_dir_blobs_verify(&pulled), 2);
    r.stop();
}

/// The course: `run -d -p 5000:5000 registry`, then `curl .../v2/_catalog`.
#[test]
fn registry_image_runs_under_berthd() {
    let d = TestDaemon::start();
    let tar = d.dir().join("registry.tar");
    let o = berth(&["registry", "image", "-o", &tar.display().to_string()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    d.berth(&["load", "-i", &tar.display().to_string()]).assert_ok().assert_stdout_contains("Loaded image: registry:latest");
    let port = free_port();
    let id = d.docker(&["run", "-d", "--name", "registry", "-p", &format!("127.0.0.1:{port}:5000"), "registry"]).assert_ok().out();
    d.track(id.trim());
    let url = format!("http://127.0.0.1:{port}/v2/_catalog");
    let up = wait_until(Duration::from_secs(20), || {
        Command::new("curl").args(["-sf", &url]).output().is_ok_and(|o| o.status.success())
    });
    assert!(up, "registry container did not answer: {}", d.docker(&["logs", "registry"]).out());
    assert_eq!(curl(&[], &url).json(), serde_json::json!({"repositories": []}));
    skopeo_ok(&["copy", "-q", NO_VERIFY, &format!("docker-archive:{}", busybox_tar().display()), &format!("docker://127.0.0.1:{port}/hello:1")]);
    assert_eq!(curl(&[], &url).json(), serde_json::json!({"repositories": ["hello"]}));
    d.docker(&["logs", "registry"]).assert_ok().assert_stderr_contains("serving /var/lib/registry on http://0.0.0.0:5000");
    d.docker(&["stop", "registry"]).assert_ok();
    d.docker(&["rm", "registry"]).assert_ok();
    d.stop();
}
