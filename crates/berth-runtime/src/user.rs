//! Resolving `--user` against the container's own /etc/passwd and /etc/group.
//!
//! The rootfs comes from an image and is hostile: /etc/passwd may be a symlink to
//! the host's /etc/shadow, to `../../..`, or a FIFO. Files are opened with
//! openat2(RESOLVE_IN_ROOT) so every link resolves inside the rootfs, and only
//! regular files of bounded size are read.

use crate::RuntimeError;
use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Largest passwd or group file we read; real ones are a few KiB.
const MAX_FILE_SIZE: u64 = 4 * 1024 * 1024;
/// Largest uid or gid Docker accepts.
const MAX_ID: i64 = i32::MAX as i64;

/// The identity the container process runs as.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups, as Docker sets them: the primary gid first, then the
    /// groups listing the user in /etc/group (only when no group was given).
    /// The daemon appends `--group-add` groups.
    pub additional_gids: Vec<u32>,
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: i64,
    gid: i64,
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: i64,
    members: Vec<&'a str>,
}

/// Resolves Docker's `user` string ("", "name", "uid", with optional ":group" or ":gid").
///
/// Follows moby's `GetExecUser`: "" is root; a number need not exist in passwd; a name
/// must; supplementary groups come from /etc/group only when no group was given.
pub fn resolve_user(rootfs: &Path, user: &str) -> Result<ResolvedUser, RuntimeError> {
    let (user_arg, group_arg) = user.split_once(':').unwrap_or((user, ""));
    let uid_arg = user_arg.parse::<i64>().ok();
    let gid_arg = group_arg.parse::<i64>().ok();

    let passwd = read_rootfs_file(rootfs, "etc/passwd")?.unwrap_or_default();
    let matched = passwd.lines().filter_map(parse_passwd).find(|p| {
        if user_arg.is_empty() {
            p.uid == 0
        } else if let Some(uid) = uid_arg {
            p.uid == uid
        } else {
            p.name == user_arg
        }
    });

    let (uid, mut gid, matched_name) = match (matched, uid_arg) {
        (Some(p), _) => (p.uid, p.gid, Some(p.name)),
        (None, _) if user_arg.is_empty() => (0, 0, None),
        (None, Some(uid)) => (check_id(uid)?, 0, None),
        (None, None) => return Err(RuntimeError::UserNotFound(user_arg.to_string())),
    };

    let mut member_of = Vec::new();
    if !group_arg.is_empty() || matched_name.is_some() {
        let group = read_rootfs_file(rootfs, "etc/group")?.unwrap_or_default();
        let groups = group.lines().filter_map(parse_group);
        if !group_arg.is_empty() {
            let found = groups
                .filter(|g| match gid_arg {
                    Some(gid) => g.gid == gid,
                    None => g.name == group_arg,
                })
                .map(|g| g.gid)
                .next();
            gid = match (found, gid_arg) {
                (Some(found), _) => found,
                (None, Some(gid)) => check_id(gid)?,
                (None, None) => return Err(RuntimeError::GroupNotFound(group_arg.to_string())),
            };
        } else if let Some(name) = matched_name {
            member_of = groups
                .filter(|g| g.members.contains(&name))
                .map(|g| to_u32(g.gid))
                .collect::<Result<_, _>>()?;
        }
    }
    let gid = to_u32(gid)?;
    // Docker lists the primary gid too (CVE-2022-36109), so that dropping it
    // with setgid elsewhere cannot keep an unexpected supplementary group.
    let mut additional_gids = vec![gid];
    additional_gids.extend(member_of);
    Ok(ResolvedUser {
        uid: to_u32(uid)?,
        gid,
        additional_gids,
    })
}

/// `--group-add`: each a gid, or a group name from the container's
/// /etc/group (Docker's text when it is not there); appended to `user`'s
/// supplementary groups without repeats.
pub fn add_groups(rootfs: &Path, user: &mut ResolvedUser, groups: &[String]) -> Result<(), RuntimeError> {
    if groups.is_empty() {
        return Ok(());
    }
    let file = read_rootfs_file(rootfs, "etc/group")?.unwrap_or_default();
    for g in groups {
        let gid = match g.parse::<i64>() {
            Ok(n) => check_id(n)?,
            Err(_) => file
                .lines()
                .filter_map(parse_group)
                .find(|e| e.name == g)
                .map(|e| e.gid)
                .ok_or_else(|| RuntimeError::GroupNotFound(g.clone()))?,
        };
        let gid = to_u32(gid)?;
        if !user.additional_gids.contains(&gid) {
            user.additional_gids.push(gid);
        }
    }
    Ok(())
}

fn check_id(id: i64) -> Result<i64, RuntimeError> {
    if (0..=MAX_ID).contains(&id) {
        Ok(id)
    } else {
        Err(RuntimeError::IdOutOfRange)
    }
}

/// Ids from the files are taken as they are if they fit the kernel's 32 bits.
fn to_u32(id: i64) -> Result<u32, RuntimeError> {
    u32::try_from(id).map_err(|_| RuntimeError::IdOutOfRange)
}

/// Numeric fields that do not parse count as 0, as in moby's parser.
fn parse_id(field: Option<&str>) -> i64 {
    field.and_then(|f| f.trim().parse().ok()).unwrap_or(0)
}

fn parse_passwd(line: &str) -> Option<PasswdEntry<'_>> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let mut fields = line.split(':');
    let name = fields.next()?;
    let _password = fields.next();
    Some(PasswdEntry {
        name,
        uid: parse_id(fields.next()),
        gid: parse_id(fields.next()),
    })
}

fn parse_group(line: &str) -> Option<GroupEntry<'_>> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let mut fields = line.split(':');
    let name = fields.next()?;
    let _password = fields.next();
    let gid = parse_id(fields.next());
    let members = fields
        .next()
        .map(|l| l.split(',').filter(|m| !m.is_empty()).collect());
    Some(GroupEntry {
        name,
        gid,
        members: members.unwrap_or_default(),
    })
}

/// Reads `rel` inside `rootfs` with every symlink resolved inside it; `None` if absent.
fn read_rootfs_file(rootfs: &Path, rel: &str) -> Result<Option<String>, RuntimeError> {
    let display = format!("/{rel}");
    let io_err = |source| RuntimeError::ReadRootfsFile {
        path: display.clone(),
        source,
    };
    let root = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(rootfs)
        .map_err(io_err)?;
    let Some(path_fd) = crate::target::open_in_root(&root, rel, libc::O_PATH).map_err(io_err)? else {
        return Ok(None);
    };
    let meta = File::from(path_fd.try_clone().map_err(io_err)?)
        .metadata()
        .map_err(io_err)?;
    if !meta.is_file() {
        return Err(RuntimeError::BadRootfsFile {
            path: display,
            reason: "not a regular file",
        });
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(RuntimeError::BadRootfsFile {
            path: display,
            reason: "file too large",
        });
    }
    // Reopen the very inode we checked (not the path again, which could be swapped).
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(format!("/proc/self/fd/{}", path_fd.as_raw_fd()))
        .map_err(io_err)?;
    let mut bytes = Vec::new();
    file.by_ref()
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(RuntimeError::BadRootfsFile {
            path: display,
            reason: "file too large",
        });
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
#[path = "user_tests.rs"]
mod tests;
