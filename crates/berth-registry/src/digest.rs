//! Content digests: `sha256:<64 lowercase hex>`, the only algorithm this
//! registry stores (others are refused as unsupported, not mis-stored).

use crate::error::{ApiError, Code};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    pub fn of(bytes: &[u8]) -> Digest {
        Digest::from_hasher(Sha256::new_with_prefix(bytes))
    }

    pub fn from_hasher(h: Sha256) -> Digest {
        Digest { hex: hex::encode(h.finalize()) }
    }

    /// The 64 hex characters, used as the file name in storage.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Parses a file name from storage back into a digest.
    pub fn from_hex(hex: &str) -> Option<Digest> {
        is_sha256_hex(hex).then(|| Digest { hex: hex.to_string() })
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl FromStr for Digest {
    type Err = ApiError;
    fn from_str(s: &str) -> Result<Digest, ApiError> {
        let invalid = || ApiError::new(Code::DigestInvalid, format!("invalid digest {s:?}"));
        let (alg, hex) = s.split_once(':').ok_or_else(invalid)?;
        match alg {
            "sha256" if is_sha256_hex(hex) => Ok(Digest { hex: hex.to_string() }),
            "sha256" => Err(invalid()),
            // Well-formed but not stored here: say so instead of "invalid".
            "sha384" | "sha512" => Err(ApiError::new(Code::DigestInvalid, format!("unsupported digest algorithm {alg:?}"))),
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let d = Digest::of(b"");
        assert_eq!(d.to_string(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
        for bad in [
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:abc",
            "sha256:../../etc/passwd",
            "md5:abc",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha512:00",
            "",
        ] {
            let e = bad.parse::<Digest>().unwrap_err();
            assert_eq!(e.code, Code::DigestInvalid, "{bad}");
        }
        assert!(Digest::from_hex("zz").is_none());
    }
}
