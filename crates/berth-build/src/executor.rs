//! Runs one stage: FROM, then each step — cache lookup, then a config-only commit, a
//! RUN in a container, or a COPY/ADD into a snapshot — as dockerd's classic builder does.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use berth_image::{ContainerConfig, History, ImageConfig};

use crate::args::BuildArgs;
use crate::cache;
use crate::config;
use crate::error::BuildError;
use crate::expand::{self, Vars};
use crate::history;
use crate::host::{BuildEvents, BuildHost, RunSpec, Snapshot};
use crate::options::BuildOptions;
use crate::parse::{self, Dockerfile, Instr, StageDef, Step};

/// What a finished stage leaves for others (COPY --from, FROM <stage>).
#[derive(Debug, Clone)]
pub struct StageOut {
    /// None: a scratch stage that never committed anything.
    pub image: Option<String>,
    pub cfg: ImageConfig,
}

/// What every stage of one build shares.
pub struct Ctx<'a> {
    pub host: &'a dyn BuildHost,
    pub opts: &'a BuildOptions,
    pub df: &'a Dockerfile,
    pub results: &'a Mutex<BTreeMap<usize, StageOut>>,
    /// ARG names the Dockerfile declared (for the unused --build-arg warning).
    pub referenced: &'a Mutex<BTreeSet<String>>,
    pub global_args: &'a BuildArgs,
}

/// Writes a COPY/ADD's files into the snapshot's rootfs.
pub type WriteFn<'w> = Box<dyn FnOnce(&std::path::Path) -> Result<(), String> + 'w>;

/// The filesystem work of a step, done only on a cache miss.
pub enum Work<'w> {
    None,
    Run(RunSpec, Vec<Box<dyn Snapshot>>),
    Workdir(String),
    Write(WriteFn<'w>),
}

pub struct StageRun<'a> {
    pub ctx: &'a Ctx<'a>,
    pub ev: &'a dyn BuildEvents,
    pub image: Option<String>,
    pub cfg: ImageConfig,
    pub cmd_set: bool,
    pub args: BuildArgs,
    pub maintainer: Option<String>,
    /// Running ONBUILD triggers: dockerd prints one ` ---> <id>` for the FROM after
    /// them, none per trigger.
    in_triggers: bool,
}

pub fn step_err(line: usize, message: impl Into<String>) -> BuildError {
    BuildError::Step { line, message: message.into(), text: String::new() }
}

fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm",
        other => other,
    }
}

impl<'a> StageRun<'a> {
    /// FROM: resolves the base (a stage, scratch or an image) and runs its ONBUILD triggers.
    pub fn start(ctx: &'a Ctx<'a>, ev: &'a dyn BuildEvents, st: &StageDef) -> Result<Self, BuildError> {
        let meta = Vars::from_env(&kv(ctx.global_args.all_meta()));
        let name = expand::process_word(&st.base, &meta, ctx.df.escape).map_err(|e| step_err(st.line, e))?;
        if name.is_empty() {
            return Err(step_err(st.line, format!("base name ({}) should not be blank", st.base)));
        }
        let platform = match &st.platform {
            Some(p) => Some(expand::process_word(p, &meta, ctx.df.escape).map_err(|e| step_err(st.line, e))?),
            None => ctx.opts.platform.clone(),
        };
        let lower = name.to_lowercase();
        let stage_base = ctx.df.stages.iter().find(|s| s.name.as_deref() == Some(lower.as_str()) && s.index != st.index);
        let (image, mut cfg) = if let Some(sb) = stage_base {
            let results = ctx.results.lock().unwrap_or_else(|p| p.into_inner());
            let out = results
                .get(&sb.index)
                .ok_or_else(|| step_err(st.line, format!("stage {name} was not built")))?;
            (out.image.clone(), out.cfg.clone())
        } else if lower == "scratch" {
            let arch = platform
                .as_deref()
                .and_then(|p| p.split('/').nth(1))
                .unwrap_or(host_arch())
                .to_string();
            (None, ImageConfig { architecture: arch, os: "linux".into(), ..Default::default() })
        } else {
            let b = ctx
                .host
                .base_image(&name, platform.as_deref(), ctx.opts.pull, ev)
                .map_err(|e| step_err(st.line, e.message))?;
            (Some(b.id), b.config)
        };
        let c = cfg.config.get_or_insert_with(ContainerConfig::default);
        config::ensure_path(c);
        // dockerd's beginStage: a build never keeps stdin open.
        for k in ["OpenStdin", "StdinOnce"] {
            if let Some(v) = c.extra.get_mut(k) {
                *v = serde_json::Value::Bool(false);
            }
        }
        let triggers = c.on_build.take().unwrap_or_default();
        let mut run = StageRun {
            ctx,
            ev,
            image,
            cfg,
            cmd_set: false,
            args: ctx.global_args.for_stage(),
            maintainer: None,
            in_triggers: true,
        };
        if !triggers.is_empty() {
            let s = if triggers.len() > 1 { "s" } else { "" };
            ev.output(format!("# Executing {} build trigger{s}\n", triggers.len()).as_bytes());
            for t in &triggers {
                let df = parse::parse(format!("FROM scratch\n{t}\n").as_bytes())
                    .map_err(|e| step_err(st.line, format!("onbuild trigger {t}: {e}")))?;
                let steps = df.stages.into_iter().flat_map(|s| s.steps).collect::<Vec<_>>();
                if steps.len() != 1 {
                    return Err(step_err(st.line, "onbuild trigger should be a single expression"));
                }
                for mut step in steps {
                    step.line = st.line;
                    run.dispatch(&step)?;
                }
            }
        }
        run.in_triggers = false;
        ev.step_done(run.image.as_deref().unwrap_or(""));
        Ok(run)
    }

    pub fn container_config(&self) -> ContainerConfig {
        self.cfg.config.clone().unwrap_or_default()
    }

    /// The variables a word expands against: args in scope, then the image's env.
    pub fn vars(&self) -> Vars {
        let mut v = Vars::from_env(&kv(self.args.all_allowed()));
        for e in config::env_list(&self.container_config()) {
            let (k, val) = e.split_once('=').unwrap_or((e.as_str(), ""));
            v.set(k, val);
        }
        v
    }

    pub fn expand(&self, line: usize, word: &str, vars: &Vars) -> Result<String, BuildError> {
        expand::process_word(word, vars, self.ctx.df.escape).map_err(|e| step_err(line, e))
    }

    /// Runs one instruction and records its image.
    pub fn dispatch(&mut self, step: &Step) -> Result<(), BuildError> {
        let line = step.line;
        let vars = self.vars();
        let mut c = self.container_config();
        let shell = config::shell_of(&c);
        let comment: String = match &step.instr {
            Instr::Env(pairs) => {
                // Every value expands against the env before this line.
                let mut expanded = Vec::new();
                for (k, v) in pairs {
                    let k = self.expand(line, k, &vars)?;
                    if k.is_empty() {
                        return Err(step_err(line, "ENV names can not be blank"));
                    }
                    expanded.push((k, self.expand(line, v, &vars)?));
                }
                let mut comment = String::from("ENV");
                for (k, v) in &expanded {
                    config::set_env(&mut c, k, v);
                    comment.push_str(&format!(" {k}={v}"));
                }
                comment
            }
            Instr::Label(pairs) | Instr::BuildLabel(pairs) => {
                let raw = matches!(step.instr, Instr::BuildLabel(_));
                let mut comment = String::from("LABEL");
                for (k, v) in pairs {
                    let (k, v) = if raw {
                        (k.clone(), v.clone())
                    } else {
                        (self.expand(line, k, &vars)?, self.expand(line, v, &vars)?)
                    };
                    if k.is_empty() {
                        return Err(step_err(line, "LABEL names can not be blank"));
                    }
                    c.labels.get_or_insert_with(BTreeMap::new).insert(k.clone(), v.clone());
                    comment.push_str(&format!(" {k}={v}"));
                }
                comment
            }
            Instr::Maintainer(m) => {
                self.maintainer = Some(m.clone());
                format!("MAINTAINER {m}")
            }
            Instr::Arg(pairs) => {
                let mut parts = Vec::new();
                for (k, v) in pairs {
                    let v = match v {
                        Some(v) => Some(self.expand(line, v, &vars)?),
                        None => None,
                    };
                    parts.push(match &v {
                        Some(v) => format!("{k}={v}"),
                        None => k.clone(),
                    });
                    self.args.add_arg(k, v);
                    self.ctx.referenced.lock().unwrap_or_else(|p| p.into_inner()).insert(k.clone());
                }
                format!("ARG {}", parts.join(" "))
            }
            Instr::Expose(specs) => {
                let mut ports = Vec::new();
                for s in specs {
                    ports.extend(expand::process_words(s, &vars, self.ctx.df.escape).map_err(|e| step_err(line, e))?);
                }
                let keys = config::exposed_ports(&ports).map_err(|e| step_err(line, e))?;
                let set = c.exposed_ports.get_or_insert_with(BTreeMap::new);
                for k in keys {
                    set.insert(k, serde_json::json!({}));
                }
                format!("EXPOSE {}", ports.join(" "))
            }
            Instr::Volume(vols) => {
                let mut out = Vec::new();
                for v in vols {
                    let v = self.expand(line, v, &vars)?;
                    if v.is_empty() {
                        return Err(step_err(line, "VOLUME specified can not be an empty string"));
                    }
                    c.volumes.get_or_insert_with(BTreeMap::new).insert(v.clone(), serde_json::json!({}));
                    out.push(v);
                }
                format!("VOLUME {}", history::go_list(&out))
            }
            Instr::User(u) => {
                let u = self.expand(line, u, &vars)?;
                c.user = Some(u.clone());
                format!("USER {u}")
            }
            Instr::Stopsignal(s) => {
                let s = self.expand(line, s, &vars)?;
                config::check_signal(&s).map_err(|e| step_err(line, e))?;
                c.stop_signal = Some(s.clone());
                format!("STOPSIGNAL {s}")
            }
            Instr::Shell(v) => {
                c.shell = Some(v.clone());
                format!("SHELL {}", history::go_list(v))
            }
            Instr::Cmd(cmd) => {
                let v = config::resolve_cmd(cmd, &c);
                if !matches!(cmd, parse::CmdLine::Exec(e) if e.is_empty()) {
                    self.cmd_set = true;
                }
                let comment = format!("CMD {}", history::go_quote_list(&v));
                c.cmd = Some(v);
                comment
            }
            Instr::Entrypoint(cmd) => {
                let v = config::resolve_cmd(cmd, &c);
                let comment = format!("ENTRYPOINT {}", history::go_quote_list(&v));
                c.entrypoint = Some(v);
                if !self.cmd_set {
                    c.cmd = None;
                }
                comment
            }
            Instr::Healthcheck { flags, cmd } => {
                let (h, comment) = config::healthcheck(flags, cmd.as_ref()).map_err(|e| step_err(line, e))?;
                c.healthcheck = Some(h);
                comment
            }
            Instr::Onbuild(expr) => {
                c.on_build.get_or_insert_with(Vec::new).push(expr.clone());
                format!("ONBUILD {expr}")
            }
            Instr::Workdir(p) => {
                let p = self.expand(line, p, &vars)?;
                if p.is_empty() {
                    return Err(step_err(line, "cannot normalize nothing"));
                }
                let wd = if p.starts_with('/') {
                    crate::scope::clean(&p)
                } else {
                    crate::scope::clean(&format!("/{}/{p}", c.working_dir.clone().unwrap_or_default()))
                };
                c.working_dir = Some(wd.clone());
                let created_by = history::nop_single(&shell, &format!("WORKDIR {wd}"));
                return self.commit_step(line, created_by, c, Work::Workdir(wd), &[]);
            }
            Instr::Run { flags, cmd } => return self.run(step, flags, cmd, c, &vars),
            Instr::Copy { flags, srcs, dest } => return self.copy(step, false, flags, srcs, dest, c, &vars),
            Instr::Add { flags, srcs, dest } => return self.copy(step, true, flags, srcs, dest, c, &vars),
        };
        let created_by = history::nop(&shell, &comment);
        self.commit_step(line, created_by, c, Work::None, &[])
    }

    /// Cache lookup, then the work and the commit on a miss.
    pub fn commit_step(
        &mut self,
        line: usize,
        created_by: String,
        new_config: ContainerConfig,
        work: Work<'_>,
        extra: &[String],
    ) -> Result<(), BuildError> {
        let parent = self.image.clone();
        let mut c = new_config;
        c.extra.insert("Image".into(), serde_json::Value::String(parent.clone().unwrap_or_default()));
        let key = cache::key(parent.as_deref(), &created_by, &c, extra);
        let empty = matches!(work, Work::None);
        let mut next = self.cfg.clone();
        next.config = Some(c);
        next.created = Some(berth_image::timestamp::now_rfc3339());
        // A child image is made fresh, as dockerd's NewChildImage does: its author is
        // the MAINTAINER (if any), and of the parent's other top-level fields only the
        // platform ones carry over (not docker_version, container_config...).
        next.author = self.maintainer.clone();
        next.extra.retain(|k, _| k == "os.version" || k == "os.features");
        next.history.push(History {
            created: next.created.clone(),
            created_by: Some(created_by),
            author: self.maintainer.clone(),
            empty_layer: empty,
            ..Default::default()
        });
        let host = self.ctx.host;
        if !self.ctx.opts.no_cache {
            if let Some(id) = host.cache_get(&key) {
                self.ev.cached();
                self.cfg = host.image_config(&id).unwrap_or(next);
                if !self.in_triggers {
                    self.ev.step_done(&id);
                }
                self.image = Some(id);
                return Ok(());
            }
        }
        let herr = |e: crate::error::HostError| step_err(line, e.message);
        let id = match work {
            Work::None => host.commit(parent.as_deref(), None, next.clone()).map_err(herr)?,
            Work::Run(spec, _keep_mounted) => {
                let snap = host.snapshot(parent.as_deref()).map_err(herr)?;
                let code = host.run(snap.as_ref(), &spec, self.ev).map_err(herr)?;
                if code != 0 {
                    return Err(BuildError::RunFailed { line, command: spec.args.join(" "), code });
                }
                host.commit(parent.as_deref(), Some(snap), next.clone()).map_err(herr)?
            }
            Work::Workdir(wd) => {
                let snap = host.snapshot(parent.as_deref()).map_err(herr)?;
                let exists = crate::scope::resolve(snap.rootfs(), &wd)
                    .map(|p| p.is_dir())
                    .unwrap_or(false);
                if exists {
                    // Nothing changes on disk: no layer, as dockerd records it.
                    drop(snap);
                    if let Some(h) = next.history.last_mut() {
                        h.empty_layer = true;
                    }
                    host.commit(parent.as_deref(), None, next.clone()).map_err(herr)?
                } else {
                    crate::fsx::mkdir_all(snap.rootfs(), &wd, crate::fsx::Owner::Set(0, 0))
                        .map_err(|e| step_err(line, format!("mkdir {wd}: {e}")))?;
                    if let Some(h) = next.history.last_mut() {
                        h.empty_layer = false;
                    }
                    host.commit(parent.as_deref(), Some(snap), next.clone()).map_err(herr)?
                }
            }
            Work::Write(f) => {
                let snap = host.snapshot(parent.as_deref()).map_err(herr)?;
                f(snap.rootfs()).map_err(|e| step_err(line, e))?;
                host.commit(parent.as_deref(), Some(snap), next.clone()).map_err(herr)?
            }
        };
        host.cache_put(&key, &id);
        if !self.in_triggers {
            self.ev.step_done(&id);
        }
        self.image = Some(id);
        self.cfg = next;
        Ok(())
    }
}

pub fn kv(m: BTreeMap<String, String>) -> Vec<String> {
    m.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}
