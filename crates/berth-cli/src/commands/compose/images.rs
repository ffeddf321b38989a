//! `berth compose images`: the image of each of the project's containers.

use super::session::{name_of, OneOff, Session};
use super::Global;
use crate::format::size::image_size;
use crate::format::duration::human_duration;
use crate::format::table::tabwrite_min;
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

fn now_secs() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Compose's table: CONTAINER REPOSITORY TAG PLATFORM IMAGE ID SIZE
/// CREATED, its own tabwriter settings (cells at least 20 wide).
pub fn table(rows: &[Value], now: f64) -> String {
    let mut text = String::from("CONTAINER\tREPOSITORY\tTAG\tPLATFORM\tIMAGE ID\tSIZE\tCREATED\n");
    for r in rows {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
        let id: String = s("ID").chars().take(12).collect();
        let created = r["Created"].as_i64().unwrap_or(0);
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{id}\t{}\t{} ago\n",
            s("ContainerName"),
            s("Repository"),
            s("Tag"),
            s("Platform"),
            image_size(r["Size"].as_i64().unwrap_or(0)),
            human_duration(now - created as f64),
        ));
    }
    tabwrite_min(&text, 20)
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
        let created = berth_api::time::parse_rfc3339(&img.created).map_or(0, |n| (n / 1_000_000_000) as i64);
        let platform = format!("{}/{}", img.os, img.architecture);
        rows.push(json!({
            "ContainerName": name_of(c), "Repository": repo, "Tag": tag, "Platform": platform, "ID": id,
            "Size": img.size, "Created": created,
        }));
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
        "" | "table" => print!("{}", table(&rows, now_secs())),
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
        let rows = vec![json!({"ContainerName": "p-web-1", "Repository": "busybox", "Tag": "latest", "Platform": "linux/amd64",
            "ID": "0123456789abcdef", "Size": 4_260_000, "Created": 1000})];
        assert_eq!(
            table(&rows, 1000.0 + 7200.0),
            "CONTAINER           REPOSITORY          TAG                 PLATFORM            IMAGE ID            SIZE                CREATED\n\
             p-web-1             busybox             latest              linux/amd64         0123456789ab        4.26MB              2 hours ago\n"
        );
    }
}
