//! `berth cp`: copy between a container and the local filesystem, or a tar
//! stream (`-`) on stdin/stdout. As in the docker CLI, the path logic (a
//! directory or its contents with `/.`, trailing slashes, renaming on the
//! way) happens here; the daemon only stats, archives and extracts. Local
//! tars are written and read with berth-store's fd-relative walkers, so a
//! hostile archive cannot write outside the destination here either.

use anyhow::{bail, Context};
use berth_api::archive::PathStat;
use berth_client::{Client, RequestBody, ResponseStream};
use bytes::Bytes;
use std::io::{IsTerminal, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long = "archive")]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached
    #[arg(short = 'q', long)]
    pub quiet: bool,
    pub src: String,
    pub dest: String,
}

/// `CONTAINER:PATH` or a local path (absolute, or with no colon before a `.`-led name).
fn split(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.starts_with('.') => (Some(c), p),
        _ => (None, arg),
    }
}

fn has_trailing_sep(p: &str) -> bool {
    p.ends_with('/')
}

fn specifies_current_dir(p: &str) -> bool {
    p == "." || p.ends_with("/.")
}

/// Docker's `SplitPathDirEntry`: (directory, base) with `/.` kept as the base `.`.
fn split_dir_entry(p: &str) -> (String, String) {
    let mut cleaned = clean(p);
    if specifies_current_dir(p) {
        cleaned.push_str("/.");
    }
    match cleaned.rsplit_once('/') {
        Some(("", b)) => ("/".into(), b.into()),
        Some((d, b)) => (d.into(), b.into()),
        None => (".".into(), cleaned),
    }
}

/// Lexical clean (Go's `filepath.Clean`).
fn clean(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| *l != "..") => {
                out.pop();
            }
            ".." if abs => {}
            c => out.push(c),
        }
    }
    let s = out.join("/");
    match (abs, s.is_empty()) {
        (true, _) => format!("/{s}"),
        (false, true) => ".".into(),
        (false, false) => s,
    }
}

fn base(p: &str) -> String {
    split_dir_entry(p).1
}

fn local_abs(p: &str) -> anyhow::Result<String> {
    if p.starts_with('/') {
        return Ok(p.to_string());
    }
    let cwd = std::env::current_dir()?;
    let mut s = cwd.join(p).to_string_lossy().into_owned();
    // `Path::join` drops a trailing `/.`-ness only if p is empty; keep docker's markers.
    if (has_trailing_sep(p) || specifies_current_dir(p)) && !s.ends_with('/') && !s.ends_with("/.") {
        s.push('/');
    }
    Ok(s)
}

/// What the far side looks like (docker's `CopyInfo`).
struct Info {
    path: String,
    exists: bool,
    is_dir: bool,
    rebase: Option<String>,
}

/// Docker's `PrepareArchiveCopy`: where to extract, and the rename of the top entry.
fn prepare(src: &Info, dst: &Info) -> anyhow::Result<(String, Option<(String, String)>)> {
    let (dst_dir, dst_base) = split_dir_entry(&dst.path);
    // The tar's entries are named after the path asked for; one rename takes them
    // straight to the destination's name (docker renames twice with -L).
    let src_base = base(&src.path);
    if dst.exists && dst.is_dir {
        return Ok((dst.path.clone(), src.rebase.clone().map(|r| (base(&src.path), r))));
    }
    if dst.exists && src.is_dir {
        bail!("cannot copy directory");
    }
    if !dst.exists && !src.is_dir && (has_trailing_sep(&dst.path) || specifies_current_dir(&dst.path)) {
        bail!("no such directory");
    }
    Ok((dst_dir, Some((src_base, dst_base))))
}

fn rebase_name(name: &str, old: &str, new: &str) -> Option<String> {
    let name_t = name.trim_end_matches('/');
    if name_t == old {
        return Some(name.replacen(old, new, 1));
    }
    name.strip_prefix(old).filter(|r| r.starts_with('/')).map(|r| format!("{new}{r}"))
}

/// Copies a tar, renaming entries under `old` to `new` (docker's `RebaseArchiveEntries`).
fn rebase_tar(r: impl Read, old: &str, new: &str, w: impl Write) -> std::io::Result<()> {
    let mut ar = tar::Archive::new(r);
    let mut b = tar::Builder::new(w);
    for e in ar.entries()? {
        let mut e = e?;
        let name = e.path()?.to_string_lossy().into_owned();
        let name = rebase_name(&name, old, new).unwrap_or(name);
        let mut h = e.header().clone();
        match h.entry_type() {
            tar::EntryType::Link | tar::EntryType::Symlink => {
                let mut link = e.link_name()?.map(|l| l.to_string_lossy().into_owned()).unwrap_or_default();
                if h.entry_type() == tar::EntryType::Link {
                    link = rebase_name(&link, old, new).unwrap_or(link);
                }
                b.append_link(&mut h, &name, &link)?;
            }
            _ => b.append_data(&mut h, &name, &mut e)?,
        }
    }
    b.into_inner()?.flush()
}

/// A blocking `Read` over a response body, for the extractor's thread.
struct BlockingBody {
    stream: ResponseStream,
    rt: tokio::runtime::Handle,
    cur: Bytes,
    total: u64,
}

impl Read for BlockingBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rt.block_on(self.stream.chunk()).map_err(std::io::Error::other)? {
                Some(c) => self.cur = c,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur = self.cur.slice(n..);
        self.total += n as u64;
        Ok(n)
    }
}

fn progress(quiet: bool, size: u64, dest: &str) {
    if !quiet && std::io::stderr().is_terminal() {
        eprintln!("Successfully copied {} to {dest}", crate::format::size::human_size(size as f64));
    }
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    match (split(&args.src), split(&args.dest)) {
        ((Some(_), _), (Some(_), _)) => bail!("copying between containers is not supported"),
        ((None, _), (None, _)) => bail!("must specify at least one container source"),
        ((Some(c), p), (None, d)) => from_container(client, &args, c, p, d).await,
        ((None, s), (Some(c), p)) => to_container(client, &args, s, c, p).await,
    }
}

async fn from_container(client: &Client, args: &Args, container: &str, src: &str, dst: &str) -> anyhow::Result<()> {
    let dst = if dst == "-" { dst.to_string() } else { local_abs(dst)? };
    if dst != "-" {
        let parent = clean(&dst).rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default();
        if !parent.is_empty() && !Path::new(&parent).exists() {
            bail!("invalid output path: directory {parent:?} does not exist");
        }
    }
    let mut src_path = src.to_string();
    let mut rebase = None;
    if args.follow_link {
        if let Ok(st) = client.container_stat_path(container, &src_path).await {
            if st.is_symlink() {
                let mut target = st.link_target.clone();
                if !target.starts_with('/') {
                    target = format!("{}/{target}", split_dir_entry(&src_path).0);
                }
                if specifies_current_dir(&src_path) && !specifies_current_dir(&target) {
                    target.push_str("/.");
                } else if has_trailing_sep(&src_path) && !has_trailing_sep(&target) {
                    target.push('/');
                }
                if base(&src_path) != base(&target) {
                    rebase = Some(base(&src_path));
                }
                src_path = target;
            }
        }
    }
    let (stat, stream): (PathStat, ResponseStream) = client.copy_from_container(container, &src_path).await?;
    if dst == "-" {
        let mut out = std::io::stdout().lock();
        let mut stream = stream;
        while let Some(chunk) = stream.chunk().await? {
            out.write_all(&chunk)?;
        }
        return Ok(out.flush()?);
    }
    let src_info = Info { path: src_path.clone(), exists: true, is_dir: stat.is_dir(), rebase };
    let meta = std::fs::metadata(&dst);
    let dst_info = Info { path: dst.clone(), exists: meta.is_ok(), is_dir: meta.map(|m| m.is_dir()).unwrap_or(false), rebase: None };
    let (dst_dir, renames) = prepare(&src_info, &dst_info)?;
    let rt = tokio::runtime::Handle::current();
    let size = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let dir = std::fs::File::open(&dst_dir).with_context(|| format!("open {dst_dir}"))?;
        let mut body = BlockingBody { stream, rt, cur: Bytes::new(), total: 0 };
        // Local files belong to the user running cp, as docker's NoLchown.
        // SAFETY: geteuid/getegid have no preconditions.
        let me = unsafe { (libc::geteuid(), libc::getegid()) };
        let opts = berth_store::ExtractOptions { no_overwrite_dir_non_dir: true, chown: Some(me) };
        match renames {
            Some((old, new)) if old != new => {
                let (r, w) = std::io::pipe()?;
                let t = std::thread::spawn(move || {
                    let res = rebase_tar(&mut body, &old, &new, w);
                    (res, body.total)
                });
                let res = berth_store::extract_into(&dir, r, opts);
                let (rb, total) = t.join().map_err(|_| anyhow::anyhow!("rebase thread panicked"))?;
                res?;
                rb?;
                Ok(total)
            }
            _ => {
                berth_store::extract_into(&dir, &mut body, opts)?;
                Ok(body.total)
            }
        }
    })
    .await??;
    progress(args.quiet, size, &dst);
    Ok(())
}

async fn to_container(client: &Client, args: &Args, src: &str, container: &str, dst: &str) -> anyhow::Result<()> {
    let mut dst_info = Info { path: dst.to_string(), exists: false, is_dir: false, rebase: None };
    let mut stat = client.container_stat_path(container, dst).await;
    if let Ok(st) = &stat {
        if st.is_symlink() {
            let mut target = st.link_target.clone();
            if !target.starts_with('/') {
                target = format!("{}/{target}", split_dir_entry(dst).0);
            }
            dst_info.path = target.clone();
            stat = client.container_stat_path(container, &target).await;
        }
    }
    if let Ok(st) = &stat {
        (dst_info.exists, dst_info.is_dir) = (true, st.is_dir());
    }
    if src == "-" {
        if !dst_info.is_dir {
            bail!("destination \"{container}:{dst}\" must be a directory");
        }
        let body = RequestBody::Stream(Box::new(tokio::io::stdin()));
        client.copy_to_container(container, &dst_info.path, body, args.archive).await?;
        return Ok(());
    }
    let src_abs = local_abs(src)?;
    let md = if args.follow_link { std::fs::metadata(&src_abs) } else { std::fs::symlink_metadata(&src_abs) };
    let md = md.map_err(|e| anyhow::anyhow!("lstat {}: {}", clean(&src_abs), go_error_text(&e)))?;
    let src_info = Info { path: src_abs.clone(), exists: true, is_dir: md.is_dir(), rebase: None };
    let (dst_dir, renames) = prepare(&src_info, &dst_info)?;
    let name = match renames {
        Some((_, new)) => new,
        None => base(&src_abs),
    };
    let top = open_local(&src_abs, args.follow_link)?;
    let (r, w) = std::io::pipe()?;
    let counted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c2 = counted.clone();
    let writer = std::thread::spawn(move || berth_store::archive_entry(&top, &name, Counting { w, n: c2 }));
    let reader = tokio::fs::File::from_std(std::fs::File::from(OwnedFd::from(r)));
    let res = client.copy_to_container(container, &dst_dir, RequestBody::Stream(Box::new(reader)), args.archive).await;
    let wrote = writer.join().map_err(|_| anyhow::anyhow!("archive thread panicked"))?;
    res?;
    wrote?;
    progress(args.quiet, counted.load(std::sync::atomic::Ordering::Relaxed), &format!("{container}:{dst}"));
    Ok(())
}

/// An OS error as Go prints it ("no such file or directory").
fn go_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = s.split(" (os error").next().unwrap_or(&s);
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default()
}

struct Counting<W> {
    w: W,
    n: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.w.write(b)?;
        self.n.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// An O_PATH descriptor of the local source (its final symlink kept unless `follow`).
fn open_local(path: &str, follow: bool) -> anyhow::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let p = PathBuf::from(clean(path));
    let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | nofollow)
        .open(&p)
        .with_context(|| format!("open {}", p.display()))?;
    Ok(f.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(path: &str, exists: bool, is_dir: bool) -> Info {
        Info { path: path.into(), exists, is_dir, rebase: None }
    }

    #[test]
    fn docker_copy_rules() {
        let p = |s, d| prepare(&s, &d).map_err(|e| e.to_string());
        assert_eq!(p(info("/h/f", true, false), info("/c/dir", true, true)), Ok(("/c/dir".into(), None)));
        assert_eq!(p(info("/h/f", true, false), info("/c/new", false, false)), Ok(("/c".into(), Some(("f".into(), "new".into())))));
        assert_eq!(p(info("/h/d/.", true, true), info("/c/new", false, false)), Ok(("/c".into(), Some((".".into(), "new".into())))));
        assert_eq!(p(info("/h/d", true, true), info("/c/file", true, false)), Err("cannot copy directory".into()));
        assert_eq!(p(info("/h/f", true, false), info("/c/nodir/", false, false)), Err("no such directory".into()));
        assert_eq!(split("c:/x"), (Some("c"), "/x"));
        assert_eq!(split("/a:b"), (None, "/a:b"));
        assert_eq!(split("./a:b"), (None, "./a:b"));
        assert_eq!(split_dir_entry("/etc/."), ("/etc".into(), ".".into()));
        assert_eq!(split_dir_entry("/etc/"), ("/".into(), "etc".into()));
        assert_eq!(rebase_name("./a/b", ".", "new").as_deref(), Some("new/a/b"));
        assert_eq!(rebase_name("d/", "d", "e").as_deref(), Some("e/"));
        assert_eq!(rebase_name("dd/x", "d", "e"), None);
    }
}
