//! `Cmd`, `Entrypoint` and `Shell` may be sent as a JSON string or an array
//! of strings (Docker's `StrSlice`); this accepts both and emits arrays.

use serde::{Deserialize, Deserializer};

/// Deserializes `null`, `"sh -c x"` or `["sh","-c","x"]` into an optional list.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => None,
        Some(OneOrMany::One(s)) => Some(vec![s]),
        Some(OneOrMany::Many(v)) => Some(v),
    })
}
