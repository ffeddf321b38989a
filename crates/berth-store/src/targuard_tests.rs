use super::*;

fn gnu_header(kind: tar::EntryType, path: &str, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_path(path).unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

/// An extension entry of `len` bytes, then a file it describes.
fn with_extension(kind: tar::EntryType, len: usize) -> Vec<u8> {
    let mut out = gnu_header(kind, "././@LongLink", len as u64).as_bytes().to_vec();
    let body = if kind.is_pax_local_extensions() {
        // One record padded to `len` with a long comment value.
        let pad = len - "0000000 comment=\n".len();
        format!("{len:07} comment={}\n", "c".repeat(pad)).into_bytes()
    } else {
        vec![b'a'; len]
    };
    assert_eq!(body.len(), len);
    out.extend_from_slice(&body);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(gnu_header(tar::EntryType::Regular, "f", 3).as_bytes());
    out.extend_from_slice(b"abc");
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}

/// An entry's path, type byte and content.
type Listed = (Vec<u8>, u8, Vec<u8>);

/// Every entry's path, type, size and content, or the first error.
fn list(data: &[u8], guard: bool) -> Result<Vec<Listed>, String> {
    let r: Box<dyn Read> = if guard { Box::new(TarGuard::new(data)) } else { Box::new(data) };
    let mut ar = tar::Archive::new(r);
    let mut out = Vec::new();
    for e in ar.entries().map_err(|e| e.to_string())? {
        let mut e = e.map_err(|e| e.to_string())?;
        let mut body = Vec::new();
        if e.header().entry_type().is_file() {
            e.read_to_end(&mut body).map_err(|e| e.to_string())?;
        }
        out.push((e.path_bytes().into_owned(), e.header().entry_type().as_byte(), body));
    }
    Ok(out)
}

#[test]
fn huge_long_names_and_pax_headers_are_refused_before_buffering() {
    for kind in [tar::EntryType::GNULongName, tar::EntryType::GNULongLink, tar::EntryType::XHeader] {
        let data = with_extension(kind, (MAX_SPECIAL + 1) as usize);
        let err = list(&data, true).unwrap_err();
        assert!(err.contains("tar extended header of 1048577 bytes (at most 1048576 are accepted)"), "{kind:?}: {err}");
        // The same just under the bound is read as without the guard.
        let data = with_extension(kind, MAX_SPECIAL as usize);
        assert_eq!(list(&data, true), list(&data, false), "{kind:?}");
        assert!(list(&data, true).unwrap().iter().any(|(_, _, b)| b == b"abc"), "{kind:?}");
    }
}

#[test]
fn ordinary_archives_pass_unchanged() {
    let mut b = tar::Builder::new(Vec::new());
    let long = format!("{}/file", "d".repeat(300));
    let mut h = tar::Header::new_gnu();
    h.set_size(5);
    h.set_mode(0o644);
    b.append_data(&mut h, &long, &b"hello"[..]).unwrap();
    b.append_pax_extensions([("SCHILY.xattr.user.k", &b"v"[..])]).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_size(2);
    h.set_mode(0o644);
    b.append_data(&mut h, "x", &b"hi"[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "l", "e".repeat(200)).unwrap();
    let data = b.into_inner().unwrap();
    let plain = list(&data, false).unwrap();
    assert_eq!(plain.len(), 3);
    assert_eq!(list(&data, true).unwrap(), plain);
}

#[test]
fn pax_size_moves_the_next_header_as_the_tar_crate_does() {
    // A PAX `size` of 1024 for an entry whose header says 0: the tar
    // crate reads 1024 bytes of data, and so must the guard before it
    // looks for the next header (a long name of 2 MiB, refused).
    let rec = "13 size=1024\n";
    let mut data = gnu_header(tar::EntryType::XHeader, "././@PaxHeader", rec.len() as u64).as_bytes().to_vec();
    data.extend_from_slice(rec.as_bytes());
    data.resize(1024, 0);
    data.extend_from_slice(gnu_header(tar::EntryType::Regular, "f", 0).as_bytes());
    data.extend_from_slice(&[b'z'; 1024]);
    data.extend_from_slice(&with_extension(tar::EntryType::GNULongName, 2 << 20));
    let err = list(&data, true).unwrap_err();
    assert!(err.contains("tar extended header of 2097152 bytes"), "{err}");
    let plain = list(&data, false).unwrap();
    assert_eq!(plain[0].2.len(), 1024);
}
