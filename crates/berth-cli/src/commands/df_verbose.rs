//! `berth system df -v`: one table per kind (images, containers, local
//! volumes) and the build cache, laid out as docker's verbose disk usage.

use super::ps;
use crate::format::size::{human_size, image_size};
use crate::format::table::tabwrite;
use crate::format::template::Format;
use crate::format::{duration, truncate_id};
use crate::reference::Reference;
use berth_api::image::ImageSummary;
use berth_api::system::DiskUsage;
use serde_json::{json, Value};

const IMAGES: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}";
const CONTAINERS: &str = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}";
const VOLUMES: &str = "table {{.Name}}\t{{.Links}}\t{{.Size}}";
const CACHE_HEADER: &str = "CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED\n";

/// Shared and unique sizes use 4 digits here, the image size 3.
fn sized(n: i64) -> String {
    if n < 0 {
        "N/A".into()
    } else {
        human_size(n as f64)
    }
}

/// One row per image, named by its first tag only.
fn image_row(img: &ImageSummary, now: f64) -> Value {
    let (repo, tag) = img
        .repo_tags
        .first()
        .and_then(|t| Reference::parse(t).ok())
        .map(|r| (r.familiar_name(), r.tag.clone().unwrap_or_else(|| "<none>".into())))
        .unwrap_or_else(|| ("<none>".into(), "<none>".into()));
    let unique = if img.shared_size < 0 { -1 } else { img.size - img.shared_size };
    json!({
        "Repository": repo, "Tag": tag, "ID": truncate_id(&img.id),
        "CreatedSince": format!("{} ago", duration::human_duration(now - img.created as f64)),
        "Size": image_size(img.size), "SharedSize": sized(img.shared_size), "UniqueSize": sized(unique),
        "Containers": if img.containers < 0 { "N/A".to_string() } else { img.containers.to_string() },
    })
}

pub fn render(du: &DiskUsage, now: f64) -> anyhow::Result<String> {
    let mut out = String::from("Images space usage:\n\n");
    let header = json!({"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED", "Size": "SIZE",
        "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "Containers": "CONTAINERS"});
    let rows: Vec<Value> = du.images.iter().flatten().map(|i| image_row(i, now)).collect();
    out.push_str(&Format::parse(IMAGES)?.render(&header, &rows)?);

    out.push_str("\nContainers space usage:\n\n");
    let rows: Vec<Value> = du
        .containers
        .iter()
        .flatten()
        .map(|c| {
            let mut r = ps::row(c, true, now);
            // Only the writable layer counts here, not the image under it.
            r["Size"] = Value::String(image_size(c.size_rw.unwrap_or(0)));
            r
        })
        .collect();
    out.push_str(&Format::parse(CONTAINERS)?.render(&ps::header(), &rows)?);

    out.push_str("\nLocal Volumes space usage:\n\n");
    let header = json!({"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"});
    let rows: Vec<Value> = du
        .volumes
        .iter()
        .flatten()
        .map(|v| {
            let u = v.usage_data.clone().unwrap_or_default();
            json!({"Name": v.name, "Links": u.ref_count.to_string(), "Size": sized(u.size)})
        })
        .collect();
    out.push_str(&Format::parse(VOLUMES)?.render(&header, &rows)?);

    // berth has no builder: the cache is empty, so only its header shows.
    let cache: i64 = du.build_cache.iter().flatten().filter_map(|c| c.get("Size").and_then(Value::as_i64)).sum();
    out.push_str(&format!("\nBuild cache usage: {}\n\n", human_size(cache as f64)));
    out.push_str(&tabwrite(CACHE_HEADER));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_sections_like_docker() {
        let du: DiskUsage = serde_json::from_value(json!({
            "LayersSize": 1982427,
            "Images": [{"Id": "sha256:d010a175734c67153bf1254484dc4e8e", "RepoTags": ["busybox:latest", "foo:bar"], "Created": 0, "Size": 1982427, "SharedSize": 0, "Containers": 3}],
            "Containers": [{"Id": "e1c9322f1e4104cc6fca306f", "Names": ["/big"], "Image": "busybox", "Command": "dd if=/dev/zero of=/big", "Created": 0, "State": "exited", "Status": "Exited (0)", "SizeRw": 307200}],
            "Volumes": [{"Name": "idle", "UsageData": {"Size": 0, "RefCount": 0}}],
            "BuildCache": []
        }))
        .unwrap();
        let out = render(&du, 5.0).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "Images space usage:");
        assert_eq!(lines[2].split_whitespace().collect::<Vec<_>>()[..2], ["REPOSITORY", "TAG"]);
        assert_eq!(lines[3].split_whitespace().collect::<Vec<_>>(), ["busybox", "latest", "d010a175734c", "5", "seconds", "ago", "1.98MB", "0B", "1.982MB", "3"]);
        assert_eq!(lines[5], "Containers space usage:");
        assert!(lines[8].contains("\"dd if=/dev/zero of=…\"") && lines[8].contains(" 307kB "), "{}", lines[8]);
        assert_eq!(lines[10], "Local Volumes space usage:");
        assert_eq!(lines[13].split_whitespace().collect::<Vec<_>>(), ["idle", "0", "0B"]);
        assert_eq!(lines[15], "Build cache usage: 0B");
        assert_eq!(lines[17], "CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED");
        assert!(out.ends_with("SHARED\n"));
    }
}
