//! One engine operation on one service container, reported as Compose
//! reports it (` Container p-web-1  Starting` ... `Started`). Errors are
//! worded as Compose prints them (`Error response from daemon: ...`).

use super::parallel::{try_join_all, Task};
use super::progress::{self, Progress};
use super::session::Session;
use crate::exit::describe;
use berth_api::container::CreateResponse;
use berth_api::network::NetworkConnectRequest;
use berth_api::volume::MountPoint;
use berth_client::{segment, ClientError, Method, Query, RequestBody};
use berth_compose::engine::{self, CopyFile};
use std::collections::BTreeMap;

fn failed(p: &Progress, id: &str, e: &ClientError) -> anyhow::Error {
    p.error(id, "Error");
    anyhow::anyhow!(describe(e))
}

/// `?t=` when a timeout was given (else the container's own stop timeout).
pub fn timeout_query(timeout: Option<i64>) -> Query {
    match timeout {
        Some(t) => Query::new().add("t", t.to_string()),
        None => Query::new(),
    }
}

pub async fn start(s: &Session<'_>, p: &Progress, cid: &str, name: &str) -> anyhow::Result<()> {
    let id = progress::container(name);
    p.working(&id, "Starting");
    match s.client.post(&format!("/containers/{}/start", segment(cid)), &Query::new()).await {
        Ok(()) => {
            p.done(&id, "Started");
            Ok(())
        }
        Err(e) => Err(failed(p, &id, &e)),
    }
}

pub async fn stop(s: &Session<'_>, p: &Progress, cid: &str, name: &str, timeout: Option<i64>) -> anyhow::Result<()> {
    let id = progress::container(name);
    p.working(&id, "Stopping");
    match s.client.post(&format!("/containers/{}/stop", segment(cid)), &timeout_query(timeout)).await {
        Ok(()) => {
            p.done(&id, "Stopped");
            Ok(())
        }
        Err(e) if e.is_not_found() => {
            p.done(&id, "Stopped");
            Ok(())
        }
        Err(e) => Err(failed(p, &id, &e)),
    }
}

/// Removes a (stopped) container; `volumes` takes its anonymous volumes too.
pub async fn remove(s: &Session<'_>, p: &Progress, cid: &str, name: &str, volumes: bool) -> anyhow::Result<()> {
    let id = progress::container(name);
    p.working(&id, "Removing");
    let q = Query::new().flag("force", true).flag("v", volumes);
    match s.client.delete(&format!("/containers/{}", segment(cid)), &q).await {
        Ok(()) => {
            p.done(&id, "Removed");
            Ok(())
        }
        Err(e) if e.is_not_found() => {
            p.done(&id, "Removed");
            Ok(())
        }
        Err(e) => Err(failed(p, &id, &e)),
    }
}

/// Stops `containers` (ID, name) all at once, or with `kill` sends them
/// SIGKILL (one already gone is not an error): what Ctrl-C's first and
/// second press do to a project.
pub async fn stop_or_kill(s: &Session<'_>, p: &Progress, containers: &[(String, String)], timeout: Option<i64>, kill: bool) -> anyhow::Result<()> {
    let sigkill = Query::new().add("signal", "SIGKILL");
    let tasks: Vec<Task<'_, anyhow::Result<()>>> = containers
        .iter()
        .map(|(cid, name)| {
            let sigkill = &sigkill;
            Box::pin(async move {
                if kill {
                    action(s, p, cid, name, "kill", sigkill, ("Killing", "Killed")).await.or(Ok(()))
                } else {
                    stop(s, p, cid, name, timeout).await
                }
            }) as Task<'_, _>
        })
        .collect();
    try_join_all(tasks).await.map(|_| ())
}

/// A plain action (`kill`, `pause`, `unpause`, `restart`) with Compose's
/// working and done words.
pub async fn action(
    s: &Session<'_>,
    p: &Progress,
    cid: &str,
    name: &str,
    path: &str,
    q: &Query,
    words: (&str, &str),
) -> anyhow::Result<()> {
    let id = progress::container(name);
    p.working(&id, words.0);
    match s.client.post(&format!("/containers/{}/{path}", segment(cid)), q).await {
        Ok(()) => {
            p.done(&id, words.1);
            Ok(())
        }
        Err(e) => Err(failed(p, &id, &e)),
    }
}

/// Creates replica `number` of `service` under `name` (the replica's name,
/// or a temporary one), connects its other networks and copies in its
/// secrets and configs that are not host files. `inherit` is the mounts
/// of the container it replaces, whose anonymous volumes it takes over.
/// `ids` maps a service to a container of it, for `network_mode:
/// service:X`. Returns the new ID.
pub async fn create(
    s: &Session<'_>,
    service: &str,
    number: u64,
    image_id: Option<&str>,
    ids: &BTreeMap<String, String>,
    inherit: &[MountPoint],
) -> anyhow::Result<String> {
    let mut plan = engine::container(&s.project, service, number, image_id)?;
    berth_compose::inherit::anonymous_volumes(&mut plan, inherit);
    let mode = &mut plan.request.host_config.network_mode;
    if let Some(other) = mode.strip_prefix("service:") {
        let Some(cid) = ids.get(other) else {
            anyhow::bail!("service {other:?} has no container to share its network with {service:?}");
        };
        *mode = format!("container:{cid}");
    }
    let q = Query::new().add("name", plan.name.as_str());
    let created: CreateResponse = s
        .client
        .post_json("/containers/create", &q, Some(&plan.request))
        .await
        .map_err(|e| anyhow::anyhow!(describe(&e)))?;
    for (net, ep) in &plan.connect_after {
        let body = NetworkConnectRequest { container: created.id.clone(), endpoint_config: Some(ep.clone()), force: false };
        // The answer has no body to decode.
        let json = RequestBody::Json(serde_json::to_vec(&body)?);
        s.client
            .bytes(Method::POST, &format!("/networks/{}/connect", segment(net)), &Query::new(), json)
            .await
            .map_err(|e| anyhow::anyhow!(describe(&e)))?;
    }
    if !plan.copy_in.is_empty() {
        let tar = tar_of(&plan.copy_in)?;
        s.client
            .copy_to_container(&created.id, "/", RequestBody::Stream(Box::new(std::io::Cursor::new(tar))), false)
            .await
            .map_err(|e| anyhow::anyhow!(describe(&e)))?;
    }
    Ok(created.id)
}

/// A tar of the files to copy in, with their parent directories.
pub fn tar_of(files: &[CopyFile]) -> anyhow::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dirs: Vec<String> = Vec::new();
    for f in files {
        let rel = f.target.trim_start_matches('/');
        let mut acc = String::new();
        let parts: Vec<&str> = rel.split('/').filter(|c| !c.is_empty()).collect();
        if parts.contains(&"..") {
            anyhow::bail!("invalid target path {:?}", f.target);
        }
        for c in parts.iter().take(parts.len().saturating_sub(1)) {
            acc.push_str(c);
            acc.push('/');
            if !dirs.contains(&acc) {
                dirs.push(acc.clone());
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_uid(0);
                h.set_gid(0);
                h.set_mtime(0);
                h.set_size(0);
                b.append_data(&mut h, &acc, std::io::empty())?;
            }
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(f.mode);
        h.set_uid(u64::from(f.uid));
        h.set_gid(u64::from(f.gid));
        h.set_mtime(0);
        h.set_size(f.content.len() as u64);
        b.append_data(&mut h, parts.join("/"), f.content.as_slice())?;
    }
    Ok(b.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copied_files_come_with_their_directories() {
        let f = CopyFile { target: "/run/secrets/token".into(), content: b"s3cret".to_vec(), mode: 0o400, uid: 1, gid: 2 };
        let tar = tar_of(&[f]).unwrap();
        let mut a = tar::Archive::new(tar.as_slice());
        let names: Vec<(String, u32, u64)> = a
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().display().to_string(), e.header().mode().unwrap(), e.header().uid().unwrap())
            })
            .collect();
        assert_eq!(names, vec![("run/".into(), 0o755, 0), ("run/secrets/".into(), 0o755, 0), ("run/secrets/token".into(), 0o400, 1)]);
        let bad = CopyFile { target: "/../etc/x".into(), content: vec![], mode: 0o444, uid: 0, gid: 0 };
        assert!(tar_of(&[bad]).is_err());
    }
}
