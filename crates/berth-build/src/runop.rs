//! RUN: the command line (SHELL-wrapped for shell form), the build args the classic
//! builder passes and records (`|2 A=1 B=2 /bin/sh -c make`), and `--mount`/`--network`.

use std::path::PathBuf;

use berth_image::ContainerConfig;

use crate::config;
use crate::copy;
use crate::error::BuildError;
use crate::executor::{step_err, StageRun, Work};
use crate::expand::Vars;
use crate::host::{CacheSharing, RunMount, RunSpec, Snapshot};
use crate::parse::{CmdLine, Flag, Step};
use crate::stage;

/// A mount (None: an optional secret that is absent), what must stay mounted while
/// the command runs, and what the cache key must see.
type MountPlan = (Option<RunMount>, Option<Box<dyn Snapshot>>, String);

/// A temporary directory kept alive as long as a step needs it.
struct TempSnap(tempfile::TempDir);

impl Snapshot for TempSnap {
    fn rootfs(&self) -> &std::path::Path {
        self.0.path()
    }
}

/// The heredoc script as an executable file, bound at `/dev/pipes/<name>`.
fn script_mount(name: &str, body: &str) -> std::io::Result<(RunMount, TempSnap)> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("script");
    std::fs::write(&file, body)?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))?;
    let m = RunMount::Bind { source: file, target: format!("/dev/pipes/{name}"), read_write: false };
    Ok((m, TempSnap(dir)))
}

impl StageRun<'_> {
    pub(crate) fn run(
        &mut self,
        step: &Step,
        flags: &[Flag],
        cmd: &CmdLine,
        c: ContainerConfig,
        vars: &Vars,
    ) -> Result<(), BuildError> {
        let line = step.line;
        let argv = config::resolve_cmd(cmd, &c);
        let env = config::env_list(&c);
        let build_args = self.args.filter_allowed(&env);
        let recorded: Vec<String> = build_args
            .iter()
            .filter(|e| self.args.in_history(e.split('=').next().unwrap_or("")))
            .cloned()
            .collect();
        let created_by = if build_args.is_empty() {
            argv.join(" ")
        } else {
            let mut v = vec![format!("|{}", recorded.len())];
            v.extend(recorded);
            v.extend(argv.iter().cloned());
            v.join(" ")
        };
        let mut network = self.ctx.opts.network.clone();
        let mut mounts = Vec::new();
        let mut keep: Vec<Box<dyn Snapshot>> = Vec::new();
        let mut extra = Vec::new();
        for f in flags {
            let value = self.expand(line, f.value.as_deref().unwrap_or(""), vars)?;
            match f.name.as_str() {
                "network" => {
                    if !matches!(value.as_str(), "default" | "none" | "host") {
                        return Err(step_err(line, format!("unsupported network mode \"{value}\"")));
                    }
                    network = value.clone();
                    extra.push(format!("network={value}"));
                }
                "mount" => {
                    let (m, snap, key) = self.mount(line, &value, c.working_dir.as_deref())?;
                    if let Some(m) = m {
                        mounts.push(m);
                    }
                    keep.extend(snap);
                    extra.push(key);
                }
                other => return Err(step_err(line, format!("unknown flag: {other}"))),
            }
        }
        if let CmdLine::Script { name, body } = cmd {
            let (m, dir) = script_mount(name, body).map_err(|e| step_err(line, format!("writing the heredoc script: {e}")))?;
            mounts.push(m);
            keep.push(Box::new(dir));
            extra.push(format!("script={body}"));
        }
        let mut spec_env = env;
        spec_env.extend(build_args);
        let spec = RunSpec {
            args: argv,
            env: spec_env,
            user: c.user.clone().unwrap_or_default(),
            working_dir: c.working_dir.clone().unwrap_or_default(),
            network,
            extra_hosts: self.ctx.opts.extra_hosts.clone(),
            shm_size: self.ctx.opts.shm_size,
            mounts,
        };
        extra.push(format!("env={:?}", spec.env));
        self.commit_step(line, created_by, c, Work::Run(spec, keep), &extra)
    }

    /// One `--mount=type=...,k=v`: the mount, a snapshot to keep mounted while the
    /// command runs, and what the cache key must see (bind sources' content).
    fn mount(&self, line: usize, spec: &str, workdir: Option<&str>) -> Result<MountPlan, BuildError> {
        let mut kv = std::collections::BTreeMap::new();
        for part in spec.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let k = k.trim().to_lowercase();
            let k = match k.as_str() {
                "dst" | "destination" => "target".to_string(),
                "src" => "source".to_string(),
                "readonly" => "ro".to_string(),
                "readwrite" => "rw".to_string(),
                _ => k,
            };
            kv.insert(k, v.trim().to_string());
        }
        let known = ["type", "target", "source", "from", "id", "sharing", "mode", "uid", "gid", "ro", "rw", "required", "size"];
        if let Some(k) = kv.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(step_err(line, format!("unexpected key '{k}' in '{spec}'")));
        }
        let get = |k: &str| kv.get(k).cloned();
        let flag = |k: &str| kv.get(k).is_some_and(|v| v.is_empty() || v == "true");
        let num = |k: &str, d: u32, radix: u32| -> Result<u32, BuildError> {
            match kv.get(k) {
                None => Ok(d),
                Some(v) => u32::from_str_radix(v, radix).map_err(|_| step_err(line, format!("invalid value for {k}: {v}"))),
            }
        };
        let typ = get("type").unwrap_or_else(|| "bind".into());
        // A relative target is under WORKDIR, as BuildKit places it.
        let target = get("target").map(|t| {
            if t.starts_with('/') {
                t
            } else {
                crate::scope::clean(&format!("/{}/{t}", workdir.unwrap_or("")))
            }
        });
        let need_target = || target.clone().ok_or_else(|| step_err(line, "mount destination not specified"));
        let key = format!("mount {spec}");
        match typ.as_str() {
            "cache" => {
                let target = need_target()?;
                let sharing = match get("sharing").as_deref() {
                    None | Some("shared") => CacheSharing::Shared,
                    Some("private") => CacheSharing::Private,
                    Some("locked") => CacheSharing::Locked,
                    Some(o) => return Err(step_err(line, format!("unsupported sharing value \"{o}\""))),
                };
                if get("from").is_some() || get("source").is_some() {
                    return Err(step_err(line, "RUN --mount=type=cache with from/source is not supported by berth"));
                }
                let m = RunMount::Cache {
                    id: get("id").unwrap_or_else(|| target.clone()),
                    target,
                    read_only: flag("ro"),
                    sharing,
                    mode: num("mode", 0o755, 8)?,
                    uid: num("uid", 0, 10)?,
                    gid: num("gid", 0, 10)?,
                };
                Ok((Some(m), None, key))
            }
            "tmpfs" => {
                let size = match get("size") {
                    None => None,
                    Some(s) => Some(s.parse::<i64>().map_err(|_| step_err(line, format!("invalid tmpfs size {s}")))?),
                };
                Ok((Some(RunMount::Tmpfs { target: need_target()?, size }), None, key))
            }
            "secret" => {
                let id = get("id").or_else(|| target.as_deref().and_then(|t| t.rsplit('/').next()).map(str::to_string));
                let Some(id) = id.filter(|i| !i.is_empty()) else {
                    return Err(step_err(line, "secret ID missing from mount options"));
                };
                let target = target.clone().unwrap_or_else(|| format!("/run/secrets/{id}"));
                match self.ctx.opts.secrets.get(&id) {
                    Some(src) => Ok((
                        Some(RunMount::Secret {
                            source: src.clone(),
                            target,
                            mode: num("mode", 0o400, 8)?,
                            uid: num("uid", 0, 10)?,
                            gid: num("gid", 0, 10)?,
                        }),
                        None,
                        key,
                    )),
                    None if flag("required") => Err(step_err(line, format!("secret {id}: not found"))),
                    None => Ok((None, None, key)),
                }
            }
            "bind" => {
                let target = need_target()?;
                let source = get("source").unwrap_or_else(|| ".".into());
                let (root, snap): (PathBuf, Option<Box<dyn Snapshot>>) = match get("from") {
                    None => (self.ctx.opts.context.clone(), None),
                    Some(from) => {
                        let snap = self.mount_from(line, &from)?;
                        (snap.rootfs().to_path_buf(), Some(snap))
                    }
                };
                let items = copy::select(&root, &source, false).map_err(|e| match e {
                    copy::SourceError::NotFound(p) => step_err(line, format!("failed to compute cache key: \"/{p}\": not found")),
                    copy::SourceError::Other(m) => step_err(line, m),
                })?;
                let Some(item) = items.into_iter().next() else {
                    return Err(step_err(line, format!("\"{source}\": not found")));
                };
                let copy::ItemKind::Path { abs, .. } = &item.kind else {
                    return Err(step_err(line, "invalid bind source"));
                };
                let hash = copy::hash_item(&item, None).map_err(|e| step_err(line, e.to_string()))?;
                let m = RunMount::Bind { source: abs.clone(), target, read_write: flag("rw") };
                Ok((Some(m), snap, format!("{key} {hash}")))
            }
            // Written literally it is refused at parse time; this is `type=$VAR`.
            "ssh" => Err(step_err(line, "RUN --mount=type=ssh is not supported by berth: it has no SSH agent forwarding (use --secret)")),
            other => Err(step_err(line, format!("unsupported mount type \"{other}\""))),
        }
    }

    /// A read-only view of a stage's result or an image (COPY --from, RUN --mount from=).
    pub(crate) fn mount_from(&self, line: usize, from: &str) -> Result<Box<dyn Snapshot>, BuildError> {
        let host = self.ctx.host;
        let id = match stage::stage_ref(self.ctx.df, from) {
            Some(ix) => {
                let results = self.ctx.results.lock().unwrap_or_else(|p| p.into_inner());
                let out = results
                    .get(&ix)
                    .ok_or_else(|| step_err(line, format!("invalid from flag value {from}: stage not built")))?;
                out.image.clone()
            }
            None => Some(
                host.base_image(from, self.ctx.opts.platform.as_deref(), self.ctx.opts.pull, self.ev)
                    .map_err(|e| step_err(line, format!("invalid from flag value {from}: {}", e.message)))?
                    .id,
            ),
        };
        match id {
            Some(id) => host.mount_image(&id).map_err(|e| step_err(line, e.message)),
            // A scratch stage with nothing in it: an empty snapshot.
            None => host.snapshot(None).map_err(|e| step_err(line, e.message)),
        }
    }
}
