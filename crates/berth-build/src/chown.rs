//! `--chown=user:group`: names looked up in the rootfs's /etc/passwd and /etc/group
//! (resolved inside the rootfs), numbers taken as they are; a lone user is also the group.

use std::path::Path;

use crate::scope;

/// Returns (uid, gid) or Docker's message.
pub fn parse_chown(spec: &str, rootfs: &Path) -> Result<(u32, u32), String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (user, group) = match parts.as_slice() {
        [u] => (*u, *u),
        [u, g] => (*u, *g),
        _ => return Err(format!("invalid chown string format: {spec}")),
    };
    let uid = lookup(user, rootfs, "/etc/passwd", 2)
        .map_err(|e| format!("can't find uid for user {user}: {e}"))?;
    let gid = lookup(group, rootfs, "/etc/group", 2)
        .map_err(|e| format!("can't find gid for group {group}: {e}"))?;
    Ok((uid, gid))
}

/// A name's id in a passwd/group-style file (name:x:id:...).
fn lookup(name: &str, rootfs: &Path, file: &str, field: usize) -> Result<u32, String> {
    if let Ok(n) = name.parse::<u32>() {
        return Ok(n);
    }
    let path = scope::resolve(rootfs, file).map_err(|e| e.to_string())?;
    let what = if file.ends_with("passwd") { "user" } else { "group" };
    let text = std::fs::read_to_string(&path)
        .map_err(|_| format!("no such {what}: {name}"))?;
    for line in text.lines() {
        let cols: Vec<&str> = line.split(':').collect();
        if cols.first() == Some(&name) {
            if let Some(id) = cols.get(field).and_then(|s| s.trim().parse::<u32>().ok()) {
                return Ok(id);
            }
        }
    }
    Err(format!("no such {what}: {name}"))
}

/// `--chmod=0755` (octal only, as BuildKit's classic-compatible form).
pub fn parse_chmod(spec: &str) -> Result<u32, String> {
    u32::from_str_radix(spec, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("invalid chmod parameter: '{spec}'. it should be octal string and between 0 and 07777"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() -> std::io::Result<()> {
        let t = tempfile::tempdir()?;
        std::fs::create_dir(t.path().join("etc"))?;
        std::fs::write(t.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n")?;
        std::fs::write(t.path().join("etc/group"), "root:x:0:\nstaff:x:50:\nbob:x:1001:\n")?;
        assert_eq!(parse_chown("bob", t.path()), Ok((1000, 1001)));
        assert_eq!(parse_chown("bob:staff", t.path()), Ok((1000, 50)));
        assert_eq!(parse_chown("7:8", t.path()), Ok((7, 8)));
        assert_eq!(
            parse_chown("alice", t.path()),
            Err("can't find uid for user alice: no such user: alice".into())
        );
        assert!(parse_chown("a:b:c", t.path()).is_err());
        assert_eq!(parse_chmod("755"), Ok(0o755));
        assert!(parse_chmod("9").is_err());
        Ok(())
    }
}
