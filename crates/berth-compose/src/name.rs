//! Project names as Compose v2 has them: lowercase letters, digits, `-` and
//! `_`, starting with a letter or digit. A name given (-p,
//! COMPOSE_PROJECT_NAME, `name:`) must already be valid; a directory name
//! is normalised into one.

use crate::error::{ComposeError, Result};

pub fn is_valid(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Checks a name the user gave.
pub fn check(name: &str) -> Result<String> {
    if is_valid(name) {
        Ok(name.to_string())
    } else {
        Err(ComposeError::ProjectName(name.to_string()))
    }
}

/// Lowercases and drops characters outside `[a-z0-9_-]`, then leading
/// characters that cannot start a name (Compose's normalisation of a
/// directory name).
pub fn normalize(raw: &str) -> String {
    let lower: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')
        .collect();
    lower.trim_start_matches(['-', '_']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity() {
        for ok in ["a", "my-app_1", "0x"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in ["", "My", "_a", "-a", "a.b", "a b"] {
            assert!(!is_valid(bad), "{bad}");
        }
        assert_eq!(
            check("Bad").unwrap_err().to_string(),
            "invalid project name \"Bad\": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
        );
    }

    #[test]
    fn directory_names_normalise() {
        assert_eq!(normalize("My.App Dir"), "myappdir");
        assert_eq!(normalize("_-x_Y"), "x_y");
        assert_eq!(normalize("voting-app"), "voting-app");
    }
}
