//! Image references the way the docker CLI normalizes them before talking
//! to the daemon: `busybox` → `docker.io/library/busybox:latest`, and back
//! to the familiar `busybox:latest` for messages.

const DEFAULT_DOMAIN: &str = "docker.io";
const OFFICIAL_PREFIX: &str = "library/";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Full repository name, e.g. `docker.io/library/busybox`.
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    /// Parses and normalizes; errors on what docker would reject.
    pub fn parse(s: &str) -> Result<Reference, String> {
        let invalid = || format!("invalid reference format: repository name ({s}) must be lowercase");
        if s.is_empty() {
            return Err("invalid reference format".to_string());
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (s, None),
        };
        // A tag follows the last ':' that comes after the last '/'.
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(rest[slash + i + 1..].to_string())),
            None => (rest, None),
        };
        if name.is_empty() || name.starts_with('/') || name.ends_with('/') || name.contains("//") {
            return Err("invalid reference format".to_string());
        }
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                && !t.starts_with(['.', '-']);
            if !ok {
                return Err("invalid reference format".to_string());
            }
        }
        let (domain, path) = split_domain(name);
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(invalid());
        }
        let path_ok = path.split('/').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
                && part.starts_with(|c: char| c.is_ascii_alphanumeric())
        });
        if !path_ok {
            return Err("invalid reference format".to_string());
        }
        Ok(Reference { name: format!("{domain}/{path}"), tag, digest })
    }

    /// `TagNameOnly`: adds `latest` when neither tag nor digest is given.
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some("latest".to_string());
        }
        self
    }

    /// `FamiliarName`: `busybox`, `user/app`, `ghcr.io/x/y`.
    pub fn familiar_name(&self) -> String {
        match self.name.strip_prefix(&format!("{DEFAULT_DOMAIN}/")) {
            Some(p) => p.strip_prefix(OFFICIAL_PREFIX).unwrap_or(p).to_string(),
            None => self.name.clone(),
        }
    }

    /// `FamiliarString`: familiar name plus `:tag` and `@digest`.
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

fn split_domain(name: &str) -> (&str, String) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| c.is_ascii_uppercase()) => {
            (first, rest.to_string())
        }
        _ => {
            if name.contains('/') {
                (DEFAULT_DOMAIN, name.to_string())
            } else {
                (DEFAULT_DOMAIN, format!("{OFFICIAL_PREFIX}{name}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_docker() {
        let r = Reference::parse("busybox").unwrap().with_default_tag();
        assert_eq!(r.name, "docker.io/library/busybox");
        assert_eq!(r.familiar_string(), "busybox:latest");
        let r = Reference::parse("localhost:5000/app:v1").unwrap();
        assert_eq!(r.name, "localhost:5000/app");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.familiar_string(), "localhost:5000/app:v1");
        let r = Reference::parse("user/app@sha256:abc").unwrap().with_default_tag();
        assert_eq!(r.tag, None);
        assert_eq!(r.familiar_name(), "user/app");
        assert_eq!(Reference::parse("docker.io/library/busybox:1.36").unwrap().familiar_string(), "busybox:1.36");
    }

    #[test]
    fn rejects_bad_references() {
        for bad in ["", "Busybox", "a:", "a:-x", "/a", "a//b", "a/", "a b", "a:b:c"] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
