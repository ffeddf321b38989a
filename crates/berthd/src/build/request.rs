//! `POST /build`'s query parameters, checked before anything is read.
//! Settings berth's builder does not have are refused by name rather than
//! accepted and dropped; the docker CLI's zero values for them pass.

use berth_api::query::Query;
use berth_api::ApiError;
use berth_image::Reference;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct BuildRequest {
    pub tags: Vec<Reference>,
    pub dockerfile: String,
    pub build_args: BTreeMap<String, Option<String>>,
    pub target: Option<String>,
    pub no_cache: bool,
    pub pull: bool,
    pub labels: BTreeMap<String, String>,
    pub quiet: bool,
    pub network: String,
    pub platform: Option<String>,
    pub extra_hosts: Vec<String>,
    pub shm_size: Option<i64>,
    /// `--cache-from`: as in dockerd's classic builder, only these images
    /// and their parent chains may serve cache hits (names that do not
    /// resolve are skipped).
    pub cache_from: Vec<String>,
    /// Secret ids the berth CLI put into the context under `.berth-secrets/`.
    pub secrets: Vec<String>,
    /// `remote=`: an http(s) URL serving the context as a tarball (plain or
    /// gzip) or a lone Dockerfile; the request body is then not read.
    pub remote: Option<String>,
}

/// A git remote as dockerd tells one (`git://`, `git@`, `github.com/`, or
/// an http(s) URL ending in `.git`, optionally with `#ref`).
fn is_git_url(s: &str) -> bool {
    if s.starts_with("git://") || s.starts_with("git@") || s.starts_with("github.com/") {
        return true;
    }
    let is_url = s.starts_with("http://") || s.starts_with("https://");
    is_url && s.split('#').next().is_some_and(|p| p.ends_with(".git"))
}

fn remote(q: &Query) -> Result<Option<String>, ApiError> {
    let Some(r) = q.get("remote").filter(|r| !r.is_empty()) else { return Ok(None) };
    if r == "client-session" {
        return Err(ApiError::invalid("berth has no BuildKit session (remote=client-session); send the context as the request body"));
    }
    if is_git_url(r) {
        return Err(ApiError::invalid(format!(
            "berth does not clone git repositories for a build context (remote={r}); clone it and send the directory as the context"
        )));
    }
    if !(r.starts_with("http://") || r.starts_with("https://")) {
        return Err(ApiError::invalid(format!("remoteURL ({r}) could not be recognized as URL")));
    }
    Ok(Some(r.to_string()))
}

fn json_map<T: serde::de::DeserializeOwned>(q: &Query, key: &str) -> Result<BTreeMap<String, T>, ApiError> {
    match q.get(key) {
        None | Some("") | Some("null") => Ok(BTreeMap::new()),
        Some(v) => serde_json::from_str(v).map_err(|e| ApiError::invalid(format!("invalid {key}: {e}"))),
    }
}

/// Parameters whose zero value is all berth accepts: (name, what it is).
const UNSUPPORTED: &[(&str, &str)] = &[
    ("memory", "a memory limit for RUN (--memory)"),
    ("memswap", "a swap limit for RUN (--memory-swap)"),
    ("cpushares", "CPU shares for RUN (--cpu-shares)"),
    ("cpusetcpus", "a CPU set for RUN (--cpuset-cpus)"),
    ("cpusetmems", "a memory-node set for RUN (--cpuset-mems)"),
    ("cpuperiod", "a CPU period for RUN (--cpu-period)"),
    ("cpuquota", "a CPU quota for RUN (--cpu-quota)"),
    ("cgroupparent", "a cgroup parent for RUN (--cgroup-parent)"),
    ("squash", "squashing the image (--squash)"),
    ("securityopt", "security options for RUN (--security-opt)"),
    ("session", "a BuildKit session"),
    ("outputs", "build outputs (--output)"),
];

fn is_zero(v: &str) -> bool {
    matches!(v, "" | "0" | "false" | "False" | "null" | "[]" | "{}")
}

/// A set or a path is unset only when empty: `cpusetcpus=0` names CPU 0.
fn is_unset(key: &str, v: &str) -> bool {
    match key {
        "cpusetcpus" | "cpusetmems" | "cgroupparent" => v.is_empty(),
        _ => is_zero(v),
    }
}

impl BuildRequest {
    pub fn from_query(q: &Query) -> Result<BuildRequest, ApiError> {
        match q.get("version") {
            None | Some("") | Some("1") => {}
            Some("2") => {
                return Err(ApiError::invalid(
                    "berth has no BuildKit: it answers the classic builder's API (version=1); build with DOCKER_BUILDKIT=0 docker build, or berth build",
                ))
            }
            Some(v) => return Err(ApiError::invalid(format!("unsupported builder version {v:?}"))),
        }
        let remote = remote(q)?;
        for (key, what) in UNSUPPORTED {
            for v in q.get_all(key) {
                if !is_unset(key, v) {
                    return Err(ApiError::invalid(format!("berth build does not support {what} yet ({key}={v})")));
                }
            }
        }
        if q.get("ulimits").is_some_and(|v| !is_zero(v)) {
            return Err(ApiError::invalid("berth build does not support ulimits for RUN yet (--ulimit)"));
        }
        if q.get("isolation").is_some_and(|v| !v.is_empty() && v != "default") {
            return Err(ApiError::invalid("berth build supports only the default isolation"));
        }
        let cache_from: Vec<String> = match q.get("cachefrom") {
            None | Some("") | Some("null") => Vec::new(),
            Some(v) => serde_json::from_str(v).map_err(|e| ApiError::invalid(format!("invalid cachefrom: {e}")))?,
        };
        let mut tags = Vec::new();
        for t in q.get_all("t").into_iter().filter(|t| !t.is_empty()) {
            let r = Reference::parse(t).map_err(crate::error::image_error)?;
            if r.digest().is_some() {
                return Err(ApiError::invalid(format!("invalid reference format: {t} carries a digest; a build can only be tagged")));
            }
            tags.push(r);
        }
        let shm_size = q.int("shmsize")?.filter(|s| *s != 0);
        if shm_size.is_some_and(|s| s < 0) {
            return Err(ApiError::invalid("shmsize: the size must be greater than 0"));
        }
        let network = match q.get("networkmode") {
            None | Some("") => "default".to_string(),
            Some(n) => n.to_string(),
        };
        Ok(BuildRequest {
            tags,
            // The first value, as Go's FormValue (docker-py 7 sends a second one).
            dockerfile: q.get_all("dockerfile").first().filter(|d| !d.is_empty()).copied().unwrap_or("Dockerfile").to_string(),
            build_args: json_map(q, "buildargs")?,
            target: q.get("target").filter(|t| !t.is_empty()).map(str::to_string),
            no_cache: q.flag("nocache"),
            pull: q.flag("pull"),
            labels: json_map(q, "labels")?,
            quiet: q.flag("q"),
            network,
            platform: q.get("platform").filter(|p| !p.is_empty()).map(str::to_string),
            extra_hosts: q.get_all("extrahosts").into_iter().flat_map(|h| h.split(',')).filter(|h| !h.is_empty()).map(str::to_string).collect(),
            shm_size,
            cache_from,
            secrets: q.get("berthsecrets").map(|s| s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect()).unwrap_or_default(),
            remote,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Query {
        Query::parse(Some(s))
    }

    #[test]
    fn the_docker_clis_defaults_pass() -> Result<(), ApiError> {
        let r = BuildRequest::from_query(&q("buildargs=%7B%7D&cachefrom=%5B%5D&cgroupparent=&cpuperiod=0&cpuquota=0&cpusetcpus=&cpusetmems=&cpushares=0&dockerfile=Dockerfile&labels=%7B%7D&memory=0&memswap=0&networkmode=default&rm=1&shmsize=0&t=app&target=&ulimits=null&version=1"))?;
        assert_eq!(r.tags.len(), 1);
        assert_eq!(r.tags[0].familiar_string(), "app:latest");
        assert_eq!(r.network, "default");
        assert_eq!(r.shm_size, None);
        Ok(())
    }

    #[test]
    fn settings_berth_lacks_are_refused_by_name() {
        for bad in [
            "memory=1000000",
            "cpushares=2",
            "cpusetcpus=0",
            "version=2",
            "remote=https://x/y.git",
            "remote=git@github.com:a/b",
            "remote=github.com/a/b",
            "remote=ftp://x/ctx.tar",
            "remote=client-session",
            "cachefrom=%7B%7D",
            "t=UPPER",
        ] {
            assert!(BuildRequest::from_query(&q(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_http_remote_is_taken() -> Result<(), ApiError> {
        let r = BuildRequest::from_query(&q("remote=http%3A%2F%2F127.0.0.1%3A8080%2Fctx.tar.gz"))?;
        assert_eq!(r.remote.as_deref(), Some("http://127.0.0.1:8080/ctx.tar.gz"));
        Ok(())
    }

    #[test]
    fn build_args_keep_null_values() -> Result<(), ApiError> {
        let r = BuildRequest::from_query(&q("buildargs=%7B%22A%22%3A%221%22%2C%22B%22%3Anull%7D"))?;
        assert_eq!(r.build_args.get("A"), Some(&Some("1".into())));
        assert_eq!(r.build_args.get("B"), Some(&None));
        Ok(())
    }
}
