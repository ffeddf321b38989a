//! The docker CLI's mount flags: `-v` split into binds and anonymous
//! volumes (compose's `ParseVolume`), `--mount` CSV (`opts.MountOpt`),
//! `--tmpfs PATH[:OPTS]`. Only syntax is checked here; the daemon
//! validates meaning, as with docker.

use berth_api::volume::{BindOptions, DriverConfig, Mount, TmpfsOptions, VolumeOptions};
use std::collections::BTreeMap;

/// `-v` values: `Binds` entries and `Config.Volumes` paths.
pub fn split_volumes(specs: &[String]) -> Result<(Vec<String>, Vec<String>), String> {
    let mut binds = Vec::new();
    let mut anonymous = Vec::new();
    for spec in specs {
        let (source, _target) = parse_volume(spec)?;
        if source.is_empty() {
            anonymous.push(spec.clone());
            continue;
        }
        let mut bind = spec.clone();
        if source.starts_with('.') {
            if let Some((host, target)) = spec.split_once(':') {
                bind = format!("{}:{target}", absolute(host));
            }
        }
        binds.push(bind);
    }
    Ok((binds, anonymous))
}

/// compose-go's `ParseVolume`, reduced to what decides bind vs anonymous.
fn parse_volume(spec: &str) -> Result<(String, String), String> {
    match spec.len() {
        0 => return Err("invalid empty volume spec".into()),
        1 | 2 => return Ok((String::new(), spec.to_string())),
        _ => {}
    }
    let parts = split_sections(spec);
    let err = |m: &str| format!("invalid spec: {spec}: {m}");
    if parts.iter().any(|p| p.is_empty()) {
        return Err(err("empty section between colons"));
    }
    match parts.as_slice() {
        [t] => Ok((String::new(), t.to_string())),
        [s, t] | [s, t, _] => Ok((s.to_string(), t.to_string())),
        _ => Err(err("too many colons")),
    }
}

/// Splits at colons, except after a lone letter at the start of a section
/// (compose's Windows drive rule: `c:/x` is one path, so `a:/b` is an
/// anonymous volume for docker too).
fn split_sections(spec: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in spec.chars() {
        if ch == ':' && !(cur.chars().count() == 1 && cur.chars().all(|c| c.is_alphabetic())) {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(ch);
        }
    }
    out.push(cur);
    out
}

/// `filepath.Abs`: joined with the working directory and cleaned.
fn absolute(p: &str) -> String {
    let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| "/".into());
    let mut out: Vec<String> = Vec::new();
    for c in cwd.split('/').chain(p.split('/')) {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c.to_string()),
        }
    }
    format!("/{}", out.join("/"))
}

/// `--tmpfs PATH[:OPTIONS]` into `HostConfig.Tmpfs`.
pub fn tmpfs_map(specs: &[String]) -> BTreeMap<String, String> {
    specs
        .iter()
        .map(|t| {
            let (k, v) = t.split_once(':').unwrap_or((t, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// One `--mount` value, as docker's `MountOpt.Set`.
pub fn parse_mount(value: &str) -> Result<Mount, String> {
    let mut m = Mount { kind: "volume".into(), ..Default::default() };
    let mut vo: Option<VolumeOptions> = None;
    let mut bo: Option<BindOptions> = None;
    let mut to: Option<TmpfsOptions> = None;
    for field in split_csv(value)? {
        let (key, val) = match field.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_string())),
            None => (field.to_ascii_lowercase(), None),
        };
        let Some(val) = val else {
            match key.as_str() {
                "readonly" | "ro" => m.read_only = true,
                "volume-nocopy" => vo.get_or_insert_with(Default::default).no_copy = true,
                "bind-nonrecursive" => bo.get_or_insert_with(Default::default).non_recursive = true,
                _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
            }
            continue;
        };
        let bad = || format!("invalid value for {key}: {val}");
        match key.as_str() {
            "type" => m.kind = val.to_ascii_lowercase(),
            "source" | "src" => {
                m.source = if val == "." || val.starts_with("./") { absolute(&val) } else { val.clone() };
            }
            "target" | "dst" | "destination" => m.target = val.clone(),
            "readonly" | "ro" => m.read_only = parse_bool(&val).ok_or_else(bad)?,
            "consistency" => m.consistency = val.to_ascii_lowercase(),
            "bind-propagation" => bo.get_or_insert_with(Default::default).propagation = val.to_ascii_lowercase(),
            "bind-nonrecursive" => bo.get_or_insert_with(Default::default).non_recursive = parse_bool(&val).ok_or_else(bad)?,
            "volume-nocopy" => vo.get_or_insert_with(Default::default).no_copy = parse_bool(&val).ok_or_else(bad)?,
            "volume-subpath" => vo.get_or_insert_with(Default::default).subpath = val.clone(),
            "volume-driver" => vo.get_or_insert_with(Default::default).driver_config.get_or_insert_with(Default::default).name = val.clone(),
            "volume-label" => {
                let (k, v) = val.split_once('=').unwrap_or((&val, ""));
                vo.get_or_insert_with(Default::default).labels.get_or_insert_with(Default::default).insert(k.into(), v.into());
            }
            "volume-opt" => {
                let (k, v) = val.split_once('=').unwrap_or((&val, ""));
                let dc = vo.get_or_insert_with(Default::default).driver_config.get_or_insert_with(DriverConfig::default);
                dc.options.get_or_insert_with(Default::default).insert(k.into(), v.into());
            }
            "tmpfs-size" => to.get_or_insert_with(Default::default).size_bytes = ram_in_bytes(&val).ok_or_else(bad)?,
            "tmpfs-mode" => to.get_or_insert_with(Default::default).mode = u32::from_str_radix(&val, 8).map_err(|_| bad())?,
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    if m.kind.is_empty() {
        return Err("type is required".into());
    }
    if m.target.is_empty() {
        return Err("target is required".into());
    }
    for (set, prefix, kind) in [(vo.is_some(), "volume", "volume"), (bo.is_some(), "bind", "bind"), (to.is_some(), "tmpfs", "tmpfs")] {
        if set && m.kind != kind {
            return Err(format!("cannot mix '{prefix}-*' options with mount type '{}'", m.kind));
        }
    }
    m.volume_options = vo;
    m.bind_options = bo;
    m.tmpfs_options = to;
    Ok(m)
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// go-units `RAMInBytes`: binary multipliers, optional `i`/`b` suffixes.
pub fn ram_in_bytes(s: &str) -> Option<i64> {
    let s = s.trim();
    let num_end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, rest) = s.split_at(num_end);
    let n: f64 = num.parse().ok()?;
    let rest = rest.trim_start_matches(' ').to_ascii_lowercase();
    let mut chars = rest.chars();
    let mult: f64 = match chars.next() {
        None => return Some(n as i64),
        Some('k') => 1024.0,
        Some('m') => 1024f64.powi(2),
        Some('g') => 1024f64.powi(3),
        Some('t') => 1024f64.powi(4),
        Some('p') => 1024f64.powi(5),
        Some('b') if chars.as_str().is_empty() => 1.0,
        _ => return None,
    };
    let tail = chars.as_str();
    if !matches!(tail, "" | "b" | "i" | "ib") {
        return None;
    }
    Some((n * mult) as i64)
}

/// One CSV record (Go's encoding/csv, enough for mount values).
fn split_csv(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if cur.is_empty() => quoted = true,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(format!("parse error on line 1, column {}: extraneous or missing \" in quoted-field", s.len() + 1));
    }
    out.push(cur);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn volumes_split_like_docker() {
        let (b, a) = split_volumes(&s(&["myvol:/data", "/data2", "/h:/b:z", "::"])).unwrap();
        assert_eq!(b, ["myvol:/data", "/h:/b:z"]);
        assert_eq!(a, ["/data2", "::"]);
        let (b, _) = split_volumes(&s(&["./rel:/r:ro"])).unwrap();
        assert!(b[0].starts_with('/') && b[0].ends_with("/rel:/r:ro"), "{b:?}");
        assert_eq!(split_volumes(&s(&["/a:/b:/c:/d"])).unwrap_err(), "invalid spec: /a:/b:/c:/d: too many colons");
        assert_eq!(split_volumes(&s(&[":/x"])).unwrap_err(), "invalid spec: :/x: empty section between colons");
        assert!(split_volumes(&s(&[""])).is_err());
        // Docker's CLI reads a one-letter source as a drive letter.
        let (b, a) = split_volumes(&s(&["a:b", "a:/b", "ab", "a:/b:ro", "rel/x:/y", "/x:ro"])).unwrap();
        assert_eq!(a, ["a:b", "a:/b", "ab"]);
        assert_eq!(b, ["a:/b:ro", "rel/x:/y", "/x:ro"]);
    }

    #[test]
    fn mount_values() {
        let m = parse_mount("type=volume,src=mv,dst=/m,volume-opt=type=tmpfs,volume-nocopy").unwrap();
        let v = m.volume_options.unwrap();
        assert!(v.no_copy);
        assert_eq!(v.driver_config.unwrap().options.unwrap()["type"], "tmpfs");
        let m = parse_mount("type=bind,source=/x,target=/y,readonly,bind-propagation=rshared").unwrap();
        assert!(m.read_only);
        assert_eq!(m.bind_options.unwrap().propagation, "rshared");
        let m = parse_mount("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1700").unwrap();
        assert_eq!(m.tmpfs_options, Some(TmpfsOptions { size_bytes: 1 << 20, mode: 0o1700 }));
        assert_eq!(parse_mount("target=/x").unwrap().kind, "volume");
        assert_eq!(parse_mount("foo=bar").unwrap_err(), "unexpected key 'foo' in 'foo=bar'");
        assert_eq!(parse_mount("type=volume").unwrap_err(), "target is required");
        assert_eq!(parse_mount("type=tmpfs,target=/t,tmpfs-size=abc").unwrap_err(), "invalid value for tmpfs-size: abc");
        assert_eq!(parse_mount("type=bind,target=/t,volume-nocopy").unwrap_err(), "cannot mix 'volume-*' options with mount type 'bind'");
        assert_eq!(parse_mount("bogus,target=/t").unwrap_err(), "invalid field 'bogus' must be a key=value pair");
        assert_eq!(parse_mount("\"type=bind\",target=/t,src=/").unwrap().kind, "bind");
    }

    #[test]
    fn ram_sizes() {
        assert_eq!(ram_in_bytes("1m"), Some(1 << 20));
        assert_eq!(ram_in_bytes("2MiB"), Some(2 << 20));
        assert_eq!(ram_in_bytes("1.5k"), Some(1536));
        assert_eq!(ram_in_bytes("100"), Some(100));
        assert_eq!(ram_in_bytes("abc"), None);
        assert_eq!(ram_in_bytes("1x"), None);
    }

    #[test]
    fn tmpfs_flags() {
        let m = tmpfs_map(&s(&["/tt:size=2m", "/plain"]));
        assert_eq!(m["/tt"], "size=2m");
        assert_eq!(m["/plain"], "");
    }
}
