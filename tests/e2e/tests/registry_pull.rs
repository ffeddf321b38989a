//! Pulls from Debian's `docker-registry` started by the test on loopback:
//! by tag and digest, up to date, present layers, gzip and zstd/OCI, multi-arch
//! indexes, wording of missing images, `--pull`, `-a`.
use std::process::Command;

use berth_e2e::registry::{curl, header, no_image, sha256_hex, three_layer_archive, three_layer_archive_for, Registry};
use berth_e2e::{busybox_tar, Cli, TestDaemon};

#[test]
fn pull_by_tag_digest_and_up_to_date_with_both_clis() {
    let reg = Registry::start(None);
    reg.push(busybox_tar(), "busybox:latest", None);
    let digest = reg.manifest_digest("busybox", "latest", None);
    let d = TestDaemon::start();
    let name = format!("{}/busybox", reg.host());
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", &name]);
        o.assert_ok();
        let out = o.out();
        assert!(out.contains("Using default tag: latest"), "{out}");
        assert!(out.contains("latest: Pulling from busybox"), "{out}");
        assert!(out.contains(&format!("Digest: {digest}")), "{out}");
        assert!(out.contains(&format!("Status: Downloaded newer image for {name}:latest")), "{out}");
        assert!(out.ends_with(&format!("{name}:latest")), "{out}");
        let again = d.cli(cli, &["pull", &name]);
        again.assert_ok();
        let out = again.out();
        assert!(out.contains(&format!("Status: Image is up to date for {name}:latest")), "{out}");
        assert!(!out.contains("Pull complete"), "{out}");
        d.cli(cli, &["run", "--rm", &name, "echo", "pulled"]).assert_ok().assert_stdout("pulled");
        let digests = d.cli(cli, &["image", "inspect", "-f", "{{json .RepoDigests}}", &name]).assert_ok().out();
        assert_eq!(digests, format!("[\"{name}@{digest}\"]"));
        d.cli(cli, &["rmi", &format!("{name}:latest")]).assert_ok();
        no_image(&d, &format!("{name}:latest"));
        // By digest: recorded under the digest, no tag.
        let by_digest = format!("{name}@{digest}");
        let o = d.cli(cli, &["pull", &by_digest]);
        o.assert_ok();
        assert!(o.out().contains(&format!("Status: Downloaded newer image for {by_digest}")), "{}", o.out());
        d.cli(cli, &["run", "--rm", &by_digest, "true"]).assert_ok();
        d.cli(cli, &["rmi", &by_digest]).assert_ok();
    }
}

#[test]
fn layers_already_present_are_skipped() {
    let reg = Registry::start(None);
    reg.push(busybox_tar(), "a:1", None);
    reg.push(busybox_tar(), "b:1", None);
    let d = TestDaemon::start();
    d.docker(&["load", "-i", &busybox_tar().display().to_string()]).assert_ok();
    let o = d.docker(&["pull", &format!("{}/a:1", reg.host())]);
    o.assert_ok();
    // Same image already loaded: every layer is there.
    assert!(o.out().contains("Status: Downloaded newer image for"), "{}", o.out());
    assert!(!o.out().contains("Pull complete"), "{}", o.out());
    let o = d.berth(&["pull", &format!("{}/b:1", reg.host())]);
    o.assert_ok();
    assert!(!o.out().contains("Pulling fs layer"), "{}", o.out());
}

#[test]
fn missing_images_are_worded_as_docker_words_them() {
    let reg = Registry::start(None);
    reg.push(busybox_tar(), "busybox:latest", None);
    let d = TestDaemon::start();
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", &format!("{}/busybox:nope", reg.host())]);
        o.assert_code(1).assert_stderr_contains(&format!(
            "Error response from daemon: manifest for {}/busybox:nope not found: manifest unknown: manifest unknown",
            reg.host()
        ));
        let o = d.cli(cli, &["pull", &format!("{}/nothere", reg.host())]);
        o.assert_code(1).assert_stderr_contains("not found");
    }
    // run of a missing image pulls it first (the docker CLI does so client-side).
    let name = format!("{}/busybox", reg.host());
    let o = d.docker(&["run", "--rm", &name, "echo", "ran"]);
    o.assert_ok().assert_stdout("ran");
    o.assert_stderr_contains(&format!("Unable to find image '{name}:latest' locally"));
    d.docker(&["rmi", &name]).assert_ok();
    let o = d.berth(&["run", "--rm", &name, "echo", "ran"]);
    o.assert_ok().assert_stdout("ran");
    d.berth(&["rmi", &name]).assert_ok();
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["run", "--rm", "--pull", "never", &name, "true"]);
        o.assert_code(125).assert_stderr_contains("No such image");
        d.cli(cli, &["image", "inspect", &name]).assert_fail();
        let cname = format!("pull-always-{}", cli.name());
        let o = d.cli(cli, &["create", "--pull", "always", "--name", &cname, &name]);
        o.assert_ok();
        assert!(o.stderr.contains("Status: Downloaded newer image for"), "{}", o.stderr);
        d.cli(cli, &["rm", &cname]).assert_ok();
        d.cli(cli, &["rmi", &name]).assert_ok();
    }
}

#[test]
fn multi_layer_gzip_and_zstd_oci_images() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = three_layer_archive(dir.path(), "gz");
    let zst = three_layer_archive(dir.path(), "zst");
    reg.push(&gz, "three:gz", None);
    let o = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", "--format", "oci", "--dest-compress-format", "zstd"])
        .arg(format!("docker-archive:{}", zst.display()))
        .arg(format!("docker://{}/three:zst", reg.host()))
        .output()
        .expect("skopeo");
    assert!(o.status.success(), "skopeo zstd: {}", String::from_utf8_lossy(&o.stderr));
    let d = TestDaemon::start();
    for (cli, tag, marker) in [(Cli::Docker, "gz", "gz"), (Cli::Berth, "zst", "zst")] {
        let name = format!("{}/three:{tag}", reg.host());
        let o = d.cli(cli, &["pull", &name]);
        o.assert_ok();
        let out = o.out();
        assert_eq!(out.matches("Pull complete").count(), 2, "{out}");
        assert_eq!(out.matches("Already exists").count(), 1, "{out}");
        d.cli(cli, &["run", "--rm", &name, "cat", "/one"]).assert_ok().assert_stdout(&format!("one {marker}"));
        let cache: Vec<_> = std::fs::read_dir(d.data_root().join("pull-cache")).map(|r| r.flatten().collect()).unwrap_or_default();
        assert!(cache.is_empty(), "downloaded blobs kept after the pull: {}", cache.len());
    }
}

#[test]
fn multi_arch_index_resolves_to_the_platform() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let host_arch = if cfg!(target_arch = "aarch64") { "arm64" } else { "amd64" };
    let other_arch = if host_arch == "amd64" { "arm64" } else { "amd64" };
    let mut entries = Vec::new();
    for arch in [host_arch, other_arch] {
        let tar = three_layer_archive_for(dir.path(), arch, Some(arch));
        let o = Command::new("skopeo")
            .args(["copy", "--quiet", "--dest-tls-verify=false", "--format", "oci"])
            .arg(format!("docker-archive:{}", tar.display()))
            .arg(format!("docker://{}/multi:{arch}", reg.host()))
            .output()
            .expect("skopeo");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let head = curl(&["-I", "-H", "Accept: application/vnd.oci.image.manifest.v1+json", &format!("http://{}/v2/multi/manifests/{arch}", reg.host())]);
        let digest = header(&head, "Docker-Content-Digest");
        let size = header(&head, "Content-Length");
        let variant = if arch == "arm64" { r#","variant":"v8""# } else { "" };
        entries.push(format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{digest}","size":{size},"platform":{{"architecture":"{arch}","os":"linux"{variant}}}}}"#
        ));
    }
    let index = format!(r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#, entries.join(","));
    let put = curl(&[
        "-X", "PUT", "-H", "Content-Type: application/vnd.oci.image.index.v1+json", "--data-binary", &index,
        &format!("http://{}/v2/multi/manifests/latest", reg.host()),
    ]);
    assert!(put.starts_with("HTTP/1.1 201"), "{put}");
    let index_digest = format!("sha256:{}", sha256_hex(index.as_bytes()));
    let d = TestDaemon::start();
    let name = format!("{}/multi", reg.host());
    // GET /distribution/NAME/json: the index's descriptor and its platforms, nothing pulled.
    let (status, body) = d.api("GET", &format!("/distribution/{name}:latest/json"), None);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["Descriptor"]["digest"], index_digest.as_str());
    assert_eq!(v["Descriptor"]["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(v["Platforms"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(v["Platforms"][0]["architecture"], host_arch);
    let (status, _) = d.api("GET", &format!("/distribution/{}/nothere/json", reg.host()), None);
    assert_eq!(status, 404);
    d.docker(&["image", "inspect", &name]).assert_fail();
    let o = d.docker(&["pull", &name]);
    o.assert_ok();
    assert!(o.out().contains(&format!("Digest: {index_digest}")), "{}", o.out());
    d.docker(&["image", "inspect", "-f", "{{.Architecture}}", &name]).assert_ok().assert_stdout(host_arch);
    d.docker(&["run", "--rm", &name, "cat", "/one"]).assert_ok().assert_stdout(&format!("one {host_arch}"));
    let other = format!("{name}:latest");
    let o = d.berth(&["pull", "--platform", &format!("linux/{other_arch}"), &other]);
    o.assert_ok();
    d.berth(&["image", "inspect", "-f", "{{.Architecture}}", &other]).assert_ok().assert_stdout(other_arch);
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", "--platform", "linux/s390x", &name]);
        o.assert_code(1).assert_stderr_contains("no matching manifest for linux/s390x in the manifest list entries");
        o.assert_stderr_contains("linux/arm64/v8");
    }
}

#[test]
fn all_tags() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().expect("tempdir");
    reg.push(busybox_tar(), "many:one", None);
    reg.push(&three_layer_archive(dir.path(), "two"), "many:two", None);
    let d = TestDaemon::start();
    let name = format!("{}/many", reg.host());
    for cli in Cli::BOTH {
        let o = d.cli(cli, &["pull", "-a", &name]);
        o.assert_ok();
        let out = o.out();
        assert!(out.contains("one: Pulling from many") && out.contains("two: Pulling from many"), "{out}");
        assert_eq!(out.matches("Status: ").count(), 1, "{out}");
        assert!(out.contains(&format!("Status: Downloaded newer image for {name}")), "{out}");
        let tags = d.cli(cli, &["images", "--format", "{{.Tag}}", &name]).assert_ok().out();
        assert_eq!(tags.lines().collect::<std::collections::BTreeSet<_>>(), ["one", "two"].into_iter().collect());
        d.cli(cli, &["pull", "-a", &format!("{name}:one")]).assert_fail();
        d.cli(cli, &["rmi", &format!("{name}:one"), &format!("{name}:two")]).assert_ok();
    }
}
