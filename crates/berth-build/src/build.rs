//! One build: parse, meta ARGs, plan the stages the target needs, run independent stages
//! in parallel (their output kept in file order), label the result, warn about unused
//! build args.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

use crate::args::{is_builtin, BuildArgs};
use crate::error::BuildError;
use crate::events::Ordered;
use crate::executor::{kv, step_err, Ctx, StageOut, StageRun};
use crate::expand::{self, Vars};
use crate::host::{BuildEvents, BuildHost};
use crate::options::{BuildOptions, BuildResult};
use crate::parse::{self, Instr, Step};
use crate::stage;

pub fn build(host: &dyn BuildHost, opts: &BuildOptions, ev: &dyn BuildEvents) -> Result<BuildResult, BuildError> {
    let mut df = parse::parse(&opts.dockerfile)?;
    if let Some(s) = &df.syntax {
        ev.warning(&format!(
            "[Warning] the \"# syntax={s}\" directive is ignored: berth builds with its own Dockerfile frontend"
        ));
    }
    let referenced = Mutex::new(BTreeSet::new());
    let mut global = BuildArgs::new(opts.build_args.clone());
    for (k, v) in platform_args(opts.platform.as_deref()) {
        global.add_arg(&k, Some(v.clone()));
        global.add_meta(&k, Some(v));
    }

    // Meta ARGs are steps of their own in the classic builder's count.
    let meta_vars = |g: &BuildArgs| Vars::from_env(&kv(g.all_meta()));
    let plan_meta = {
        let mut g = global.clone();
        for st in &df.meta_args {
            if let Instr::Arg(pairs) = &st.instr {
                let allowed = Vars::from_env(&kv(g.all_allowed()));
                for (k, v) in pairs {
                    let v = v.as_ref().map(|v| expand::process_word(v, &allowed, df.escape).unwrap_or_default());
                    g.add_arg(k, v.clone());
                    g.add_meta(k, v);
                }
            }
        }
        meta_vars(&g)
    };
    let plan = stage::plan(&df, opts.target.as_deref(), &plan_meta)?;

    // `--label`: one LABEL step each on the target, as the classic builder adds them.
    for (k, v) in &opts.labels {
        let target = &mut df.stages[plan.target];
        target.steps.push(Step {
            line: target.steps.last().map(|s| s.line).unwrap_or(target.line),
            text: format!("LABEL {k}={v}"),
            instr: Instr::BuildLabel(vec![(k.clone(), v.clone())]),
        });
    }

    let total = df.meta_args.len() + plan.order.iter().map(|&i| 1 + df.stages[i].steps.len()).sum::<usize>();
    let mut n = 1;
    for st in &df.meta_args {
        ev.step(n, total, &st.text);
        n += 1;
        if let Instr::Arg(pairs) = &st.instr {
            // All values of one ARG line expand before any is set (dockerd's order).
            let allowed = Vars::from_env(&kv(global.all_allowed()));
            for (k, v) in pairs {
                let v = match v {
                    Some(v) => Some(expand::process_word(v, &allowed, df.escape).map_err(|e| step_err(st.line, e))?),
                    None => None,
                };
                global.add_arg(k, v.clone());
                global.add_meta(k, v);
                referenced.lock().unwrap_or_else(|p| p.into_inner()).insert(k.clone());
            }
        }
    }
    let mut first_step = Vec::new();
    for &i in &plan.order {
        first_step.push(n);
        n += 1 + df.stages[i].steps.len();
    }

    let results = Mutex::new(BTreeMap::new());
    let ctx = Ctx { host, opts, df: &df, results: &results, referenced: &referenced, global_args: &global };
    let ordered = Ordered::new(ev, plan.order.len());
    let failed = AtomicBool::new(false);
    let wake = Condvar::new();
    let errors: Mutex<BTreeMap<usize, BuildError>> = Mutex::new(BTreeMap::new());

    std::thread::scope(|scope| {
        for (pos, &ix) in plan.order.iter().enumerate() {
            let (ctx, ordered, failed, wake, errors, plan, first) =
                (&ctx, &ordered, &failed, &wake, &errors, &plan, first_step[pos]);
            scope.spawn(move || {
                let sev = ordered.at(pos);
                let deps = plan.deps.get(&ix).cloned().unwrap_or_default();
                // Wait for the stages this one uses.
                {
                    let mut r = ctx.results.lock().unwrap_or_else(|p| p.into_inner());
                    while !deps.iter().all(|d| r.contains_key(d)) {
                        if failed.load(Ordering::SeqCst) {
                            ordered.finish(pos);
                            return;
                        }
                        r = wake.wait(r).unwrap_or_else(|p| p.into_inner());
                    }
                }
                let outcome = run_stage(ctx, &sev, ix, first, total, failed);
                match outcome {
                    Ok(Some(out)) => {
                        ctx.results.lock().unwrap_or_else(|p| p.into_inner()).insert(ix, out);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        failed.store(true, Ordering::SeqCst);
                        errors.lock().unwrap_or_else(|p| p.into_inner()).insert(pos, e);
                    }
                }
                // Take the lock so no waiter misses the wake-up between its check and wait.
                drop(ctx.results.lock().unwrap_or_else(|p| p.into_inner()));
                wake.notify_all();
                ordered.finish(pos);
            });
        }
    });

    if let Some((_, e)) = errors.into_inner().unwrap_or_else(|p| p.into_inner()).into_iter().next() {
        return Err(e);
    }
    let out = results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&plan.target)
        .and_then(|o| o.image);
    let Some(image_id) = out else {
        return Err(step_err(df.stages[plan.target].line, "No image was generated. Is your Dockerfile empty?"));
    };

    let used = referenced.into_inner().unwrap_or_else(|p| p.into_inner());
    let unused: Vec<String> = global
        .option_keys()
        .filter(|k| !used.contains(*k) && !is_builtin(k))
        .cloned()
        .collect();
    if !unused.is_empty() {
        ev.warning(&format!("[Warning] One or more build-args [{}] were not consumed", unused.join(" ")));
    }
    Ok(BuildResult { image_id })
}

/// Runs stage `ix`; `Ok(None)` when it stopped because another stage failed.
fn run_stage(
    ctx: &Ctx<'_>,
    ev: &dyn BuildEvents,
    ix: usize,
    first: usize,
    total: usize,
    failed: &AtomicBool,
) -> Result<Option<StageOut>, BuildError> {
    let st = &ctx.df.stages[ix];
    ev.step(first, total, &st.text);
    let mut run = StageRun::start(ctx, ev, st).map_err(|e| with_text(e, &st.text))?;
    for (k, step) in st.steps.iter().enumerate() {
        if failed.load(Ordering::SeqCst) {
            return Ok(None);
        }
        ev.step(first + 1 + k, total, &step.text);
        run.dispatch(step).map_err(|e| with_text(e, &step.text))?;
    }
    Ok(Some(StageOut { image: run.image, cfg: run.cfg }))
}

fn with_text(e: BuildError, instr: &str) -> BuildError {
    match e {
        BuildError::Step { line, message, text } if text.is_empty() => {
            BuildError::Step { line, message, text: instr.to_string() }
        }
        other => other,
    }
}

/// BuildKit's automatic platform args (BUILDPLATFORM, TARGETARCH...): usable in FROM and
/// global ARGs, and in a stage that declares them with a bare `ARG TARGETARCH`.
fn platform_args(target: Option<&str>) -> Vec<(String, String)> {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let build = format!("linux/{arch}");
    let target = target.filter(|t| !t.is_empty()).unwrap_or(&build).to_string();
    let mut out = Vec::new();
    for (prefix, p) in [("BUILD", &build), ("TARGET", &target)] {
        let mut parts = p.split('/');
        let os = parts.next().unwrap_or("linux").to_string();
        let a = parts.next().unwrap_or(arch).to_string();
        let variant = parts.next().unwrap_or("").to_string();
        out.push((format!("{prefix}PLATFORM"), p.clone()));
        out.push((format!("{prefix}OS"), os));
        out.push((format!("{prefix}ARCH"), a));
        out.push((format!("{prefix}VARIANT"), variant));
    }
    out
}
