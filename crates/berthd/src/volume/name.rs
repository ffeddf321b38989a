//! Volume names: the local driver's rule, and anonymous names.

use berth_api::ApiError;

/// The local driver's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (at least two characters).
pub fn validate(name: &str) -> Result<(), ApiError> {
    let ok = name.len() >= 2
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        )))
    }
}

/// A random 64-hex name, as dockerd gives anonymous volumes.
pub fn anonymous_name() -> String {
    crate::container::naming::new_id()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["ab", "my-vol_1.2", "0x"] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "-a", ".a", "a/b", "../x", "a b", "a:b", "_x", "a\0b", "ä1"] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            validate("a/b").unwrap_err().message,
            "create a/b: \"a/b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        );
        let n = anonymous_name();
        assert!(n.len() == 64 && validate(&n).is_ok());
    }
}
