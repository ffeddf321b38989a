//! The one extended attribute Docker carries through COPY and its source hashes:
//! `security.capability` (file capabilities, e.g. ping's cap_net_raw).

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const NAME: &[u8] = b"security.capability\0";

fn cpath(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other)
}

/// The file's capabilities, if it has any (never following a symlink).
pub fn get_caps(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let c = cpath(path)?;
    let mut buf = vec![0u8; 256];
    // SAFETY: `c` and NAME are NUL-terminated; `buf` is writable for `buf.len()` bytes.
    let n = unsafe {
        libc::lgetxattr(c.as_ptr(), NAME.as_ptr().cast(), buf.as_mut_ptr().cast(), buf.len())
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENODATA) | Some(libc::ENOTSUP) | Some(libc::ERANGE) => Ok(None),
            _ => Err(e),
        };
    }
    buf.truncate(n as usize);
    Ok(Some(buf))
}

/// Sets capabilities on a file (after any chown, which clears them).
pub fn set_caps(path: &Path, value: &[u8]) -> io::Result<()> {
    let c = cpath(path)?;
    // SAFETY: `c` and NAME are NUL-terminated; `value` is readable for its length.
    let r = unsafe {
        libc::lsetxattr(c.as_ptr(), NAME.as_ptr().cast(), value.as_ptr().cast(), value.len(), 0)
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// dockerd hashes and copies revision-3 capabilities (with a root uid) as revision 2.
pub fn normalize(mut caps: Vec<u8>) -> Vec<u8> {
    const XATTR_CAPS_SZ2: usize = 20;
    if caps.len() > XATTR_CAPS_SZ2 && caps.get(3) == Some(&3) {
        caps[3] = 2;
        caps.truncate(XATTR_CAPS_SZ2);
    }
    caps
}
