//! `--security-opt`: seccomp profile, no-new-privileges, AppArmor and
//! SELinux labels, read the way dockerd reads them. What berth cannot
//! honour on this host is refused, never dropped.

use crate::RuntimeError;
use serde_json::Value;

/// Which seccomp filter a container runs under.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SeccompProfile {
    /// Docker's default profile (berth's table in `seccomp.rs`).
    #[default]
    Default,
    /// No filter (`seccomp=unconfined`).
    Unconfined,
    /// A profile in Docker's JSON format, as the client sent it.
    Custom(Value),
}

/// What the `SecurityOpt` list asks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecurityOptions {
    pub seccomp: SeccompProfile,
    pub no_new_privileges: bool,
}

/// Reads `HostConfig.SecurityOpt`. Error texts are dockerd's where it has them.
pub fn parse_security_opts(opts: &[String]) -> Result<SecurityOptions, RuntimeError> {
    let mut out = SecurityOptions::default();
    for opt in opts {
        if opt == "no-new-privileges" {
            out.no_new_privileges = true;
            continue;
        }
        if opt == "disable" {
            // The legacy spelling of label=disable: no SELinux labelling, which is what berth does.
            continue;
        }
        // "key=value"; the legacy "key:value" is still read, as dockerd does.
        let (key, value) = opt
            .split_once('=')
            .or_else(|| opt.split_once(':'))
            .ok_or_else(|| RuntimeError::SecurityOpt(format!("invalid --security-opt 1: {opt:?}")))?;
        match key {
            "seccomp" => out.seccomp = parse_seccomp(value)?,
            "no-new-privileges" => {
                out.no_new_privileges = parse_bool(value)
                    .ok_or_else(|| RuntimeError::SecurityOpt(format!("invalid --security-opt 2: {opt:?}")))?
            }
            // Without AppArmor or SELinux, unconfined and disabled are the state
            // every container is in; any other profile or label would be ignored.
            "apparmor" if value == "unconfined" => {}
            "apparmor" => {
                return Err(RuntimeError::SecurityOpt(format!(
                    "berth does not support AppArmor profiles yet (--security-opt {opt}); only apparmor=unconfined is accepted"
                )))
            }
            "label" if value == "disable" => {}
            "label" => {
                return Err(RuntimeError::SecurityOpt(format!(
                    "berth does not support SELinux labels yet (--security-opt {opt}); only label=disable is accepted"
                )))
            }
            "writable-cgroups" => {
                return Err(RuntimeError::SecurityOpt(format!(
                    "berth does not support --security-opt {opt} yet"
                )))
            }
            _ => return Err(RuntimeError::SecurityOpt(format!("invalid --security-opt 2: {opt:?}"))),
        }
    }
    Ok(out)
}

impl SecurityOptions {
    /// The seccomp filter for a container holding `caps`.
    pub fn seccomp_spec(&self, caps: &[String]) -> Result<crate::SeccompSpec, RuntimeError> {
        Ok(match &self.seccomp {
            SeccompProfile::Default => crate::SeccompSpec::Default,
            SeccompProfile::Unconfined => crate::SeccompSpec::Unconfined,
            SeccompProfile::Custom(p) => {
                crate::SeccompSpec::Oci(crate::seccomp_profile::to_oci(p, caps, crate::seccomp_profile::kernel_version())?)
            }
        })
    }
}

fn parse_seccomp(value: &str) -> Result<SeccompProfile, RuntimeError> {
    match value {
        "unconfined" => Ok(SeccompProfile::Unconfined),
        "" | "builtin" => Ok(SeccompProfile::Default),
        json => {
            let v: Value = serde_json::from_str(json)
                .map_err(|e| RuntimeError::SecurityOpt(format!("Decoding seccomp profile failed: {e}")))?;
            if !v.is_object() {
                return Err(RuntimeError::SecurityOpt(
                    "Decoding seccomp profile failed: the profile is not a JSON object".into(),
                ));
            }
            // Fail at create, not at start, on a profile we cannot translate.
            crate::seccomp_profile::to_oci(&v, &[], (u32::MAX, u32::MAX))?;
            Ok(SeccompProfile::Custom(v))
        }
    }
}

/// Go's `strconv.ParseBool`, which dockerd uses for option values.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(opts: &[&str]) -> Result<SecurityOptions, RuntimeError> {
        parse_security_opts(&opts.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn reads_dockers_spellings() {
        assert_eq!(parse(&[]).unwrap(), SecurityOptions::default());
        assert!(parse(&["no-new-privileges"]).unwrap().no_new_privileges);
        assert!(parse(&["no-new-privileges=true"]).unwrap().no_new_privileges);
        assert!(parse(&["no-new-privileges:true"]).unwrap().no_new_privileges);
        assert!(!parse(&["no-new-privileges=false"]).unwrap().no_new_privileges);
        assert_eq!(parse(&["seccomp=unconfined"]).unwrap().seccomp, SeccompProfile::Unconfined);
        assert_eq!(parse(&["seccomp:unconfined"]).unwrap().seccomp, SeccompProfile::Unconfined);
        assert_eq!(parse(&["seccomp=builtin"]).unwrap().seccomp, SeccompProfile::Default);
        assert!(parse(&["apparmor=unconfined", "label=disable", "disable"]).is_ok());
        let custom = parse(&[r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW"}"#]).unwrap();
        assert!(matches!(custom.seccomp, SeccompProfile::Custom(_)));
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        let msg = |o: &str| parse(&[o]).unwrap_err().to_string();
        assert_eq!(msg("bogus"), r#"invalid --security-opt 1: "bogus""#);
        assert_eq!(msg("foo=bar"), r#"invalid --security-opt 2: "foo=bar""#);
        assert_eq!(msg("no-new-privileges=maybe"), r#"invalid --security-opt 2: "no-new-privileges=maybe""#);
        assert!(msg("apparmor=docker-default").contains("AppArmor"));
        assert!(msg("label=type:svirt_apache_t").contains("SELinux"));
        assert!(msg("seccomp={not json").starts_with("Decoding seccomp profile failed"));
        assert!(msg("seccomp=[1]").starts_with("Decoding seccomp profile failed"));
    }
}
