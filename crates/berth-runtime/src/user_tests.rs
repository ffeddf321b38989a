//! resolve_user against ordinary and hostile root filesystems.

use super::*;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
daemon:x:1:1:daemon:/usr/sbin:/bin/false\n\
\n\
bob:x:1000:1001:Bob:/home/bob:/bin/sh\n\
broken:x:notanumber\n";

const GROUP: &str = "root:x:0:\n\
wheel:x:10:root,bob\n\
staff:x:50:bob\n\
bobs:x:1001:\n\
docker:x:999:\n";

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create tempdir")
}

fn rootfs_with(passwd: Option<&str>, group: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let root = dir.path().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).expect("mkdir etc");
    if let Some(p) = passwd {
        std::fs::write(root.join("etc/passwd"), p).expect("write passwd");
    }
    if let Some(g) = group {
        std::fs::write(root.join("etc/group"), g).expect("write group");
    }
    (dir, root)
}

/// The user Docker would produce: primary gid first among the additional gids.
fn user(uid: u32, gid: u32, member_of: &[u32]) -> ResolvedUser {
    let mut additional_gids = vec![gid];
    additional_gids.extend_from_slice(member_of);
    ResolvedUser {
        uid,
        gid,
        additional_gids,
    }
}

#[test]
fn resolves_like_docker() {
    let (_d, root) = rootfs_with(Some(PASSWD), Some(GROUP));
    let ok = |s: &str| resolve_user(&root, s).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(ok(""), user(0, 0, &[10]));
    assert_eq!(ok("root"), user(0, 0, &[10]));
    assert_eq!(ok("bob"), user(1000, 1001, &[10, 50]));
    assert_eq!(ok("1000"), user(1000, 1001, &[10, 50]));
    assert_eq!(ok("bob:staff"), user(1000, 50, &[]));
    assert_eq!(ok("bob:999"), user(1000, 999, &[]));
    assert_eq!(ok("bob:4321"), user(1000, 4321, &[]));
    assert_eq!(ok("4242"), user(4242, 0, &[]));
    assert_eq!(ok("4242:docker"), user(4242, 999, &[]));
    assert_eq!(ok("daemon:"), user(1, 1, &[]));
    assert_eq!(ok(":wheel"), user(0, 10, &[]));
}

#[test]
fn unknown_names_and_bad_ids_fail_with_dockers_text() {
    let (_d, root) = rootfs_with(Some(PASSWD), Some(GROUP));
    let err = |s: &str| resolve_user(&root, s).expect_err(s).to_string();
    assert_eq!(
        err("alice"),
        "unable to find user alice: no matching entries in passwd file"
    );
    assert_eq!(
        err("bob:nogroup"),
        "unable to find group nogroup: no matching entries in group file"
    );
    assert_eq!(err("-1"), "uids and gids must be in range 0-2147483647");
    assert_eq!(
        err("2147483648"),
        "uids and gids must be in range 0-2147483647"
    );
    assert_eq!(err("bob:-5"), "uids and gids must be in range 0-2147483647");
    assert_eq!(
        err("99999999999999999999999"),
        "unable to find user 99999999999999999999999: no matching entries in passwd file"
    );
    assert!(err("a\0b").starts_with("unable to find user"));
}

#[test]
fn missing_files_mean_no_entries() {
    let (_d, root) = rootfs_with(None, None);
    assert_eq!(resolve_user(&root, "").ok(), Some(user(0, 0, &[])));
    assert_eq!(
        resolve_user(&root, "123:456").ok(),
        Some(user(123, 456, &[]))
    );
    assert!(resolve_user(&root, "bob").is_err());
    let dir = tempdir();
    // No /etc at all.
    assert_eq!(resolve_user(dir.path(), "7").ok(), Some(user(7, 0, &[])));
}

/// A host file the container must never be able to read through its passwd.
fn secret_outside(dir: &Path) -> PathBuf {
    let secret = dir.join("host-shadow");
    std::fs::write(&secret, "evil:x:4242:4242::/:/bin/sh\n").expect("write secret");
    secret
}

#[test]
fn symlinks_cannot_escape_the_rootfs() {
    let (dir, root) = rootfs_with(None, None);
    let secret = secret_outside(dir.path());
    let targets = [
        secret.to_string_lossy().into_owned(), // absolute host path
        "../../host-shadow".to_string(),       // relative, climbing out
        "../../../../../../../../host-shadow".to_string(), // climbing past /
        "/proc/self/root".to_string() + &secret.to_string_lossy(), // magic link
    ];
    for target in targets {
        let passwd = root.join("etc/passwd");
        let _ = std::fs::remove_file(&passwd);
        symlink(&target, &passwd).expect("symlink passwd");
        let err = resolve_user(&root, "evil").expect_err(&target).to_string();
        assert_eq!(
            err, "unable to find user evil: no matching entries in passwd file",
            "{target}"
        );
    }
}

#[test]
fn etc_symlinked_out_stays_inside() {
    let dir = tempdir();
    let root = dir.path().join("rootfs");
    std::fs::create_dir_all(&root).expect("mkdir rootfs");
    let host_etc = dir.path().join("host-etc");
    std::fs::create_dir_all(&host_etc).expect("mkdir host etc");
    std::fs::write(host_etc.join("passwd"), "evil:x:4242:4242::/:/bin/sh\n").expect("write");
    symlink(&host_etc, root.join("etc")).expect("symlink etc");
    assert!(resolve_user(&root, "evil").is_err());
}

#[test]
fn links_inside_the_rootfs_are_followed() {
    let (_d, root) = rootfs_with(None, Some(GROUP));
    std::fs::create_dir_all(root.join("usr/lib")).expect("mkdir");
    std::fs::write(root.join("usr/lib/passwd"), PASSWD).expect("write");
    // Absolute link: resolved against the rootfs, not the host.
    symlink("/usr/lib/passwd", root.join("etc/passwd")).expect("symlink");
    assert_eq!(
        resolve_user(&root, "bob").ok(),
        Some(user(1000, 1001, &[10, 50]))
    );
}

#[test]
fn non_regular_and_huge_files_are_refused() {
    let (_d, root) = rootfs_with(None, None);
    let passwd = root.join("etc/passwd");
    // A FIFO would block a reader forever.
    let c_path = std::ffi::CString::new(passwd.to_string_lossy().as_bytes()).expect("cstring");
    // SAFETY: c_path is a valid NUL-terminated path for the duration of the call.
    let rc = unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo");
    let err = resolve_user(&root, "bob").expect_err("fifo").to_string();
    assert!(err.contains("not a regular file"), "{err}");
    std::fs::remove_file(&passwd).expect("rm fifo");

    std::fs::create_dir(&passwd).expect("mkdir passwd");
    assert!(resolve_user(&root, "bob").is_err());
    std::fs::remove_dir(&passwd).expect("rmdir");

    let f = std::fs::File::create(&passwd).expect("create");
    f.set_len(MAX_FILE_SIZE + 1).expect("set_len");
    let err = resolve_user(&root, "bob").expect_err("huge").to_string();
    assert!(err.contains("too large"), "{err}");
}

#[test]
fn garbage_lines_do_not_panic() {
    let junk = "::::\n:\n\u{0}\n\u{fffd}:x:1:1\nbob:x:1000:1001\nx:x:99999999999999999999999:1\n";
    let (_d, root) = rootfs_with(Some(junk), Some("::\n,,,:x:5:,,bob,,\n"));
    assert_eq!(
        resolve_user(&root, "bob").ok(),
        Some(user(1000, 1001, &[5]))
    );
}

#[test]
fn group_add_by_name_and_number() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/group"), "root:x:0:\naudio:x:29:\n").unwrap();
    let mut u = ResolvedUser { uid: 0, gid: 0, additional_gids: vec![0] };
    crate::user::add_groups(root.path(), &mut u, &["audio".into(), "1234".into(), "0".into()]).unwrap();
    assert_eq!(u.additional_gids, vec![0, 29, 1234]);
    let err = crate::user::add_groups(root.path(), &mut u, &["nope".into()]).unwrap_err();
    assert_eq!(err.to_string(), "unable to find group nope: no matching entries in group file");
}
