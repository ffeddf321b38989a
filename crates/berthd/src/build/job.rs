//! One build, on a blocking thread: context → berth-build → tags, with
//! its messages on the response stream. Everything it made on disk lives
//! in one work directory, removed at the end (also when it failed or the
//! client went away).

use super::host::JobHost;
use super::messages::BuildStream;
use super::{context, BuildManager, BuildRequest};
use berth_api::ApiError;
use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The build's work directory; unmounts and removes what is left in it.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    /// Unmounted now; the files go on a thread of their own, so the
    /// client's answer does not wait for them (start-up removes what a
    /// crash left in the work area).
    fn drop(&mut self) {
        super::snapshot::unmount_below(&self.0);
        let dir = std::mem::take(&mut self.0);
        let spawned = std::thread::Builder::new().name("build-cleanup".into()).spawn({
            let dir = dir.clone();
            move || {
                let _ = std::fs::remove_dir_all(&dir);
            }
        });
        if spawned.is_err() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// Where secrets sent by `berth build --secret` travel in the context.
const SECRETS_DIR: &str = ".berth-secrets";

pub struct Job {
    pub m: Arc<BuildManager>,
    pub req: BuildRequest,
    pub auth: Option<String>,
    pub stream: Arc<BuildStream>,
    pub rt: tokio::runtime::Handle,
}

impl Job {
    /// Runs the build to its end; the outcome is on the stream.
    pub fn run(self, body: impl Read) {
        match self.build(body) {
            Ok((id, tags)) => {
                self.stream.success(&id, &tags);
            }
            Err((e, code)) => self.stream.fail(e, code),
        }
    }

    fn build(&self, body: impl Read) -> Result<(String, Vec<String>), (ApiError, Option<i64>)> {
        let plain = |e: String| (ApiError::invalid(e), None);
        let mut timer = crate::trace::PhaseTimer::new("build");
        let work = WorkDir(self.m.work_root().join(berth_store::unique_name("job")));
        let ctx = work.0.join("context");
        std::fs::create_dir_all(&ctx).map_err(|e| (ApiError::internal(format!("creating the build directory: {e}")), None))?;
        match &self.req.remote {
            None => context::unpack(body, &ctx).map_err(plain)?,
            Some(url) => {
                let f = super::fetch::fetch(&self.rt, url, &work.0).map_err(|e| plain(format!("downloading the build context: {e}")))?;
                context::from_download(&f.path, &ctx, &self.req.dockerfile).map_err(plain)?;
            }
        }
        timer.mark("context");
        let secrets = self.take_secrets(&ctx, &work.0).map_err(plain)?;
        let (dockerfile_path, dockerfile) = context::read_dockerfile(&ctx, &self.req.dockerfile).map_err(plain)?;
        context::apply_ignore(&ctx, &dockerfile_path).map_err(plain)?;
        timer.mark("dockerignore");
        let host = JobHost {
            m: self.m.clone(),
            stream: self.stream.clone(),
            rt: self.rt.clone(),
            work: work.0.clone(),
            auth: self.auth.clone(),
            network: self.req.network.clone(),
            cache_scope: self.cache_scope(),
        };
        let opts = berth_build::BuildOptions {
            dockerfile,
            dockerfile_path,
            context: ctx,
            build_args: self.req.build_args.clone(),
            target: self.req.target.clone(),
            no_cache: self.req.no_cache,
            pull: self.req.pull,
            labels: self.req.labels.clone(),
            network: self.req.network.clone(),
            platform: self.req.platform.clone(),
            extra_hosts: self.req.extra_hosts.clone(),
            shm_size: self.req.shm_size,
            secrets,
        };
        let result = berth_build::build(&host, &opts, self.stream.as_ref()).map_err(|e| {
            if let Some(line) = e.line() {
                self.stream.failed_at(super::messages::At { line, instruction: e.instruction().map(str::to_string) });
            }
            super::errors::describe(&e)
        })?;
        timer.mark("steps");
        self.stream.aux_id(&result.image_id);
        let mut tagged = Vec::new();
        for t in &self.req.tags {
            self.m.images.tag(&result.image_id, t).map_err(|e| (crate::error::image_error(e), None))?;
            let name = t.familiar_string();
            let mut attrs = BTreeMap::new();
            attrs.insert("name".to_string(), name.clone());
            self.m.events.emit("image", "tag", &result.image_id, attrs);
            tagged.push(name);
        }
        timer.mark("tags");
        drop(work);
        timer.mark("cleanup");
        timer.finish();
        Ok((result.image_id, tagged))
    }

    /// Moves the secrets the CLI sent out of the context, so no COPY can
    /// reach them; returns id → file.
    fn take_secrets(&self, ctx: &Path, work: &Path) -> Result<BTreeMap<String, PathBuf>, String> {
        let mut out = BTreeMap::new();
        if self.req.secrets.is_empty() {
            return Ok(out);
        }
        let src = ctx.join(SECRETS_DIR);
        let dest = work.join("secrets");
        std::fs::rename(&src, &dest).map_err(|e| format!("the secrets the client named are not in the context: {e}"))?;
        for id in &self.req.secrets {
            let p = dest.join(id);
            let ok = !id.contains('/') && p.symlink_metadata().is_ok_and(|m| m.is_file());
            if !ok {
                return Err(format!("secret {id}: not sent by the client"));
            }
            out.insert(id.clone(), p);
        }
        Ok(out)
    }

    /// `--cache-from`: the named images and their parent chains.
    fn cache_scope(&self) -> Option<HashSet<String>> {
        if self.req.cache_from.is_empty() {
            return None;
        }
        let mut ids = HashSet::new();
        for name in &self.req.cache_from {
            let mut next = self.m.images.resolve(name).ok();
            while let Some(img) = next.take() {
                if !ids.insert(img.id.to_string()) {
                    break;
                }
                next = self.m.images.parent_of(&img).and_then(|p| self.m.images.resolve(&p.to_string()).ok());
            }
        }
        Some(ids)
    }
}
