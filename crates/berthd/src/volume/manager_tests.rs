use super::*;
use crate::http::query::Query;
use crate::volume::driver::fake::RecordingDriverMounter;

fn open() -> (tempfile::TempDir, Arc<VolumeManager>, Arc<RecordingDriverMounter>) {
    let t = tempfile::tempdir().unwrap();
    let m = Arc::new(RecordingDriverMounter::default());
    let v = VolumeManager::open(t.path(), m.clone()).unwrap();
    (t, v, m)
}

fn filters(json: &str) -> Filters {
    Query::parse(Some(&format!("filters={json}"))).filters().unwrap()
}

fn want(name: &str) -> VolumeWant {
    VolumeWant { name: name.into(), ..Default::default() }
}

fn anon(name: &str) -> VolumeWant {
    VolumeWant { name: name.into(), labels: Some([(ANONYMOUS_LABEL.to_string(), String::new())].into()), options: None }
}

#[test]
fn create_inspect_persist() {
    let (t, v, _) = open();
    let vol = v.create(VolumeCreateRequest { name: "data".into(), labels: Some([("a".into(), "b".into())].into()), ..Default::default() }).unwrap();
    assert_eq!(vol.mountpoint, t.path().join("volumes/data/_data").display().to_string());
    assert_eq!((vol.driver.as_str(), vol.scope.as_str()), ("local", "local"));
    assert!(vol.created_at.ends_with('Z') && !vol.created_at.contains('.'));
    assert!(t.path().join("volumes/data/_data").is_dir());
    // An existing name answers with the same volume.
    assert_eq!(v.create(VolumeCreateRequest { name: "data".into(), ..Default::default() }).unwrap(), vol);
    let again = VolumeManager::open(t.path(), Arc::new(RecordingDriverMounter::default())).unwrap();
    assert_eq!(again.inspect("data").unwrap(), vol);
    assert_eq!(v.inspect("nope").unwrap_err().message, "get nope: no such volume");
    assert_eq!(v.create(VolumeCreateRequest { name: "../x".into(), ..Default::default() }).unwrap_err().kind, berth_api::ErrorKind::InvalidArgument);
    assert!(!t.path().join("x").exists());
    assert_eq!(v.create(VolumeCreateRequest { driver: "nfsplugin".into(), ..Default::default() }).unwrap_err().kind, berth_api::ErrorKind::NotFound);
    let unnamed = v.create(VolumeCreateRequest::default()).unwrap();
    assert_eq!(unnamed.name.len(), 64);
}

#[test]
fn in_use_and_release() {
    let (_t, v, _) = open();
    v.claim("c1", &[want("named"), anon("a1")]).unwrap();
    let e = v.remove("named", false).unwrap_err();
    assert_eq!(e.message, "remove named: volume is in use - [c1]");
    assert_eq!(e.kind, berth_api::ErrorKind::Conflict);
    assert_eq!(v.list(&filters(r#"{"dangling":["true"]}"#)).unwrap().volumes.len(), 0);
    assert_eq!(v.list(&filters(r#"{"dangling":["false"]}"#)).unwrap().volumes.len(), 2);
    assert!(v.list(&filters(r#"{"dangling":["maybe"]}"#)).is_err());
    v.release("c1", &["named".into(), "a1".into()], true);
    assert!(v.exists("named"));
    assert!(!v.exists("a1"));
    v.remove("named", false).unwrap();
    assert_eq!(v.remove("named", false).unwrap_err().kind, berth_api::ErrorKind::NotFound);
    v.remove("named", true).unwrap();
}

#[test]
fn claim_is_all_or_nothing() {
    let (_t, v, _) = open();
    assert!(v.claim("c1", &[want("good"), want("b/ad")]).is_err());
    assert!(!v.exists("good"));
}

#[test]
fn prune_anonymous_by_default() {
    let (_t, v, _) = open();
    v.claim("c1", &[anon("a1"), anon("a2"), want("n1")]).unwrap();
    v.create(VolumeCreateRequest { name: "n2".into(), labels: Some([("keep".into(), "1".into())].into()), ..Default::default() }).unwrap();
    v.release("c1", &["a2".into(), "n1".into()], false);
    let r = v.prune(&Filters::default(), false).unwrap();
    assert_eq!(r.volumes_deleted, Some(vec!["a2".to_string()]));
    let r = v.prune(&filters(r#"{"all":["true"],"label!":["keep"]}"#), false).unwrap();
    assert_eq!(r.volumes_deleted, Some(vec!["n1".to_string()]));
    let names: Vec<String> = v.list(&Filters::default()).unwrap().volumes.into_iter().map(|x| x.name).collect();
    assert_eq!(names, ["a1", "n2"]);
    assert!(v.prune(&filters(r#"{"bogus":["1"]}"#), false).is_err());
    // Clients before API 1.42 prune every unused volume, named ones too.
    let r = v.prune(&Filters::default(), true).unwrap();
    assert_eq!(r.volumes_deleted, Some(vec!["n2".to_string()]));
}

#[test]
fn list_filters() {
    let (_t, v, _) = open();
    v.create(VolumeCreateRequest { name: "web-data".into(), labels: Some([("env".into(), "prod".into())].into()), ..Default::default() }).unwrap();
    v.create(VolumeCreateRequest { name: "db".into(), ..Default::default() }).unwrap();
    let names = |f: &str| -> Vec<String> { v.list(&filters(f)).unwrap().volumes.into_iter().map(|x| x.name).collect() };
    assert_eq!(names(r#"{"name":["web"]}"#), ["web-data"]);
    assert_eq!(names(r#"{"label":["env=prod"]}"#), ["web-data"]);
    assert_eq!(names(r#"{"label":["env"]}"#), ["web-data"]);
    assert_eq!(names(r#"{"label":["env=dev"]}"#), Vec::<String>::new());
    assert_eq!(names(r#"{"driver":["local"]}"#), ["db", "web-data"]);
    assert!(v.list(&filters(r#"{"bogus":["1"]}"#)).is_err());
}

#[test]
fn driver_mounts_are_refcounted() {
    let (_t, v, m) = open();
    let opts: BTreeMap<String, String> = [("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=1m,noexec")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    v.create(VolumeCreateRequest { name: "tv".into(), driver_opts: Some(opts), ..Default::default() }).unwrap();
    v.activate("tv", "c1").unwrap();
    v.activate("tv", "c2").unwrap();
    v.deactivate("c1");
    assert_eq!(m.calls.lock().unwrap().len(), 1);
    v.deactivate("c2");
    let calls = m.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    assert!(calls[0].starts_with("mount tmpfs tmpfs size=1m "), "{calls:?}");
    assert!(calls[1].starts_with("unmount "));
    assert!(v.create(VolumeCreateRequest { name: "bad".into(), driver_opts: Some([("x".to_string(), "1".to_string())].into()), ..Default::default() }).is_err());
}

#[test]
fn damaged_record_is_quarantined_and_the_rest_load() {
    let (t, v, _) = open();
    v.create(VolumeCreateRequest { name: "good".into(), ..Default::default() }).unwrap();
    v.create(VolumeCreateRequest { name: "bad".into(), ..Default::default() }).unwrap();
    std::fs::write(t.path().join("db/volumes/bad.json"), b"{\"name\":").unwrap();
    let again = VolumeManager::open(t.path(), Arc::new(RecordingDriverMounter::default())).unwrap();
    assert!(again.exists("good") && !again.exists("bad"));
    let moved: Vec<_> = std::fs::read_dir(t.path().join("quarantine/volumes")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(moved.len(), 1);
    assert!(moved[0].starts_with("bad.json."), "{moved:?}");
    // The data stays; creating the name again adopts it.
    assert!(t.path().join("volumes/bad/_data").is_dir());
    again.create(VolumeCreateRequest { name: "bad".into(), ..Default::default() }).unwrap();
}

/// A crash between a volume's data directory and its record (create), or
/// between them the other way (rm), is settled at the next open.
#[test]
fn interrupted_create_and_remove_are_settled_at_open() {
    let (t, v, _) = open();
    v.create(VolumeCreateRequest { name: "gone".into(), ..Default::default() }).unwrap();
    v.create(VolumeCreateRequest { name: "kept".into(), ..Default::default() }).unwrap();
    std::fs::write(t.path().join("volumes/kept/_data/f"), b"x").unwrap();
    // rm cut after the data went.
    std::fs::remove_dir_all(t.path().join("volumes/gone")).unwrap();
    // create cut before the record; and data of a volume whose record is lost.
    std::fs::create_dir_all(t.path().join("volumes/half/_data")).unwrap();
    // create cut between `<name>` and `<name>/_data`.
    std::fs::create_dir_all(t.path().join("volumes/shell")).unwrap();
    std::fs::create_dir_all(t.path().join("volumes/orphan/_data")).unwrap();
    std::fs::write(t.path().join("volumes/orphan/_data/f"), b"x").unwrap();
    let again = VolumeManager::open(t.path(), Arc::new(RecordingDriverMounter::default())).unwrap();
    assert!(again.inspect("gone").is_err());
    assert!(!t.path().join("db/volumes/gone.json").exists());
    assert!(again.inspect("kept").is_ok());
    assert!(!t.path().join("volumes/half").exists());
    assert!(!t.path().join("volumes/shell").exists());
    assert!(t.path().join("volumes/orphan/_data/f").exists());
}
