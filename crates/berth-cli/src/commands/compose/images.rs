//! `berth compose images`: the image of each of the project's containers.

use super::session::{name_of, OneOff, Session};
use super::Global;
use crate::format::size::image_size;
use crate::format::template::Format;
use berth_api::image::ImageInspect;
use berth_client::{segment, Client, Query};
use serde_json::{json, Value};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format the output. Values: [table | json]
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only display IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

/// Repository and tag of an image: its first tag, else `<none>`.
fn repo_tag(img: &ImageInspect) -> (String, String) {
    match img.repo_tags.first().and_then(|t| t.rsplit_once(':').filter(|(_, tag)| !tag.contains('/'))) {
        Some((r, t)) => (r.to_string(), t.to_string()),
        None => ("<none>".into(), "<none>".into()),
    }
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = Session::load(client, global, &args.services)?;
    s.check_services(&args.services)?;
    let mut list = s.containers(true, OneOff::Include, &args.services).await?;
    list.sort_by(|a, b| name_of(a).cmp(name_of(b)));
    let mut rows: Vec<Value> = Vec::new();
    for c in &list {
        let img: ImageInspect = match client.get_json(&format!("/images/{}/json", segment(&c.image_id)), &Query::new()).await {
            Ok(i) => i,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e.into()),
        };
        let (repo, tag) = repo_tag(&img);
        let id = img.id.split_once(':').map_or(img.id.as_str(), |(_, h)| h).to_string();
        rows.push(json!({"ContainerName": name_of(c), "Repository": repo, "Tag": tag, "ID": id, "Size": img.size}));
    }
    if args.quiet {
        let mut seen: Vec<&str> = Vec::new();
        for r in &rows {
            let id = r["ID"].as_str().unwrap_or("");
            if !seen.contains(&id) {
                seen.push(id);
                println!("{id}");
            }
        }
        return Ok(());
    }
    match args.format.as_str() {
        "json" => println!("{}", serde_json::to_string(&rows)?),
        "" | "table" => {
            let shown: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r["ID"] = json!(r["ID"].as_str().unwrap_or("").chars().take(12).collect::<String>());
                    r["Size"] = json!(image_size(r["Size"].as_i64().unwrap_or(0)));
                    r
                })
                .collect();
            let header = json!({"ContainerName": "CONTAINER", "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Size": "SIZE"});
            let f = Format::parse("table {{.ContainerName}}\t{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}")?;
            print!("{}", f.render(&header, &shown)?);
        }
        other => anyhow::bail!("format value {other:?} could not be parsed: berth compose images takes table or json"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_and_tag() {
        let img = ImageInspect { repo_tags: vec!["localhost:5000/app:v1".into()], ..Default::default() };
        assert_eq!(repo_tag(&img), ("localhost:5000/app".into(), "v1".into()));
        assert_eq!(repo_tag(&ImageInspect::default()), ("<none>".into(), "<none>".into()));
    }
}
