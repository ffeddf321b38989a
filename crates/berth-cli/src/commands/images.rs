//! `berth images`: list images as docker's image formatter does, one row
//! per repository:tag (or digest), `<none>` for what has neither.

use crate::format::template::Format;
use crate::format::{duration, size, truncate_id};
use crate::reference::Reference;
use berth_api::image::ImageSummary;
use berth_client::{Client, Filters, Query};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const DEFAULT_FORMAT: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const DIGEST_FORMAT: &str = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all images (default hides intermediate images)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long)]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Only list images matching this reference
    pub reference: Option<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let mut filters = Filters::new();
    for f in &args.filter {
        filters.add_arg(f).map_err(anyhow::Error::msg)?;
    }
    if let Some(r) = &args.reference {
        filters.add("reference", r);
    }
    let q = Query::new().flag("all", args.all).filters(&filters);
    let list: Vec<ImageSummary> = client.get_json("/images/json", &q).await?;
    let format_text = match args.format.as_deref() {
        None | Some("") | Some("table") if args.quiet => "{{.ID}}",
        None | Some("") | Some("table") if args.digests => DIGEST_FORMAT,
        None | Some("") | Some("table") => DEFAULT_FORMAT,
        Some(f) => f,
    };
    let show_digests = args.digests || format_text.contains(".Digest");
    let format = Format::parse(format_text)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let rows: Vec<Value> = list.iter().flat_map(|i| rows(i, !args.no_trunc, show_digests, now)).collect();
    print!("{}", format.render(&header(), &rows)?);
    Ok(())
}

pub fn header() -> Value {
    json!({
        "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED",
        "CreatedAt": "CREATED AT", "Size": "SIZE", "Digest": "DIGEST", "Containers": "CONTAINERS",
        "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE",
    })
}

/// The rows docker's `imageFormat` produces for one image.
pub fn rows(img: &ImageSummary, trunc: bool, digests: bool, now: f64) -> Vec<Value> {
    let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut by_digest: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in &img.repo_tags {
        if let Ok(r) = Reference::parse(t) {
            if let Some(tag) = r.tag.clone() {
                tags.entry(r.familiar_name()).or_default().push(tag);
            }
        }
    }
    for d in &img.repo_digests {
        if let Ok(r) = Reference::parse(d) {
            if let Some(dg) = r.digest.clone() {
                by_digest.entry(r.familiar_name()).or_default().push(dg);
            }
        }
    }
    let mut out = Vec::new();
    for (repo, repo_tags) in &tags {
        let ds = by_digest.remove(repo).unwrap_or_default();
        for tag in repo_tags {
            if !digests || ds.is_empty() {
                out.push(row(img, repo, tag, "<none>", trunc, now));
            } else {
                for d in &ds {
                    out.push(row(img, repo, tag, d, trunc, now));
                }
            }
        }
    }
    for (repo, ds) in &by_digest {
        if digests {
            for d in ds {
                out.push(row(img, repo, "<none>", d, trunc, now));
            }
        } else {
            out.push(row(img, repo, "<none>", "<none>", trunc, now));
        }
    }
    if out.is_empty() {
        out.push(row(img, "<none>", "<none>", "<none>", trunc, now));
    }
    out
}

fn row(img: &ImageSummary, repo: &str, tag: &str, digest: &str, trunc: bool, now: f64) -> Value {
    let mut m = Map::new();
    let s = |v: String| Value::String(v);
    m.insert("Repository".into(), s(repo.to_string()));
    m.insert("Tag".into(), s(tag.to_string()));
    m.insert("Digest".into(), s(digest.to_string()));
    m.insert("ID".into(), s(if trunc { truncate_id(&img.id) } else { img.id.clone() }));
    m.insert("CreatedSince".into(), s(format!("{} ago", duration::human_duration(now - img.created as f64))));
    m.insert("CreatedAt".into(), s(duration::go_time_string(img.created)));
    m.insert("Size".into(), s(size::image_size(img.size)));
    m.insert("VirtualSize".into(), s(size::image_size(img.size)));
    m.insert("SharedSize".into(), s(if img.shared_size < 0 { "N/A".into() } else { size::image_size(img.shared_size) }));
    m.insert("UniqueSize".into(), s(if img.shared_size < 0 { "N/A".into() } else { size::image_size(img.size - img.shared_size) }));
    m.insert("Containers".into(), s(if img.containers < 0 { "N/A".into() } else { img.containers.to_string() }));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img() -> ImageSummary {
        ImageSummary {
            id: "sha256:af4709625109deadbeefdeadbeef".into(),
            repo_tags: vec!["busybox:latest".into(), "docker.io/library/busybox:1.36".into()],
            repo_digests: vec!["busybox@sha256:abc".into()],
            created: 0,
            size: 4_261_234,
            ..Default::default()
        }
    }

    #[test]
    fn renders_docker_table() {
        let now = 3.0 * 7.0 * 86400.0;
        let rows = rows(&img(), true, false, now);
        let out = Format::parse(DEFAULT_FORMAT).unwrap().render(&header(), &rows).unwrap();
        let want = "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n\
                    busybox      latest    af4709625109   3 weeks ago   4.26MB\n\
                    busybox      1.36      af4709625109   3 weeks ago   4.26MB\n";
        assert_eq!(out, want);
    }

    #[test]
    fn dangling_and_digest_rows() {
        let dangling = ImageSummary { id: "sha256:0123456789abcdef".into(), ..Default::default() };
        let r = rows(&dangling, true, false, 0.0);
        assert_eq!((r[0]["Repository"].as_str(), r[0]["Tag"].as_str()), (Some("<none>"), Some("<none>")));
        let r = rows(&img(), false, true, 0.0);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0]["Digest"], "sha256:abc");
        assert_eq!(r[0]["ID"], "sha256:af4709625109deadbeefdeadbeef");
        let only_digest = ImageSummary { repo_digests: vec!["busybox@sha256:abc".into()], ..Default::default() };
        let r = rows(&only_digest, true, false, 0.0);
        assert_eq!((r[0]["Repository"].as_str(), r[0]["Tag"].as_str()), (Some("busybox"), Some("<none>")));
    }
}
