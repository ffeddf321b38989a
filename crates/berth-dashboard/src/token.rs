//! Unguessable tokens (login, session, CSRF) from the kernel's CSPRNG, and
//! their comparison in constant time.

use crate::error::DashboardError;
use std::io::Read;

/// 32 random bytes as 64 hex digits.
pub fn random() -> Result<String, DashboardError> {
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).map_err(DashboardError::Random)?;
    Ok(hex::encode(b))
}

/// Equal, without leaking through timing how long a common prefix is.
pub fn same(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let (a, b) = (random().unwrap(), random().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn compares() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("", "a"));
    }
}
