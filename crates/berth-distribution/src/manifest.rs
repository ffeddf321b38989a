//! Manifests and indexes (Docker schema 2 and OCI) through `oci-spec`'s
//! types, and choosing the host's platform from an index.

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use crate::error::{DistributionError, Result};

pub mod media {
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
    pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    /// What a pull asks for, in the order dockerd lists them.
    pub const ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, \
        application/vnd.docker.distribution.manifest.list.v2+json, \
        application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";
}

/// A parsed manifest document.
#[derive(Debug, Clone)]
pub enum Manifest {
    Image(Box<ImageManifest>),
    Index(Box<ImageIndex>),
}

impl Manifest {
    /// Parse by the Content-Type, falling back on the document's own `mediaType`
    /// or shape (some registries answer `application/json`).
    pub fn parse(content_type: &str, data: &[u8]) -> Result<Manifest> {
        let ct = content_type.split(';').next().unwrap_or("").trim();
        let declared: Option<String> = serde_json::from_slice::<serde_json::Value>(data)
            .ok()
            .and_then(|v| {
                let mt = v.get("mediaType").and_then(|m| m.as_str()).map(str::to_string);
                mt.or_else(|| v.get("manifests").map(|_| media::OCI_INDEX.to_string()))
                    .or_else(|| v.get("layers").map(|_| media::OCI_MANIFEST.to_string()))
                    .or_else(|| v.get("fsLayers").map(|_| media::DOCKER_SCHEMA1.to_string()))
            });
        let kind = match ct {
            media::DOCKER_MANIFEST | media::OCI_MANIFEST | media::DOCKER_LIST | media::OCI_INDEX => ct.to_string(),
            _ => declared.unwrap_or_else(|| ct.to_string()),
        };
        let bad = |e: oci_spec::OciSpecError| DistributionError::InvalidManifest(format!("invalid manifest: {e}"));
        match kind.as_str() {
            media::DOCKER_MANIFEST | media::OCI_MANIFEST => Ok(Manifest::Image(Box::new(ImageManifest::from_reader(data).map_err(bad)?))),
            media::DOCKER_LIST | media::OCI_INDEX => Ok(Manifest::Index(Box::new(ImageIndex::from_reader(data).map_err(bad)?))),
            media::DOCKER_SCHEMA1 | media::DOCKER_SCHEMA1_SIGNED => Err(DistributionError::UnsupportedMediaType(format!(
                "{kind}: Docker Image manifest version 2, schema 1 is no longer supported; push the image again with a newer client"
            ))),
            other => Err(DistributionError::UnsupportedMediaType(other.to_string())),
        }
    }
}

/// `os/arch[/variant]` as `--platform` spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSpec {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl PlatformSpec {
    pub fn host() -> PlatformSpec {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        let variant = (arch == "arm64").then(|| "v8".to_string());
        PlatformSpec { os: "linux".into(), arch: arch.into(), variant }
    }

    /// Parse `os[/arch[/variant]]`; arch defaults to the host's.
    pub fn parse(s: &str) -> Result<PlatformSpec> {
        let host = PlatformSpec::host();
        let parts: Vec<&str> = s.split('/').collect();
        let bad = || DistributionError::InvalidReference(format!("\"{s}\": unknown operating system or architecture: invalid argument"));
        match parts.as_slice() {
            [os] if !os.is_empty() => Ok(PlatformSpec { os: os.to_lowercase(), ..host }),
            [os, arch] if !os.is_empty() && !arch.is_empty() => {
                let (arch, variant) = normalize_arch(arch, None);
                Ok(PlatformSpec { os: os.to_lowercase(), arch, variant })
            }
            [os, arch, v] if !os.is_empty() && !arch.is_empty() && !v.is_empty() => {
                let (arch, variant) = normalize_arch(arch, Some(v));
                Ok(PlatformSpec { os: os.to_lowercase(), arch, variant })
            }
            _ => Err(bad()),
        }
    }
}

fn normalize_arch(arch: &str, variant: Option<&str>) -> (String, Option<String>) {
    let arch = arch.to_lowercase();
    match arch.as_str() {
        "x86_64" | "x86-64" => ("amd64".into(), None),
        "aarch64" | "arm64" => ("arm64".into(), Some(variant.unwrap_or("v8").to_string())),
        _ => (arch, variant.map(str::to_string)),
    }
}

impl std::fmt::Display for PlatformSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

fn platform_string(d: &Descriptor) -> Option<String> {
    let p = d.platform().as_ref()?;
    let mut s = format!("{}/{}", p.os(), p.architecture());
    if let Some(v) = p.variant() {
        s.push('/');
        s.push_str(v);
    }
    Some(s)
}

/// The index entry for `want`: same os and architecture, and the same
/// variant when both name one (arm64's `v8` is the default either way).
pub fn select<'a>(index: &'a ImageIndex, want: &PlatformSpec) -> Result<&'a Descriptor> {
    let matches = |d: &&Descriptor| {
        let Some(p) = d.platform() else { return false };
        if p.os().to_string() != want.os || p.architecture().to_string() != want.arch {
            return false;
        }
        match (p.variant().as_deref(), want.variant.as_deref()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    };
    index.manifests().iter().find(matches).ok_or_else(|| DistributionError::NoMatchingPlatform {
        wanted: want.to_string(),
        available: index.manifests().iter().filter_map(platform_string).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":1,"platform":{"architecture":"arm","os":"linux","variant":"v7"}},
      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":1,"platform":{"architecture":"amd64","os":"linux"}}]}"#;

    #[test]
    fn selects_platforms() {
        let Manifest::Index(idx) = Manifest::parse("application/json", INDEX.as_bytes()).expect("parse") else {
            panic!("not an index")
        };
        let amd = PlatformSpec::parse("linux/amd64").expect("platform");
        assert!(select(&idx, &amd).expect("amd64").digest().to_string().ends_with("2222"));
        let arm = PlatformSpec::parse("linux/arm/v7").expect("platform");
        assert!(select(&idx, &arm).expect("arm").digest().to_string().ends_with("1111"));
        let e = select(&idx, &PlatformSpec::parse("linux/s390x").expect("platform")).expect_err("none");
        assert_eq!(
            e.to_string(),
            "no matching manifest for linux/s390x in the manifest list entries (available: linux/arm/v7, linux/amd64)"
        );
    }

    #[test]
    fn refuses_schema1() {
        let e = Manifest::parse(media::DOCKER_SCHEMA1_SIGNED, b"{}").expect_err("schema1");
        assert!(e.to_string().contains("schema 1"), "{e}");
    }
}
