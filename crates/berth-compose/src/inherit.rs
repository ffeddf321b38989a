//! What a recreated container keeps from the one it replaces: its
//! anonymous volumes, as Compose keeps them, so data in a service's
//! `- /data` volume or in its image's `VOLUME` survives a configuration
//! change (`up -V` asks for fresh ones instead).

use berth_api::volume::{Mount, MountPoint};

use crate::engine::ContainerPlan;

/// Whether an engine volume name is one the engine made up: 64 hex digits.
fn is_anonymous(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Gives `plan` the anonymous volumes of the old container's `mounts`: an
/// anonymous volume of the plan at the same target takes the old volume;
/// a target the plan does not mount at all (an image `VOLUME`) gets it as a
/// volume mount. A target the plan mounts otherwise (a named volume, a
/// bind, a tmpfs) keeps what the configuration says.
pub fn anonymous_volumes(plan: &mut ContainerPlan, mounts: &[MountPoint]) {
    let hc = &mut plan.request.host_config;
    let bound: Vec<String> = hc
        .binds
        .iter()
        .flatten()
        .filter_map(|b| b.split(':').nth(1).map(str::to_string))
        .chain(hc.tmpfs.iter().flat_map(|t| t.keys().cloned()))
        .collect();
    let list = hc.mounts.get_or_insert_with(Vec::new);
    for old in mounts.iter().filter(|m| m.kind == "volume" && is_anonymous(&m.name)) {
        let target = old.destination.trim_end_matches('/');
        if bound.iter().any(|b| b.trim_end_matches('/') == target) {
            continue;
        }
        match list.iter_mut().find(|m| m.target.trim_end_matches('/') == target) {
            Some(m) if m.kind == "volume" && m.source.is_empty() => m.source = old.name.clone(),
            Some(_) => {}
            None => list.push(Mount {
                kind: "volume".into(),
                source: old.name.clone(),
                target: old.destination.clone(),
                read_only: !old.rw,
                ..Default::default()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::container::CreateRequest;

    fn point(name: &str, dest: &str) -> MountPoint {
        MountPoint { kind: "volume".into(), name: name.into(), destination: dest.into(), rw: true, ..Default::default() }
    }

    fn plan(mounts: Vec<Mount>, binds: Vec<&str>) -> ContainerPlan {
        let mut request = CreateRequest::default();
        request.host_config.mounts = Some(mounts);
        request.host_config.binds = Some(binds.into_iter().map(String::from).collect());
        ContainerPlan { name: "p-web-1".into(), request, connect_after: vec![], copy_in: vec![] }
    }

    fn vol(source: &str, target: &str) -> Mount {
        Mount { kind: "volume".into(), source: source.into(), target: target.into(), ..Default::default() }
    }

    #[test]
    fn anonymous_volumes_carry_over_and_configured_mounts_win() {
        let anon = "a".repeat(64);
        let image_vol = "b".repeat(64);
        let other = "c".repeat(64);
        let mut p = plan(vec![vol("", "/data"), vol("proj_named", "/named")], vec!["/host:/bound"]);
        let old = [point(&anon, "/data"), point(&image_vol, "/var/lib/x/"), point(&other, "/named"), point(&other, "/bound"), point("proj_named", "/gone")];
        anonymous_volumes(&mut p, &old);
        let m = p.request.host_config.mounts.unwrap();
        let got: Vec<(&str, &str)> = m.iter().map(|m| (m.source.as_str(), m.target.as_str())).collect();
        assert_eq!(got, [(anon.as_str(), "/data"), ("proj_named", "/named"), (image_vol.as_str(), "/var/lib/x/")]);
    }
}
