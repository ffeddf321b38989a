//! The front-end bundle, built from dashboard/ by build.rs and embedded so
//! the dashboard needs no files at run time. Scripts and styles also come
//! gzipped (made at build time) for browsers that accept it.

pub struct Asset {
    pub body: &'static [u8],
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
    Some(Asset { body, gzipped, content_type })
}
