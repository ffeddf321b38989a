//! Image references (`name[:tag][@digest]`) as pull, tag, create and
//! inspect read them; every accessor and the round trip must hold.
#![no_main]

use berth_image::Reference;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = Reference::parse(s);
    if let Ok(r) = Reference::parse_normalized(s) {
        let _ = (r.domain(), r.path(), r.name(), r.tag(), r.digest());
        let _ = r.familiar_name();
        // The full name always reads back as the same reference.
        let mut full = r.name();
        if let Some(t) = r.tag() {
            full = format!("{full}:{t}");
        }
        if let Some(d) = r.digest() {
            full = format!("{full}@{d}");
        }
        let again = Reference::parse_normalized(&full).expect("full form re-parses");
        assert_eq!((again.name(), again.tag(), again.digest()), (r.name(), r.tag(), r.digest()), "{s:?} -> {full:?}");
        // So does the familiar form, except where Docker's own is ambiguous:
        // `docker.io/foo.com/bar` shows as `foo.com/bar`, a registry name.
        let shown = r.familiar_string();
        let first = shown.split('/').next().unwrap_or("");
        let looks_like_domain = shown.contains('/') && (first.contains(['.', ':']) || first == "localhost");
        // And `docker.io/<64 hex>` shows as 64 hex digits, which read as an image ID.
        let name = r.familiar_name();
        let looks_like_id = name.len() == 64 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if r.domain() != "docker.io" || !(looks_like_domain || looks_like_id) {
            let again = Reference::parse_normalized(&shown).expect("familiar form re-parses");
            assert_eq!((again.name(), again.tag()), (r.name(), r.tag()), "{s:?} -> {shown:?}");
        }
        let _ = r.with_tag("latest");
    }
});
