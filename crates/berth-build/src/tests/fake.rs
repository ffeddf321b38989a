//! A recording fake host: images are directories, snapshots are copies, RUN understands a
//! tiny script language (`touch P`, `mkdir P`, `echo T`, `exit N`, `write P T`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use berth_image::{ContainerConfig, ImageConfig};

use crate::{BaseImage, BuildEvents, BuildHost, Fetched, HostError, HostErrorKind, RunSpec, Snapshot};

pub struct Dir(pub PathBuf);

impl Snapshot for Dir {
    fn rootfs(&self) -> &Path {
        &self.0
    }
}

pub type Stored = (ImageConfig, PathBuf, Option<String>);

pub struct FakeHost {
    pub tmp: tempfile::TempDir,
    /// id → (config, rootfs directory, parent)
    pub images: Mutex<BTreeMap<String, Stored>>,
    pub tags: Mutex<HashMap<String, String>>,
    pub cache: Mutex<HashMap<String, String>>,
    pub calls: Mutex<Vec<String>>,
    pub runs: Mutex<Vec<RunSpec>>,
    pub urls: Mutex<HashMap<String, Vec<u8>>>,
    counter: AtomicUsize,
}

fn cp_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).ok();
    let st = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status();
    assert!(st.map(|s| s.success()).unwrap_or(false), "cp -a failed");
}

impl FakeHost {
    pub fn new() -> FakeHost {
        let h = FakeHost {
            tmp: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
            images: Mutex::default(),
            tags: Mutex::default(),
            cache: Mutex::default(),
            calls: Mutex::default(),
            runs: Mutex::default(),
            urls: Mutex::default(),
            counter: AtomicUsize::new(0),
        };
        // A busybox-like base: a passwd file, a link out of the rootfs, CMD ["sh"].
        let root = h.new_dir("busybox");
        std::fs::create_dir_all(root.join("etc")).ok();
        std::fs::create_dir_all(root.join("bin")).ok();
        std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/sh\n").ok();
        std::fs::write(root.join("etc/group"), "root:x:0:\nwww:x:34:\n").ok();
        std::os::unix::fs::symlink("/etc", root.join("escape")).ok();
        let cfg = ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            config: Some(ContainerConfig {
                env: Some(vec!["PATH=/bin".into()]),
                cmd: Some(vec!["sh".into()]),
                ..Default::default()
            }),
            history: vec![berth_image::History { created_by: Some("base".into()), ..Default::default() }],
            ..Default::default()
        };
        h.add_image("busybox", cfg, root);
        h
    }

    fn new_dir(&self, prefix: &str) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let p = self.tmp.path().join(format!("{prefix}-{n}"));
        std::fs::create_dir_all(&p).ok();
        p
    }

    pub fn add_image(&self, tag: &str, cfg: ImageConfig, root: PathBuf) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let id = format!("sha256:{:064x}", n + 1000);
        self.images.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), (cfg, root, None));
        self.tags.lock().unwrap_or_else(|p| p.into_inner()).insert(tag.into(), id.clone());
        id
    }

    pub fn image(&self, id: &str) -> (ImageConfig, PathBuf, Option<String>) {
        self.images
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
            .unwrap_or_else(|| panic!("no image {id}"))
    }

    fn call(&self, s: String) {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).push(s);
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl BuildHost for FakeHost {
    fn base_image(&self, name: &str, _p: Option<&str>, _pull: bool, _ev: &dyn BuildEvents) -> Result<BaseImage, HostError> {
        self.call(format!("base_image {name}"));
        let id = self
            .tags
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| HostError::new(HostErrorKind::NotFound, format!("pull access denied for {name}")))?;
        Ok(BaseImage { config: self.image(&id).0, id })
    }

    fn snapshot(&self, parent: Option<&str>) -> Result<Box<dyn Snapshot>, HostError> {
        self.call(format!("snapshot {}", parent.map(|p| &p[7..19]).unwrap_or("scratch")));
        let d = self.new_dir("snap");
        if let Some(p) = parent {
            cp_tree(&self.image(p).1, &d);
        }
        Ok(Box::new(Dir(d)))
    }

    fn run(&self, snap: &dyn Snapshot, spec: &RunSpec, ev: &dyn BuildEvents) -> Result<i32, HostError> {
        self.call(format!("run {}", spec.args.join(" ")));
        self.runs.lock().unwrap_or_else(|p| p.into_inner()).push(spec.clone());
        let script = spec.args.last().cloned().unwrap_or_default();
        for cmd in script.split(['\n', ';']).map(str::trim).filter(|s| !s.is_empty()) {
            let mut w = cmd.splitn(3, ' ');
            let (verb, a, b) = (w.next().unwrap_or(""), w.next().unwrap_or(""), w.next().unwrap_or(""));
            let path = |p: &str| snap.rootfs().join(p.trim_start_matches('/'));
            match verb {
                "touch" => {
                    std::fs::write(path(a), "").ok();
                }
                "mkdir" => {
                    std::fs::create_dir_all(path(a)).ok();
                }
                "write" => {
                    std::fs::write(path(a), b).ok();
                }
                "echo" => ev.output(format!("{a}\n").as_bytes()),
                "exit" => return Ok(a.parse().unwrap_or(1)),
                _ => {}
            }
        }
        Ok(0)
    }

    fn commit(&self, parent: Option<&str>, snap: Option<Box<dyn Snapshot>>, config: ImageConfig) -> Result<String, HostError> {
        self.call(format!("commit {}", if snap.is_some() { "layer" } else { "config" }));
        let d = self.new_dir("img");
        match (&snap, parent) {
            (Some(s), _) => cp_tree(s.rootfs(), &d),
            (None, Some(p)) => cp_tree(&self.image(p).1, &d),
            (None, None) => {}
        }
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let id = format!("sha256:{:064x}", n + 5000);
        self.images
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), (config, d, parent.map(str::to_string)));
        Ok(id)
    }

    fn mount_image(&self, id: &str) -> Result<Box<dyn Snapshot>, HostError> {
        self.call("mount_image".into());
        Ok(Box::new(Dir(self.image(id).1)))
    }

    fn cache_get(&self, key: &str) -> Option<String> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }

    fn cache_put(&self, key: &str, image_id: &str) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(key.into(), image_id.into());
    }

    fn image_config(&self, id: &str) -> Result<ImageConfig, HostError> {
        Ok(self.image(id).0)
    }

    fn fetch_url(&self, url: &str, _ev: &dyn BuildEvents) -> Result<Fetched, HostError> {
        let data = self
            .urls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(url)
            .cloned()
            .ok_or_else(|| HostError::new(HostErrorKind::NotFound, format!("{url}: 404 Not Found")))?;
        let d = self.new_dir("dl");
        let path = d.join("f");
        std::fs::write(&path, data).ok();
        Ok(Fetched { path, file_name: url.rsplit('/').next().unwrap_or("").into(), last_modified: None })
    }
}

/// Records events as the classic builder's text lines.
#[derive(Default)]
pub struct Events(pub Mutex<Vec<String>>);

impl Events {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    fn push(&self, s: String) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(s);
    }
}

impl BuildEvents for Events {
    fn step(&self, n: usize, total: usize, text: &str) {
        self.push(format!("Step {n}/{total} : {text}"));
    }
    fn cached(&self) {
        self.push(" ---> Using cache".into());
    }
    fn output(&self, bytes: &[u8]) {
        self.push(format!("out: {}", String::from_utf8_lossy(bytes).trim_end()));
    }
    fn step_done(&self, id: &str) {
        self.push(format!(" ---> {}", id.get(7..19).unwrap_or("")));
    }
    fn warning(&self, text: &str) {
        self.push(format!("warn: {text}"));
    }
}
