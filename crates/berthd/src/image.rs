//! Images as clients see them: `images` rows, creation times and labels.

use berth_api::image::ImageSummary;
use berth_image::Image;
use std::collections::BTreeMap;

/// Unix nanoseconds of the image's `created`, if it has one.
pub fn created_nanos(img: &Image) -> Option<i128> {
    img.created.as_deref().and_then(berth_api::time::parse_rfc3339)
}

pub fn created_secs(img: &Image) -> i64 {
    created_nanos(img).map(|n| (n / 1_000_000_000) as i64).unwrap_or(0)
}

pub fn labels(img: &Image) -> BTreeMap<String, String> {
    img.config.config.as_ref().and_then(|c| c.labels.clone()).unwrap_or_default()
}

/// One `images` row. `containers` and `shared_size` are -1 when not
/// computed, as dockerd leaves them.
pub fn summary(img: &Image, tags: Vec<String>, containers: i64, shared_size: i64) -> ImageSummary {
    ImageSummary {
        id: img.id.to_string(),
        parent_id: String::new(),
        repo_tags: tags,
        repo_digests: img.digests.clone(),
        created: created_secs(img),
        size: img.size as i64,
        shared_size,
        labels: labels(img),
        containers,
    }
}

/// Images that are another image's recorded parent (the classic builder's
/// intermediate images, and images `commit` started from).
pub fn parents(store: &berth_image::ImageStore) -> std::collections::HashSet<berth_store::Digest> {
    store.list().iter().filter_map(|i| store.parent_of(i)).collect()
}

/// After an image went: its parent, and that one's parent..., while each is
/// untagged, childless and unused, as dockerd's delete prunes a build's
/// intermediate images. Returns the IDs removed.
pub fn remove_dangling_chain(d: &crate::daemon::Daemon, mut next: Option<berth_store::Digest>) -> Vec<String> {
    let mut gone = Vec::new();
    while let Some(id) = next.take() {
        let Ok(img) = d.images.resolve(&id.to_string()) else { break };
        let unused = img.tags.is_empty() && !parents(&d.images).contains(&img.id) && d.containers.image_users(&img.id.to_string()).is_empty();
        if !unused {
            break;
        }
        next = d.images.parent_of(&img);
        if d.images.remove(&img.id).is_err() {
            break;
        }
        gone.push(img.id.to_string());
    }
    gone
}

/// Image inspect's `Config`. Before API 1.45 dockerd prints the whole Go
/// `container.Config`, empty fields included (docker-py reads
/// `Config["OnBuild"]` of any image); later only what the image sets.
pub fn inspect_config(cfg: Option<&berth_image::ContainerConfig>, legacy: bool) -> serde_json::Value {
    let set = cfg.and_then(|c| serde_json::to_value(c).ok()).unwrap_or(serde_json::Value::Null);
    if !legacy {
        return set;
    }
    let mut full = serde_json::json!({
        "Hostname": "", "Domainname": "", "User": "", "AttachStdin": false, "AttachStdout": false,
        "AttachStderr": false, "Tty": false, "OpenStdin": false, "StdinOnce": false, "Env": null,
        "Cmd": null, "Image": "", "Volumes": null, "WorkingDir": "", "Entrypoint": null,
        "OnBuild": null, "Labels": null,
    });
    if let (Some(f), serde_json::Value::Object(m)) = (full.as_object_mut(), set) {
        f.extend(m);
    }
    full
}
