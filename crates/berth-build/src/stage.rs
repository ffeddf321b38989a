//! The stage graph: which stages the target needs, in what order, and which can run side
//! by side. A stage depends on the stage its FROM names and on every stage a
//! `COPY --from` / `RUN --mount=from=` names (by name or index, as BuildKit resolves them).

use std::collections::BTreeMap;

use crate::error::BuildError;
use crate::expand::{self, Vars};
use crate::parse::{flag_value, Dockerfile, Instr};

/// A reference from one stage to another (or to an image).
pub fn stage_ref(df: &Dockerfile, name: &str) -> Option<usize> {
    let lower = name.to_lowercase();
    if let Some(s) = df.stages.iter().find(|s| s.name.as_deref() == Some(lower.as_str())) {
        return Some(s.index);
    }
    name.parse::<usize>().ok().filter(|i| *i < df.stages.len())
}

#[derive(Debug, Clone)]
pub struct Plan {
    /// Stages to build, in file order.
    pub order: Vec<usize>,
    /// Direct dependencies of each stage (indices into `Dockerfile::stages`).
    pub deps: BTreeMap<usize, Vec<usize>>,
    pub target: usize,
}

fn mount_from(spec: &str) -> Option<String> {
    spec.split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.trim() == "from")
        .map(|(_, v)| v.trim().to_string())
}

/// Dependencies of stage `i`. Values are expanded with the meta args (`--from=$X`).
fn deps_of(df: &Dockerfile, i: usize, meta: &Vars) -> Vec<(usize, usize)> {
    let st = &df.stages[i];
    let exp = |s: &str| expand::process_word(s, meta, df.escape).unwrap_or_else(|_| s.to_string());
    let mut out = Vec::new();
    // FROM names a stage only by name.
    let base = exp(&st.base).to_lowercase();
    if let Some(d) = df.stages.iter().find(|s| s.name.as_deref() == Some(base.as_str())) {
        out.push((d.index, st.line));
    }
    for step in &st.steps {
        let froms: Vec<String> = match &step.instr {
            Instr::Copy { flags, .. } => flag_value(flags, "from").into_iter().collect(),
            Instr::Run { flags, .. } => flags
                .iter()
                .filter(|f| f.name == "mount")
                .filter_map(|f| f.value.as_deref().and_then(mount_from))
                .collect(),
            _ => Vec::new(),
        };
        for f in froms {
            if let Some(d) = stage_ref(df, &exp(&f)) {
                out.push((d, step.line));
            }
        }
    }
    out
}

/// Plans the build for `target` (the last stage when None).
pub fn plan(df: &Dockerfile, target: Option<&str>, meta: &Vars) -> Result<Plan, BuildError> {
    let target_ix = match target {
        None => df.stages.len() - 1,
        Some(t) => {
            let lower = t.to_lowercase();
            df.stages
                .iter()
                .find(|s| s.name.as_deref() == Some(lower.as_str()))
                .map(|s| s.index)
                .ok_or_else(|| BuildError::UnknownTarget(t.to_string()))?
        }
    };
    let mut deps = BTreeMap::new();
    for i in 0..df.stages.len() {
        deps.insert(i, deps_of(df, i, meta));
    }
    // Depth-first from the target; a stage met again on the current path is a cycle.
    let mut state = vec![0u8; df.stages.len()]; // 0 new, 1 on path, 2 done
    let mut needed = Vec::new();
    fn visit(
        i: usize,
        deps: &BTreeMap<usize, Vec<(usize, usize)>>,
        state: &mut [u8],
        needed: &mut Vec<usize>,
        df: &Dockerfile,
    ) -> Result<(), BuildError> {
        state[i] = 1;
        for &(d, line) in deps.get(&i).map(Vec::as_slice).unwrap_or(&[]) {
            match state[d] {
                1 => {
                    let st = &df.stages[d];
                    return Err(BuildError::Cycle {
                        line,
                        stage: st.name.clone().unwrap_or_else(|| d.to_string()),
                    });
                }
                0 => visit(d, deps, state, needed, df)?,
                _ => {}
            }
        }
        state[i] = 2;
        needed.push(i);
        Ok(())
    }
    visit(target_ix, &deps, &mut state, &mut needed, df)?;
    needed.sort_unstable();
    let deps = needed
        .iter()
        .map(|&i| {
            let mut d: Vec<usize> = deps[&i].iter().map(|(d, _)| *d).collect();
            d.sort_unstable();
            d.dedup();
            (i, d)
        })
        .collect();
    Ok(Plan { order: needed, deps, target: target_ix })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn df(s: &str) -> Dockerfile {
        parse(s.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn skips_unneeded_and_orders() -> Result<(), BuildError> {
        let d = df("FROM a AS one\nFROM b AS two\nFROM c AS three\nCOPY --from=one x y\nFROM three AS four\nCOPY --from=0 a b\n");
        let p = plan(&d, None, &Vars::new())?;
        assert_eq!(p.order, vec![0, 2, 3]);
        assert_eq!(p.deps[&3], vec![0, 2]);
        let p = plan(&d, Some("TWO"), &Vars::new())?;
        assert_eq!(p.order, vec![1]);
        assert!(matches!(plan(&d, Some("nope"), &Vars::new()), Err(BuildError::UnknownTarget(t)) if t == "nope"));
        Ok(())
    }

    #[test]
    fn cycles_are_errors() {
        let d = df("FROM a AS x\nCOPY --from=y a b\nFROM a AS y\nCOPY --from=x a b\n");
        let e = plan(&d, None, &Vars::new()).err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("dockerfile parse error on line 2: circular dependency detected on stage: y"));
        let mut meta = Vars::new();
        meta.set("S", "x");
        let d = df("FROM a AS x\nFROM a AS z\nCOPY --from=$S a b\n");
        assert_eq!(plan(&d, None, &meta).map(|p| p.order).ok(), Some(vec![0, 1]));
    }
}
