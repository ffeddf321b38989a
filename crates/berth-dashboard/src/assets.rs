//! The front-end bundle, built from dashboard/ by build.rs and embedded so
//! the dashboard needs no files at run time. Scripts and styles also come
//! gzipped (made at build time) for browsers that accept it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

pub struct Asset {
    pub body: &'static [u8],
    /// A strong validator of the content (FNV-1a of the bytes), for 304s.
    pub etag: String,
    pub gzipped: Option<&'static [u8]>,
    pub content_type: &'static str,
}

macro_rules! out {
    ($f:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/", $f))
    };
}

pub fn get(path: &str) -> Option<Asset> {
    let (body, gzipped, content_type): (&'static [u8], Option<&'static [u8]>, _) = match path {
        "/" | "/index.html" => (out!("index.html"), None, "text/html; charset=utf-8"),
        "/app.js" => (out!("app.js"), Some(out!("app.js.gz")), "text/javascript; charset=utf-8"),
        "/app.css" => (out!("app.css"), Some(out!("app.css.gz")), "text/css; charset=utf-8"),
        _ => return None,
    };
    Some(Asset { body, gzipped, content_type, etag: etag(body) })
}

/// Computed once per file (the bytes never change while berth runs).
fn etag(body: &'static [u8]) -> String {
    static TAGS: OnceLock<Mutex<HashMap<usize, String>>> = OnceLock::new();
    let mut tags = TAGS.get_or_init(Mutex::default).lock().unwrap_or_else(|p| p.into_inner());
    tags.entry(body.as_ptr() as usize).or_insert_with(|| format!("\"{:016x}\"", fnv1a(body))).clone()
}

/// Not a cryptographic hash: a validator for the browser's cache, made
/// from bytes this binary embeds.
fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    #[test]
    fn assets_and_etags() {
        let js = super::get("/app.js").unwrap();
        assert!(js.gzipped.is_some() && js.content_type.starts_with("text/javascript"));
        assert_eq!(js.etag, super::get("/app.js").unwrap().etag);
        assert_ne!(js.etag, super::get("/").unwrap().etag);
        assert!(super::get("/secret").is_none());
    }
}
