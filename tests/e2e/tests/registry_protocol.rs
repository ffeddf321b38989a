//! `berth registry serve` spoken to with curl: the base endpoint, chunked
//! and monolithic uploads, ranges, cross-repository mounts, manifests by
//! tag and digest (an index too), pagination, and every kind of bad input,
//! each checked for its error and for leaving nothing behind.

use berth_e2e::berth_registry::{curl, sha256, Http, Registry};

const OCTET: &str = "Content-Type: application/octet-stream";

fn start() -> (Registry, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = Registry::start(&tmp.path().join("data"), &["--enable-delete"]);
    (r, tmp)
}

/// Uploads `data` monolithically (POST ?digest=) into `repo`.
fn push_blob(r: &Registry, repo: &str, data: &str) -> String {
    let d = sha256(data.as_bytes());
    let h = curl(&["-X", "POST", "-H", OCTET, "--data-binary", data], &r.url(&format!("/v2/{repo}/blobs/uploads/?digest={d}")));
    assert_eq!(h.status, 201, "{h:?}");
    assert_eq!(h.header("Docker-Content-Digest").as_deref(), Some(d.as_str()));
    d
}

fn manifest(config: &str, csize: usize, layer: &str, lsize: usize) -> String {
    serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": csize},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": lsize}]})
    .to_string()
}

fn put_manifest(r: &Registry, repo: &str, reference: &str, media_type: &str, body: &str) -> Http {
    curl(&["-X", "PUT", "-H", &format!("Content-Type: {media_type}"), "--data-binary", body], &r.url(&format!("/v2/{repo}/manifests/{reference}")))
}

fn uploads_left(r: &Registry) -> usize {
    std::fs::read_dir(r.data.join("uploads")).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn base_endpoint_and_chunked_upload_with_ranges_and_mount() {
    let (r, _tmp) = start();
    let base = curl(&[], &r.url("/v2/"));
    assert_eq!(base.status, 200);
    assert_eq!(base.header("Docker-Distribution-API-Version").as_deref(), Some("registry/2.0"));

    // POST starts an upload.
    let start = curl(&["-X", "POST"], &r.url("/v2/lib/chunky/blobs/uploads/"));
    assert_eq!(start.status, 202, "{start:?}");
    let loc = start.header("Location").expect("Location");
    let uuid = start.header("Docker-Upload-UUID").expect("Docker-Upload-UUID");
    assert!(loc.ends_with(&uuid), "{loc}");
    assert_eq!(start.header("Range").as_deref(), Some("0-0"));

    // Two chunks with Content-Range, a wrong one refused in between.
    let p1 = curl(&["-X", "PATCH", "-H", OCTET, "-H", "Content-Range: 0-4", "--data-binary", "hello"], &r.url(&loc));
    assert_eq!((p1.status, p1.header("Range").as_deref()), (202, Some("0-4")), "{p1:?}");
    let again = curl(&["-X", "PATCH", "-H", OCTET, "-H", "Content-Range: 0-4", "--data-binary", "hello"], &r.url(&loc));
    assert_eq!((again.status, again.code().as_str()), (416, "RANGE_INVALID"), "{again:?}");
    assert_eq!(again.header("Range").as_deref(), Some("0-4"));
    let short = curl(&["-X", "PATCH", "-H", OCTET, "-H", "Content-Range: 5-20", "--data-binary", " wor"], &r.url(&loc));
    assert_eq!((short.status, short.code().as_str()), (400, "SIZE_INVALID"), "{short:?}");
    let p2 = curl(&["-X", "PATCH", "-H", OCTET, "-H", "Content-Range: 5-10", "--data-binary", " world"], &r.url(&loc));
    assert_eq!((p2.status, p2.header("Range").as_deref()), (202, Some("0-10")), "{p2:?}");
    let status = curl(&[], &r.url(&loc));
    assert_eq!((status.status, status.header("Range").as_deref()), (204, Some("0-10")));

    // The wrong digest at PUT ends the upload and stores nothing.
    let d = sha256(b"hello world");
    let wrong = sha256(b"something else");
    let bad = curl(&["-X", "PUT"], &r.url(&format!("{loc}?digest={wrong}")));
    assert_eq!((bad.status, bad.code().as_str()), (400, "DIGEST_INVALID"), "{bad:?}");
    assert_eq!(curl(&["-I"], &r.url(&format!("/v2/lib/chunky/blobs/{wrong}"))).status, 404);
    assert_eq!(curl(&["-I"], &r.url(&format!("/v2/lib/chunky/blobs/{d}"))).status, 404);
    assert_eq!(curl(&[], &r.url(&loc)).code(), "BLOB_UPLOAD_UNKNOWN");
    assert_eq!(uploads_left(&r), 0);

    // Again, finishing with a last chunk in the PUT.
    let loc = curl(&["-X", "POST"], &r.url("/v2/lib/chunky/blobs/uploads/")).header("Location").expect("Location");
    assert_eq!(curl(&["-X", "PATCH", "-H", OCTET, "--data-binary", "hello"], &r.url(&loc)).status, 202);
    let done = curl(&["-X", "PUT", "-H", OCTET, "--data-binary", " world"], &r.url(&format!("{loc}?digest={d}")));
    assert_eq!(done.status, 201, "{done:?}");
    assert_eq!(done.header("Location"), Some(format!("/v2/lib/chunky/blobs/{d}")));
    assert_eq!(done.header("Docker-Content-Digest").as_deref(), Some(d.as_str()));
    assert_eq!(uploads_left(&r), 0);

    let head = curl(&["-I"], &r.url(&format!("/v2/lib/chunky/blobs/{d}")));
    assert_eq!((head.status, head.header("Content-Length").as_deref()), (200, Some("11")));
    assert_eq!(head.header("Docker-Content-Digest").as_deref(), Some(d.as_str()));
    let get = curl(&[], &r.url(&format!("/v2/lib/chunky/blobs/{d}")));
    assert_eq!((get.status, get.body.as_str()), (200, "hello world"));
    let part = curl(&["-H", "Range: bytes=6-10"], &r.url(&format!("/v2/lib/chunky/blobs/{d}")));
    assert_eq!((part.status, part.body.as_str()), (206, "world"));
    assert_eq!(part.header("Content-Range").as_deref(), Some("bytes 6-10/11"));
    assert_eq!(curl(&["-H", "Range: bytes=50-60"], &r.url(&format!("/v2/lib/chunky/blobs/{d}"))).status, 416);

    // Not in another repository until mounted from this one.
    assert_eq!(curl(&["-I"], &r.url(&format!("/v2/other/blobs/{d}"))).status, 404);
    let nomount = curl(&["-X", "POST"], &r.url(&format!("/v2/other/blobs/uploads/?mount={d}&from=nowhere")));
    assert_eq!(nomount.status, 202, "falls back to an upload: {nomount:?}");
    let mount = curl(&["-X", "POST"], &r.url(&format!("/v2/other/blobs/uploads/?mount={d}&from=lib%2Fchunky")));
    assert_eq!(mount.status, 201, "{mount:?}");
    assert_eq!(mount.header("Location"), Some(format!("/v2/other/blobs/{d}")));
    assert_eq!(curl(&["-I"], &r.url(&format!("/v2/other/blobs/{d}"))).status, 200);

    // Cancel an upload.
    let loc = nomount.header("Location").expect("Location");
    assert_eq!(curl(&["-X", "DELETE"], &r.url(&loc)).status, 204);
    assert_eq!(curl(&[], &r.url(&loc)).status, 404);
    assert_eq!(uploads_left(&r), 0);
    r.stop();
}

#[test]
fn manifests_by_tag_and_digest_index_pagination_and_delete() {
    let (r, _tmp) = start();
    let c = push_blob(&r, "app", "{\"architecture\":\"amd64\",\"os\":\"linux\"}");
    let l = push_blob(&r, "app", "layer-bytes");
    let m = manifest(&c, 37, &l, 11);
    let md = sha256(m.as_bytes());
    let oci = "application/vnd.oci.image.manifest.v1+json";
    let put = put_manifest(&r, "app", "v1", oci, &m);
    assert_eq!(put.status, 201, "{put:?}");
    assert_eq!(put.header("Docker-Content-Digest").as_deref(), Some(md.as_str()));
    assert_eq!(put.header("Location"), Some(format!("/v2/app/manifests/{md}")));
    for reference in ["v1", md.as_str()] {
        let g = curl(&[], &r.url(&format!("/v2/app/manifests/{reference}")));
        assert_eq!((g.status, g.body.as_str()), (200, m.as_str()));
        assert_eq!(g.header("Content-Type").as_deref(), Some(oci));
        assert_eq!(g.header("Docker-Content-Digest").as_deref(), Some(md.as_str()));
        let h = curl(&["-I"], &r.url(&format!("/v2/app/manifests/{reference}")));
        assert_eq!((h.status, h.header("Content-Length")), (200, Some(m.len().to_string())));
    }
    // By digest: the digest must be the body's.
    assert_eq!(put_manifest(&r, "app", &md, oci, &m).status, 201);
    let wrong = put_manifest(&r, "app", &sha256(b"x"), oci, &m);
    assert_eq!((wrong.status, wrong.code().as_str()), (400, "DIGEST_INVALID"));

    // An index of that manifest, as a Docker manifest list.
    let list = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [{"mediaType": oci, "digest": md, "size": m.len(), "platform": {"architecture": "amd64", "os": "linux"}}]})
    .to_string();
    let lt = "application/vnd.docker.distribution.manifest.list.v2+json";
    assert_eq!(put_manifest(&r, "app", "multi", lt, &list).status, 201);
    assert_eq!(curl(&[], &r.url("/v2/app/manifests/multi")).header("Content-Type").as_deref(), Some(lt));
    // ... which may only name manifests of its repository.
    let elsewhere = put_manifest(&r, "other", "multi", lt, &list);
    assert_eq!((elsewhere.status, elsewhere.code().as_str()), (400, "MANIFEST_BLOB_UNKNOWN"), "{elsewhere:?}");

    // Tags and catalog, paginated with Link headers.
    for t in ["a", "b", "c"] {
        assert_eq!(put_manifest(&r, "app", t, oci, &m).status, 201);
    }
    for repo in ["x1", "x2", "x3"] {
        push_blob(&r, repo, "layer-bytes");
    }
    let all = curl(&[], &r.url("/v2/app/tags/list")).json();
    assert_eq!(all["tags"], serde_json::json!(["a", "b", "c", "multi", "v1"]));
    let p1 = curl(&[], &r.url("/v2/app/tags/list?n=2"));
    assert_eq!(p1.json()["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(p1.header("Link").as_deref(), Some("</v2/app/tags/list?last=b&n=2>; rel=\"next\""));
    let p3 = curl(&[], &r.url("/v2/app/tags/list?n=2&last=c"));
    assert_eq!(p3.json()["tags"], serde_json::json!(["multi", "v1"]));
    assert_eq!(p3.header("Link"), None);
    assert_eq!(curl(&[], &r.url("/v2/app/tags/list?n=0")).json()["tags"], all["tags"]);
    assert_eq!(curl(&[], &r.url("/v2/_catalog?n=0")).json()["repositories"], serde_json::json!([]));
    let c1 = curl(&[], &r.url("/v2/_catalog?n=3"));
    assert_eq!(c1.json()["repositories"], serde_json::json!(["app", "x1", "x2"]));
    let next = c1.header("Link").expect("Link");
    assert_eq!(next, "</v2/_catalog?last=x2&n=3>; rel=\"next\"");
    let url = next.trim_start_matches('<').split('>').next().unwrap_or_default().to_string();
    let c2 = curl(&[], &r.url(&url));
    assert_eq!((c2.json()["repositories"].clone(), c2.header("Link")), (serde_json::json!(["x3"]), None));
    assert_eq!(curl(&[], &r.url("/v2/_catalog?n=abc")).code(), "PAGINATION_NUMBER_INVALID");

    // Delete a tag, then the manifest (its other tags go with it).
    assert_eq!(curl(&["-X", "DELETE"], &r.url("/v2/app/manifests/a")).status, 202);
    assert_eq!(curl(&[], &r.url("/v2/app/manifests/a")).code(), "MANIFEST_UNKNOWN");
    assert_eq!(curl(&["-X", "DELETE"], &r.url(&format!("/v2/app/manifests/{md}"))).status, 202);
    assert_eq!(curl(&[], &r.url(&format!("/v2/app/manifests/{md}"))).status, 404);
    assert_eq!(curl(&[], &r.url("/v2/app/tags/list")).json()["tags"], serde_json::json!(["multi"]));
    assert_eq!(curl(&["-X", "DELETE"], &r.url(&format!("/v2/app/blobs/{l}"))).status, 202);
    assert_eq!(curl(&["-I"], &r.url(&format!("/v2/app/blobs/{l}"))).status, 404);
    r.stop();
}

#[test]
fn hostile_input_is_refused_and_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // No --enable-delete here.
    let r = Registry::start(&tmp.path().join("data"), &[]);
    let c = push_blob(&r, "app", "cfg");
    let l = push_blob(&r, "app", "layer");
    let oci = "application/vnd.oci.image.manifest.v1+json";

    let cases: Vec<(Http, u16, &str)> = vec![
        (curl(&[], &r.url("/v2/app/manifests/nope")), 404, "MANIFEST_UNKNOWN"),
        (curl(&[], &r.url("/v2/ghost/manifests/latest")), 404, "MANIFEST_UNKNOWN"),
        (curl(&[], &r.url("/v2/ghost/tags/list")), 404, "NAME_UNKNOWN"),
        (curl(&[], &r.url("/v2/app/blobs/sha256:abc")), 400, "DIGEST_INVALID"),
        (curl(&[], &r.url("/v2/app/blobs/md5:abc")), 400, "DIGEST_INVALID"),
        (curl(&[], &r.url(&format!("/v2/app/blobs/{}", sha256(b"absent")))), 404, "BLOB_UNKNOWN"),
        (curl(&[], &r.url("/v2/../../etc/manifests/passwd")), 400, "NAME_INVALID"),
        (curl(&[], &r.url("/v2/app%2F..%2F..%2Fx/tags/list")), 400, "NAME_INVALID"),
        (curl(&[], &r.url("/v2/App/tags/list")), 400, "NAME_INVALID"),
        (curl(&[], &r.url("/v2/app/manifests/..")), 400, "TAG_INVALID"),
        (curl(&[], &r.url("/v2/app/blobs/uploads/..%2F..%2Fblobs")), 404, "BLOB_UPLOAD_UNKNOWN"),
        (curl(&["-X", "PUT"], &r.url("/v2/app/blobs/uploads/0123456789abcdef0123456789abcdef?digest=sha256:x")), 400, "DIGEST_INVALID"),
        (curl(&["-X", "PUT"], &r.url(&format!("/v2/app/blobs/uploads/0123456789abcdef0123456789abcdef?digest={l}"))), 404, "BLOB_UPLOAD_UNKNOWN"),
        (curl(&["-X", "DELETE"], &r.url(&format!("/v2/app/blobs/{l}"))), 405, "UNSUPPORTED"),
        (curl(&["-X", "DELETE"], &r.url("/v2/app/manifests/latest")), 405, "UNSUPPORTED"),
        (curl(&["-X", "POST"], &r.url("/v2/app/tags/list")), 405, "UNSUPPORTED"),
        (curl(&[], &r.url("/v3/")), 404, "NOT_FOUND"),
        // Manifests: unknown or missized blobs, bad JSON, wrong types, too big.
        (put_manifest(&r, "app", "t", oci, &manifest(&c, 3, &sha256(b"missing"), 7)), 400, "MANIFEST_BLOB_UNKNOWN"),
        (put_manifest(&r, "app", "t", oci, &manifest(&c, 3, &l, 999)), 400, "MANIFEST_INVALID"),
        (put_manifest(&r, "app", "t", oci, "{not json"), 400, "MANIFEST_INVALID"),
        (put_manifest(&r, "app", "t", "text/plain", &manifest(&c, 3, &l, 5)), 400, "MANIFEST_INVALID"),
        (put_manifest(&r, "app", "t", "application/vnd.docker.distribution.manifest.v2+json", &manifest(&c, 3, &l, 5)), 400, "MANIFEST_INVALID"),
        (put_manifest(&r, "app", "t", oci, &manifest(&c, 3, "sha256:../../../etc", 5)), 400, "MANIFEST_INVALID"),
        (put_manifest(&r, "app", "bad/tag", oci, &manifest(&c, 3, &l, 5)), 404, "NOT_FOUND"),
    ];
    for (h, status, code) in &cases {
        assert_eq!((h.status, h.code().as_str()), (*status, *code), "{h:?}");
        assert_eq!(h.header("Docker-Distribution-API-Version").as_deref(), Some("registry/2.0"));
    }
    // A manifest over 4 MiB, declared or streamed (chunked), is cut off with 413.
    let big = format!("{{\"schemaVersion\":2,\"pad\":\"{}\"}}", "x".repeat(5 << 20));
    let bigfile = tmp.path().join("big.json");
    std::fs::write(&bigfile, &big).expect("write");
    let at = format!("@{}", bigfile.display());
    let declared = curl(&["-X", "PUT", "-H", &format!("Content-Type: {oci}"), "--data-binary", &at], &r.url("/v2/app/manifests/big"));
    assert_eq!((declared.status, declared.code().as_str()), (413, "SIZE_INVALID"), "{declared:?}");
    let streamed = curl(
        &["-X", "PUT", "-H", &format!("Content-Type: {oci}"), "-H", "Transfer-Encoding: chunked", "--data-binary", &at],
        &r.url("/v2/app/manifests/big"),
    );
    assert_eq!(streamed.status, 413, "{streamed:?}");
    // Wrong digest on a monolithic upload: nothing stored.
    let wrong = curl(&["-X", "POST", "--data-binary", "payload"], &r.url(&format!("/v2/app/blobs/uploads/?digest={}", sha256(b"other"))));
    assert_eq!((wrong.status, wrong.code().as_str()), (400, "DIGEST_INVALID"));
    assert_eq!(curl(&["-I"], &r.url(&format!("/v2/app/blobs/{}", sha256(b"payload")))).status, 404);
    // An upload of one repository is unknown to another.
    let loc = curl(&["-X", "POST"], &r.url("/v2/app/blobs/uploads/")).header("Location").expect("Location");
    let uuid = loc.rsplit('/').next().unwrap_or_default().to_string();
    assert_eq!(curl(&["-X", "PATCH", "--data-binary", "x"], &r.url(&format!("/v2/other/blobs/uploads/{uuid}"))).status, 404);
    assert_eq!(curl(&[], &r.url(&loc)).header("Range").as_deref(), Some("0-0"));

    // Nothing of the above left a trace: no tags, no other repositories,
    // only the two blobs pushed first (plus nothing in tmp/).
    assert_eq!(curl(&[], &r.url("/v2/_catalog")).json()["repositories"], serde_json::json!(["app"]));
    let tags = curl(&[], &r.url("/v2/app/tags/list")).json();
    assert_eq!(tags["tags"], serde_json::json!([]));
    let blobs: usize = std::fs::read_dir(r.data.join("blobs/sha256"))
        .expect("blobs dir")
        .flatten()
        .map(|d| std::fs::read_dir(d.path()).map(|x| x.count()).unwrap_or(0))
        .sum();
    assert_eq!(blobs, 2);
    assert_eq!(std::fs::read_dir(r.data.join("tmp")).map(|d| d.count()).unwrap_or(1), 0);
    // Still serving.
    assert_eq!(curl(&[], &r.url("/v2/")).status, 200);
    r.stop();
}

/// The hash state of a chunked upload lives in the server's memory; after
/// a restart it is rebuilt from what was stored, and the upload goes on.
#[test]
fn a_chunked_upload_survives_a_server_restart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let r = Registry::start(&data, &[]);
    let loc = curl(&["-X", "POST"], &r.url("/v2/resume/blobs/uploads/")).header("Location").expect("Location");
    assert_eq!(curl(&["-X", "PATCH", "-H", OCTET, "--data-binary", "first half, "], &r.url(&loc)).status, 202);
    r.stop();
    let r = Registry::start(&data, &[]);
    let status = curl(&[], &r.url(&loc));
    assert_eq!((status.status, status.header("Range").as_deref()), (204, Some("0-11")));
    let d = sha256(b"first half, second half");
    let done = curl(&["-X", "PUT", "-H", OCTET, "--data-binary", "second half"], &r.url(&format!("{loc}?digest={d}")));
    assert_eq!(done.status, 201, "{done:?}");
    assert_eq!(curl(&[], &r.url(&format!("/v2/resume/blobs/{d}"))).body, "first half, second half");
    r.stop();
}

/// OCI 1.1 referrers: a manifest with a `subject` is listed for it.
#[test]
fn referrers_list_manifests_by_subject() {
    let (r, _tmp) = start();
    let c = push_blob(&r, "app", "{}");
    let l = push_blob(&r, "app", "layer");
    let oci = "application/vnd.oci.image.manifest.v1+json";
    let m = manifest(&c, 2, &l, 5);
    let md = sha256(m.as_bytes());
    assert_eq!(put_manifest(&r, "app", "v1", oci, &m).status, 201);
    let sig = serde_json::json!({"schemaVersion": 2, "mediaType": oci, "artifactType": "application/vnd.example.sig",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": c, "size": 2},
        "layers": [{"mediaType": "application/octet-stream", "digest": l, "size": 5}],
        "subject": {"mediaType": oci, "digest": md, "size": m.len()},
        "annotations": {"org.example.signer": "e2e"}})
    .to_string();
    let sd = sha256(sig.as_bytes());
    let put = put_manifest(&r, "app", &sd, oci, &sig);
    assert_eq!((put.status, put.header("OCI-Subject")), (201, Some(md.clone())), "{put:?}");

    let list = curl(&[], &r.url(&format!("/v2/app/referrers/{md}")));
    assert_eq!(list.status, 200);
    assert_eq!(list.header("Content-Type").as_deref(), Some("application/vnd.oci.image.index.v1+json"));
    let v = list.json();
    assert_eq!(v["manifests"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["manifests"][0]["digest"], sd.as_str());
    assert_eq!(v["manifests"][0]["artifactType"], "application/vnd.example.sig");
    assert_eq!(v["manifests"][0]["annotations"]["org.example.signer"], "e2e");
    let filtered = curl(&[], &r.url(&format!("/v2/app/referrers/{md}?artifactType=application/other")));
    assert_eq!(filtered.json()["manifests"], serde_json::json!([]));
    assert_eq!(filtered.header("OCI-Filters-Applied").as_deref(), Some("artifactType"));
    // Nothing refers to the signature; a bad digest is refused.
    assert_eq!(curl(&[], &r.url(&format!("/v2/app/referrers/{sd}"))).json()["manifests"], serde_json::json!([]));
    assert_eq!(curl(&[], &r.url("/v2/app/referrers/sha256:zz")).code(), "DIGEST_INVALID");
    r.stop();
}
