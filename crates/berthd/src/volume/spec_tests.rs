use super::*;
use berth_api::volume::{BindOptions, VolumeOptions};

fn no_from(id: &str) -> Result<Vec<MountRecord>, ApiError> {
    Err(ApiError::not_found(format!("No such container: {id}")))
}

fn mp(name: &str) -> String {
    format!("/v/{name}/_data")
}

fn run(binds: &[&str], mounts: &[Mount], volumes: &[&str]) -> Result<Plan, ApiError> {
    let binds: Vec<String> = binds.iter().map(|s| s.to_string()).collect();
    plan(
        &MountRequest { binds: &binds, mounts, tmpfs: None, volumes_from: &[], volumes: volumes.iter().map(|s| s.to_string()).collect() },
        &no_from,
        &mp,
    )
}

fn msg(r: Result<Plan, ApiError>) -> String {
    match r {
        Err(e) => e.message,
        Ok(p) => panic!("expected an error, got {p:?}"),
    }
}

#[test]
fn named_volume_bind_and_anonymous() {
    let p = run(&["myvol:/data", "/host/x/../y:/b:ro", "/anon"], &[], &["/img"]).unwrap();
    assert_eq!(p.mounts.len(), 4);
    let by: BTreeMap<_, _> = p.mounts.iter().map(|m| (m.destination.as_str(), m)).collect();
    let v = by["/data"];
    assert_eq!((v.kind, v.name.as_str(), v.source.as_str(), v.mode.as_str(), v.rw), (MountType::Volume, "myvol", "/v/myvol/_data", "z", true));
    assert!(v.copy_data);
    let b = by["/b"];
    assert_eq!((b.kind, b.source.as_str(), b.mode.as_str(), b.rw, b.propagation.as_str()), (MountType::Bind, "/host/y", "ro", false, "rprivate"));
    assert!(b.create_source && !b.copy_data);
    let a = by["/anon"];
    assert_eq!(a.name.len(), 64);
    assert!(by["/img"].copy_data);
    assert_eq!(p.volumes.len(), 3);
    assert!(p.volumes.iter().filter(|w| w.name != "myvol").all(|w| w.labels.as_ref().is_some_and(|l| l.contains_key(ANONYMOUS_LABEL))));
}

#[test]
fn image_volume_under_explicit_mount_is_skipped() {
    let p = run(&["v1:/data"], &[], &["/data/"]).unwrap();
    assert_eq!(p.mounts.len(), 1);
    assert_eq!(p.volumes.len(), 1);
}

#[test]
fn modes() {
    let p = run(&["v:/a:ro,nocopy", "/h:/b:z,rshared"], &[], &[]).unwrap();
    assert!(!p.mounts[0].rw && !p.mounts[0].copy_data);
    assert_eq!(p.mounts[1].propagation, "rshared");
    assert_eq!(msg(run(&["/x:/y:bogus"], &[], &[])), "invalid mode: bogus");
    assert_eq!(msg(run(&["/x:/y:ro,rw"], &[], &[])), "invalid mode: ro,rw");
}

#[test]
fn malformed_binds_get_dockers_errors() {
    assert_eq!(msg(run(&["::"], &[], &[])), "invalid volume specification: '::'");
    assert_eq!(msg(run(&[":/x"], &[], &[])), "invalid volume specification: ':/x'");
    assert_eq!(msg(run(&["/a:/b:ro:x"], &[], &[])), "invalid volume specification: '/a:/b:ro:x'");
    assert_eq!(
        msg(run(&["a:b"], &[], &[])),
        "invalid volume specification: 'a:b': invalid mount config for type \"volume\": invalid mount path: 'b' mount path must be absolute"
    );
    assert_eq!(
        msg(run(&["/h:/"], &[], &[])),
        "invalid volume specification: '/h:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'"
    );
    assert_eq!(
        msg(run(&["/x:ro"], &[], &[])),
        "invalid volume specification: '/x:ro': invalid mount config for type \"volume\": must not set ReadOnly mode when using anonymous volumes"
    );
    assert_eq!(
        msg(run(&["v:/x:shared"], &[], &[])),
        "invalid volume specification: 'v:/x:shared': invalid mount config for type \"volume\": field BindOptions must not be specified"
    );
    assert_eq!(msg(run(&["v:/x", "/h:/x"], &[], &[])), "Duplicate mount point: /x");
    assert_eq!(msg(run(&[], &[], &["rel"])), "invalid mount path: 'rel' mount path must be absolute");
}

fn mount(kind: &str, source: &str, target: &str) -> Mount {
    Mount { kind: kind.into(), source: source.into(), target: target.into(), ..Default::default() }
}

#[test]
fn mounts_validate_like_dockerd() {
    let e = msg(run(&[], &[mount("bind", "/nonexistent-berth-src", "/x")], &[]));
    assert_eq!(e, "invalid mount config for type \"bind\": bind source path does not exist: /nonexistent-berth-src");
    assert_eq!(msg(run(&[], &[mount("bind", "", "/x")], &[])), "invalid mount config for type \"bind\": field Source must not be empty");
    assert_eq!(msg(run(&[], &[mount("xyz", "", "/x")], &[])), "invalid mount config for type \"xyz\": mount type unknown");
    assert_eq!(msg(run(&[], &[mount("volume", "", "")], &[])), "invalid mount config for type \"volume\": field Target must not be empty");
    assert_eq!(msg(run(&[], &[mount("tmpfs", "src", "/t")], &[])), "invalid mount config for type \"tmpfs\": field Source must not be specified");
    let mut m = mount("volume", "v", "/x");
    m.bind_options = Some(BindOptions::default());
    assert_eq!(msg(run(&[], &[m], &[])), "invalid mount config for type \"volume\": field BindOptions must not be specified");
    let mut m = mount("bind", "/", "/x");
    m.bind_options = Some(BindOptions { propagation: "weird".into(), ..Default::default() });
    assert_eq!(msg(run(&[], &[m], &[])), "invalid mount config for type \"bind\": invalid propagation mode: weird");
    let mut m = mount("volume", "", "/x");
    m.read_only = true;
    assert!(msg(run(&[], &[m], &[])).contains("must not set ReadOnly mode when using anonymous volumes"));
    assert_eq!(msg(run(&["v:/x"], &[mount("tmpfs", "", "/x")], &[])), "Duplicate mount point: /x");
}

#[test]
fn mounts_parse() {
    let mut v = mount("volume", "mv", "/m");
    v.volume_options = Some(VolumeOptions { no_copy: true, ..Default::default() });
    let mut b = mount("bind", "/", "/y");
    b.read_only = true;
    b.bind_options = Some(BindOptions { propagation: "rshared".into(), ..Default::default() });
    let mut t = mount("tmpfs", "", "/t");
    t.tmpfs_options = Some(TmpfsOptions { size_bytes: 1 << 20, mode: 0o1700 });
    let p = run(&[], &[v, b, t], &[]).unwrap();
    assert_eq!((p.mounts[0].destination.as_str(), p.mounts[0].copy_data, p.mounts[0].mode.as_str()), ("/m", false, "z"));
    assert_eq!(p.mounts[1].tmpfs_options, ["mode=1700", "size=1m"]);
    assert_eq!((p.mounts[2].rw, p.mounts[2].propagation.as_str(), p.mounts[2].mode.as_str()), (false, "rshared", ""));
}

#[test]
fn volumes_from_copies_and_binds_override() {
    let other = vec![
        MountRecord { kind: MountType::Volume, name: "shared".into(), source: mp("shared"), destination: "/s".into(), driver: "local".into(), mode: "z".into(), rw: true, propagation: String::new(), copy_data: true, create_source: false, tmpfs_options: vec![] },
        MountRecord { kind: MountType::Bind, name: String::new(), source: "/h".into(), destination: "/b".into(), driver: String::new(), mode: String::new(), rw: true, propagation: "rprivate".into(), copy_data: false, create_source: true, tmpfs_options: vec![] },
    ];
    let from = |id: &str| if id == "other" { Ok(other.clone()) } else { no_from(id) };
    let binds = vec!["/h2:/b".to_string()];
    let vf = vec!["other:ro".to_string()];
    let p = plan(&MountRequest { binds: &binds, mounts: &[], tmpfs: None, volumes_from: &vf, volumes: vec![] }, &from, &mp).unwrap();
    assert_eq!(p.mounts.len(), 2);
    assert_eq!(p.mounts[0].source, "/h2");
    assert!(!p.mounts[1].rw && !p.mounts[1].copy_data);
    assert_eq!(p.volumes[0].name, "shared");
    for (spec, want) in [("x", "No such container: x"), ("other:bogus", "invalid mode: bogus"), ("other:shared", "invalid mode: shared"), ("", "volumes-from specification cannot be an empty string")] {
        let vf = vec![spec.to_string()];
        let e = plan(&MountRequest { binds: &[], mounts: &[], tmpfs: None, volumes_from: &vf, volumes: vec![] }, &from, &mp).unwrap_err();
        assert_eq!(e.message, want);
    }
}

#[test]
fn tmpfs_flag() {
    let t: BTreeMap<String, String> = [("/tt".to_string(), "size=2m,ro".to_string())].into();
    let m = tmpfs_flag_mounts(Some(&t));
    assert_eq!((m[0].rw, m[0].tmpfs_options.clone()), (false, vec!["size=2m".to_string()]));
    let bad: BTreeMap<String, String> = [("rel".to_string(), String::new())].into();
    let e = plan(&MountRequest { binds: &[], mounts: &[], tmpfs: Some(&bad), volumes_from: &[], volumes: vec![] }, &no_from, &mp).unwrap_err();
    assert_eq!(e.message, "invalid mount path: 'rel' mount path must be absolute");
    let e = plan(&MountRequest { binds: &["/h:/tt".into()], mounts: &[], tmpfs: Some(&t), volumes_from: &[], volumes: vec![] }, &no_from, &mp).unwrap_err();
    assert_eq!(e.message, "Duplicate mount point: /tt");
}

#[test]
fn clean_paths() {
    assert_eq!(clean("/a/./b/../c/"), "/a/c");
    assert_eq!(clean("/../.."), "/");
}
