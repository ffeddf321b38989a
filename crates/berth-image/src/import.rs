//! `docker import`: a root filesystem tarball becomes a one-layer image, with `--change`
//! Dockerfile instructions applied to its config.

use std::io::Read;

use berth_store::Digest;
use serde_json::Value;

use crate::config::{ContainerConfig, History, ImageConfig, RootFs};
use crate::error::{ImageError, Result};
use crate::load::host_arch;
use crate::reference::Reference;
use crate::spool::decompressed;
use crate::store::{ImageStore, Prepared};
use crate::timestamp::now_rfc3339;

/// Split like a shell: whitespace separates, quotes group, backslash escapes.
fn words(s: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.get_or_insert_with(String::new).push(n);
                }
            }
            (Some(_), c) => cur.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => out.extend(cur.take()),
            (None, c) => cur.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err(ImageError::InvalidChange(format!(
            "unterminated quote in {s:?}"
        )));
    }
    out.extend(cur);
    Ok(out)
}

/// `["a","b"]` (JSON form) or `None` if `s` is not a JSON string array.
fn json_array(s: &str) -> Option<Vec<String>> {
    if !s.starts_with('[') {
        return None;
    }
    serde_json::from_str(s).ok()
}

/// `k=v k2="v 2"` pairs, or the legacy `k v` form when `legacy_ok`.
fn pairs(instr: &str, rest: &str, legacy_ok: bool) -> Result<Vec<(String, String)>> {
    let ws = words(rest)?;
    if ws.is_empty() {
        return Err(ImageError::InvalidChange(format!(
            "{instr} requires at least one argument"
        )));
    }
    if legacy_ok && !ws[0].contains('=') {
        let (k, v) = rest
            .trim()
            .split_once(char::is_whitespace)
            .unwrap_or((rest.trim(), ""));
        return Ok(vec![(k.to_string(), v.trim().to_string())]);
    }
    ws.iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(ImageError::InvalidChange(format!(
                "{instr} names can not be blank: {w:?}"
            ))),
        })
        .collect()
}

fn command(rest: &str) -> Vec<String> {
    json_array(rest).unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into(), rest.to_string()])
}

/// Apply `docker import/commit --change` instructions to a container config.
pub fn apply_changes(cfg: &mut ContainerConfig, changes: &[String]) -> Result<()> {
    for change in changes {
        let change = change.trim();
        if change.is_empty() || change.starts_with('#') {
            continue;
        }
        let (instr, rest) = change
            .split_once(char::is_whitespace)
            .unwrap_or((change, ""));
        let rest = rest.trim();
        let upper = instr.to_ascii_uppercase();
        match upper.as_str() {
            "CMD" => cfg.cmd = Some(command(rest)),
            "ENTRYPOINT" => cfg.entrypoint = Some(command(rest)),
            "ENV" => {
                let env = cfg.env.get_or_insert_with(Vec::new);
                for (k, v) in pairs(&upper, rest, true)? {
                    env.retain(|e| e.split_once('=').map_or(e.as_str(), |(ek, _)| ek) != k);
                    env.push(format!("{k}={v}"));
                }
            }
            "LABEL" => {
                let labels = cfg.labels.get_or_insert_with(Default::default);
                labels.extend(pairs(&upper, rest, false)?);
            }
            "EXPOSE" => {
                let ports = cfg.exposed_ports.get_or_insert_with(Default::default);
                for p in words(rest)? {
                    let p = if p.contains('/') {
                        p
                    } else {
                        format!("{p}/tcp")
                    };
                    ports.insert(p, Value::Object(Default::default()));
                }
            }
            "VOLUME" => {
                let vols = cfg.volumes.get_or_insert_with(Default::default);
                for v in json_array(rest).map_or_else(|| words(rest), Ok)? {
                    vols.insert(v, Value::Object(Default::default()));
                }
            }
            "WORKDIR" => cfg.working_dir = Some(rest.to_string()),
            "USER" => cfg.user = Some(rest.to_string()),
            "STOPSIGNAL" => cfg.stop_signal = Some(rest.to_string()),
            "ONBUILD" => cfg
                .on_build
                .get_or_insert_with(Vec::new)
                .push(rest.to_string()),
            _ => {
                return Err(ImageError::InvalidChange(format!(
                    "{instr} is not a valid change command"
                )))
            }
        }
    }
    Ok(())
}

impl ImageStore {
    /// Make a one-layer image from a root filesystem tar (plain or gzip).
    pub fn import(
        &self,
        rootfs_tar: impl Read,
        changes: &[String],
        tag: Option<&Reference>,
        message: Option<&str>,
    ) -> Result<Digest> {
        let mut container = ContainerConfig::default();
        apply_changes(&mut container, changes)?;
        let _ingest = self.lock_ingest();
        let info = self
            .layers
            .apply(None, decompressed(rootfs_tar)?)
            .map_err(ImageError::from);
        let info = info.map_err(ImageError::archive)?;
        let created = now_rfc3339();
        let comment = message
            .filter(|m| !m.is_empty())
            .unwrap_or("Imported from -");
        let config = ImageConfig {
            architecture: host_arch().to_string(),
            os: "linux".into(),
            created: Some(created.clone()),
            config: Some(container),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: vec![info.diff_id.clone()],
            },
            history: vec![History {
                created: Some(created),
                comment: Some(comment.into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let chain = info.chain_id.clone();
        let prepared = Prepared {
            config_bytes: config.to_vec()?,
            config,
            layers: vec![info],
            tags: tag.into_iter().cloned().collect(),
        };
        match self.register(vec![prepared]) {
            Ok(mut done) => done
                .pop()
                .map(|(id, _)| id)
                .ok_or_else(|| ImageError::Corrupt("import recorded nothing".into())),
            Err(e) => {
                self.discard_layers(&[chain]);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(changes: &[&str]) -> Result<ContainerConfig> {
        let mut c = ContainerConfig::default();
        apply_changes(
            &mut c,
            &changes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )?;
        Ok(c)
    }

    #[test]
    fn parses_changes() -> Result<()> {
        let c = changed(&[
            r#"CMD ["sh", "-c", "echo hi"]"#,
            "entrypoint /init --flag",
            "ENV A=1 B=\"two words\"",
            "ENV A 3",
            "ENV LEGACY value with spaces",
            "WORKDIR /app",
            "USER nobody",
            "LABEL x=y z=\"q r\"",
            "EXPOSE 80 53/udp",
            r#"VOLUME ["/data"]"#,
            "VOLUME /a /b",
            "STOPSIGNAL SIGKILL",
        ])?;
        assert_eq!(
            c.cmd,
            Some(vec!["sh".into(), "-c".into(), "echo hi".into()])
        );
        assert_eq!(
            c.entrypoint,
            Some(vec!["/bin/sh".into(), "-c".into(), "/init --flag".into()])
        );
        assert_eq!(
            c.env,
            Some(vec![
                "B=two words".into(),
                "A=3".into(),
                "LEGACY=value with spaces".into()
            ])
        );
        assert_eq!(c.working_dir.as_deref(), Some("/app"));
        assert_eq!(c.user.as_deref(), Some("nobody"));
        let labels = c.labels.unwrap_or_default();
        assert_eq!(labels.get("z").map(String::as_str), Some("q r"));
        let ports: Vec<_> = c.exposed_ports.unwrap_or_default().into_keys().collect();
        assert_eq!(ports, vec!["53/udp", "80/tcp"]);
        let vols: Vec<_> = c.volumes.unwrap_or_default().into_keys().collect();
        assert_eq!(vols, vec!["/a", "/b", "/data"]);
        assert_eq!(c.stop_signal.as_deref(), Some("SIGKILL"));
        Ok(())
    }

    #[test]
    fn rejects_bad_changes() {
        assert_eq!(
            changed(&["RUN rm -rf /"]).err().map(|e| e.to_string()),
            Some("RUN is not a valid change command".into())
        );
        assert!(changed(&["ENV"]).is_err());
        assert!(changed(&["LABEL =x"]).is_err());
        assert!(changed(&["ENV A=\"unterminated"]).is_err());
    }
}
