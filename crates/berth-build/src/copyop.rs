//! COPY and ADD as steps: expansion, sources (context, stage, image, URL, heredoc), the
//! classic builder's history line (`COPY file:<hash> in /dst `) and the copy itself.

use std::path::PathBuf;

use berth_image::ContainerConfig;
use sha2::{Digest, Sha256};

use crate::chown;
use crate::config;
use crate::copy::{self, CopyOpts, Item, ItemKind, SourceError};
use crate::error::BuildError;
use crate::executor::{step_err, StageRun, Work};
use crate::expand::{self, Vars};
use crate::fsx::Owner;
use crate::history;
use crate::host::Snapshot;
use crate::parse::{flag_value, Flag, Source, Step};

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// A git remote as BuildKit recognises one for ADD (which it clones): a git or ssh
/// transport, `git@host:repo`, or an http(s) URL whose path ends in `.git`.
fn is_git_url(s: &str) -> bool {
    if s.starts_with("git://") || s.starts_with("git@") || s.starts_with("ssh://") {
        return true;
    }
    let path = s.split(['#', '?']).next().unwrap_or_default();
    is_url(s) && path.trim_end_matches('/').ends_with(".git")
}

/// A relative destination is under WORKDIR; a trailing `/` is kept.
fn normalize_dest(dest: &str, workdir: Option<&str>) -> String {
    if dest.starts_with('/') {
        return dest.to_string();
    }
    let mut out = crate::scope::clean(&format!("/{}/{dest}", workdir.unwrap_or("")));
    if (dest.ends_with('/') || dest == "." || dest.ends_with("/.")) && !out.ends_with('/') {
        out.push('/');
    }
    out
}

impl StageRun<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn copy(
        &mut self,
        step: &Step,
        is_add: bool,
        flags: &[Flag],
        srcs: &[Source],
        dest: &str,
        c: ContainerConfig,
        vars: &Vars,
    ) -> Result<(), BuildError> {
        let line = step.line;
        let name = if is_add { "ADD" } else { "COPY" };
        let opt = |k: &str| -> Result<Option<String>, BuildError> {
            flag_value(flags, k).map(|v| self.expand(line, &v, vars)).transpose()
        };
        let from = opt("from")?.filter(|f| !f.is_empty());
        let chown_spec = opt("chown")?.filter(|f| !f.is_empty());
        let chmod = opt("chmod")?
            .filter(|f| !f.is_empty())
            .map(|m| chown::parse_chmod(&m).map_err(|e| step_err(line, e)))
            .transpose()?;
        let checksum = opt("checksum")?.filter(|f| !f.is_empty());
        // BuildKit's --exclude (repeatable), --parents (COPY), --unpack (ADD).
        let mut excludes = Vec::new();
        for f in flags.iter().filter(|f| f.name == "exclude") {
            excludes.push(self.expand(line, f.value.as_deref().unwrap_or(""), vars)?);
        }
        let exclude = if excludes.is_empty() {
            None
        } else {
            let pats: Vec<String> = excludes.iter().map(|p| crate::ignore::parse_patterns(p).concat()).collect();
            Some(crate::ignore::Matcher::new(&pats).map_err(|e| step_err(line, e))?)
        };
        let bool_flag = |k: &str| -> Result<Option<bool>, BuildError> {
            match opt(k)? {
                None => Ok(None),
                Some(v) if v.is_empty() || v == "true" => Ok(Some(true)),
                Some(v) if v == "false" => Ok(Some(false)),
                Some(v) => Err(step_err(line, format!("expecting boolean value for flag {k}, not: {v}"))),
            }
        };
        let parents = bool_flag("parents")?.unwrap_or(false);
        let unpack_flag = bool_flag("unpack")?;
        let dest = self.expand(line, dest, vars)?;
        let target = normalize_dest(&dest, c.working_dir.as_deref());

        // Where local sources come from; the snapshot stays mounted until the copy is done.
        let (root, from_snap): (PathBuf, Option<Box<dyn Snapshot>>) = match &from {
            Some(f) => {
                let snap = self.mount_from(line, f)?;
                (snap.rootfs().to_path_buf(), Some(snap))
            }
            None => (self.ctx.opts.context.clone(), None),
        };
        let preserve = from.is_some() && chown_spec.is_none();
        let mut items: Vec<Item> = Vec::new();
        let mut pivots: Vec<String> = Vec::new();
        let mut any_excluded = false;
        for s in srcs {
            match s {
                Source::Heredoc { name: n, content, expand: exp } => {
                    let content = if *exp {
                        expand::process_heredoc(content, vars, '\\').map_err(|e| step_err(line, e))?
                    } else {
                        content.clone()
                    };
                    pivots.push(String::new());
                    items.push(Item { name: n.clone(), kind: ItemKind::Bytes { content: content.into_bytes(), mode: 0o644, mtime: None } });
                }
                Source::Path(p) => {
                    let p = self.expand(line, p, vars)?;
                    if is_add && is_git_url(&p) {
                        return Err(step_err(
                            line,
                            format!("ADD failed: {p} is a git repository, and berth does not clone git repositories; clone it into the build context and COPY it"),
                        ));
                    }
                    if is_url(&p) {
                        if !is_add {
                            return Err(step_err(line, format!("{name} failed: source can't be a URL for COPY")));
                        }
                        items.push(self.fetch(line, &p, &dest, checksum.as_deref())?);
                        pivots.push(String::new());
                        continue;
                    }
                    if checksum.is_some() {
                        return Err(step_err(line, "checksum can't be specified for non-HTTP(S) sources"));
                    }
                    let unpack = is_add && from.is_none() && unpack_flag != Some(false);
                    let found = copy::select(&root, &p, unpack).map_err(|e| match e {
                        SourceError::NotFound(rel) if from.is_none() => step_err(
                            line,
                            format!("{name} failed: file not found in build context or excluded by .dockerignore: stat {rel}: file does not exist"),
                        ),
                        SourceError::NotFound(rel) => step_err(line, format!("{name} failed: stat {rel}: file does not exist")),
                        SourceError::Other(m) => step_err(line, format!("{name} failed: {m}")),
                    })?;
                    // --parents keeps the path after a `/./` pivot (or all of it).
                    let pivot = p.find("/./").map(|i| crate::scope::clean(&format!("/{}", &p[..i]))).unwrap_or_default();
                    // A file source (named or matched by a wildcard) is excluded by its
                    // path in the root, as BuildKit's reference describes `--exclude`
                    // (BuildKit itself copies it anyway: moby/buildkit#5489). A directory
                    // source is always copied; the patterns apply to what is inside it.
                    for it in found {
                        if let (Some(m), ItemKind::Path { rel, abs, .. }) = (&exclude, &it.kind) {
                            if !abs.is_dir() && m.excluded(rel) {
                                any_excluded = true;
                                continue;
                            }
                        }
                        pivots.push(pivot.clone());
                        items.push(it);
                    }
                }
            }
        }
        // Every source excluded: nothing to copy, and no error (BuildKit's empty wildcard).
        if items.is_empty() && !any_excluded {
            return Err(step_err(line, format!("{name} failed: no source files were specified")));
        }
        if items.len() > 1 && !dest.ends_with('/') {
            return Err(step_err(
                line,
                format!("When using {name} with more than one source file, the destination must be a directory and end with a /"),
            ));
        }
        let mut hashes = Vec::new();
        for it in &items {
            hashes.push(copy::hash_item(it, exclude.as_ref()).map_err(|e| step_err(line, format!("{name} failed: {e}")))?);
        }
        let src_hash = if hashes.len() == 1 {
            hashes[0].clone()
        } else {
            format!("multi:{}", hex::encode(Sha256::digest(hashes.join(",").as_bytes())))
        };
        // dockerd writes no space between the flag and the source hash
        // (`COPY --chown=101:101dir:… in /x `): history matches it byte for byte.
        let chown_comment = chown_spec.as_ref().map(|s| format!("--chown={s}")).unwrap_or_default();
        let shell = config::shell_of(&c);
        let created_by = history::nop_single(&shell, &format!("{name} {chown_comment}{src_hash} in {dest} "));
        let extra = vec![
            format!("chmod={chmod:?}"),
            format!("preserve={preserve}"),
            format!("target={target}"),
            format!("exclude={excludes:?}"),
            format!("parents={parents}"),
            format!("unpack={unpack_flag:?}"),
        ];
        let write = move |rootfs: &std::path::Path| -> Result<(), String> {
            let _keep = &from_snap;
            let owner = match &chown_spec {
                Some(s) => {
                    let (u, g) = chown::parse_chown(s, rootfs)
                        .map_err(|e| format!("unable to convert uid/gid chown string to host mapping: {e}"))?;
                    Owner::Set(u, g)
                }
                None if preserve => Owner::Preserve,
                None => Owner::Set(0, 0),
            };
            let o = CopyOpts { owner, chmod, unpack: is_add && unpack_flag != Some(false), exclude: exclude.as_ref() };
            for (it, pivot) in items.iter().zip(&pivots) {
                let dest = if parents { parents_dest(&target, it, pivot) } else { target.clone() };
                copy::copy_item(it, rootfs, &dest, o).map_err(|e| format!("failed to copy files: {e}"))?;
            }
            Ok(())
        };
        self.commit_step(line, created_by, c, Work::Write(Box::new(write)), &extra)
    }

    /// ADD <url>: downloaded by the host, kept in memory, mode 0600 as Docker leaves it.
    fn fetch(&self, line: usize, url: &str, dest: &str, checksum: Option<&str>) -> Result<Item, BuildError> {
        let f = self.ctx.host.fetch_url(url, self.ev).map_err(|e| step_err(line, e.message))?;
        let content = std::fs::read(&f.path).map_err(|e| step_err(line, format!("{url}: {e}")))?;
        if let Some(want) = checksum {
            let got = format!("sha256:{}", hex::encode(Sha256::digest(&content)));
            if !want.starts_with("sha256:") {
                return Err(step_err(line, format!("unsupported digest algorithm in {want}")));
            }
            if got != want {
                return Err(step_err(line, format!("digest mismatch {got}: {want}")));
            }
        }
        if f.file_name.is_empty() && dest.ends_with('/') {
            return Err(step_err(line, format!("ADD failed: cannot determine filename for source {url}")));
        }
        let mtime = f.last_modified.as_deref().and_then(http_date);
        Ok(Item { name: f.file_name, kind: ItemKind::Bytes { content, mode: 0o600, mtime } })
    }
}

/// `COPY --parents`: the source's path (after a `/./` pivot, if any) is kept under the
/// destination: a file goes into `dest/<its parent dirs>/`, a directory to `dest/<path>`.
fn parents_dest(target: &str, it: &Item, pivot: &str) -> String {
    let ItemKind::Path { rel, abs, .. } = &it.kind else {
        return target.to_string();
    };
    let full = crate::scope::clean(&format!("/{rel}"));
    let kept = full.strip_prefix(pivot).filter(|_| !pivot.is_empty() && pivot != "/").unwrap_or(&full).to_string();
    let sub = if abs.is_dir() {
        kept
    } else {
        kept.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default()
    };
    format!("{}/{}/", target.trim_end_matches('/'), sub.trim_start_matches('/'))
}

/// `Last-Modified` (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`): dockerd gives the
/// downloaded file that mtime.
fn http_date(s: &str) -> Option<std::time::SystemTime> {
    let mut it = s.split_whitespace().skip(1);
    let day: i64 = it.next()?.parse().ok()?;
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mon = it.next()?;
    let month = months.iter().position(|m| *m == mon)? as i64 + 1;
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|x| x.parse::<i64>().ok());
    let (h, mi, se) = (hms.next()??, hms.next()??, hms.next()??);
    let secs = berth_image::timestamp::parse_rfc3339(&format!("{year:04}-{month:02}-{day:02}T{h:02}:{mi:02}:{se:02}Z"))?;
    Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_remotes_are_told_from_downloads() {
        for g in ["git@github.com:moby/moby.git", "git://host/r", "ssh://git@host/r.git", "https://github.com/moby/moby.git", "https://h/r.git#main", "http://h/r.git/"] {
            assert!(is_git_url(g), "{g}");
        }
        for u in ["https://h/file.tar.gz", "http://127.0.0.1:8080/x", "https://h/dir.gitignore", "context/repo.git"] {
            assert!(!is_git_url(u), "{u}");
        }
    }

    #[test]
    fn last_modified() {
        let t = http_date("Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(t, Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(784111777)));
        assert_eq!(http_date("garbage"), None);
    }

    #[test]
    fn destinations() {
        assert_eq!(normalize_dest("/a/", Some("/w")), "/a/");
        assert_eq!(normalize_dest("x", Some("/w")), "/w/x");
        assert_eq!(normalize_dest("x/", Some("/w")), "/w/x/");
        assert_eq!(normalize_dest(".", Some("/w")), "/w/");
        assert_eq!(normalize_dest(".", None), "/");
    }
}
