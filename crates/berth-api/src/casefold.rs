//! Request bodies decoded as Go's `encoding/json` decodes them: an object
//! key that matches no field exactly is matched to a field whose name is
//! equal ignoring case. dockerd inherits this and clients rely on it
//! (docker-py sends an exec's `"detachKeys"`, not `"DetachKeys"`).
//!
//! The field names of a body type come from serializing its default value,
//! so one rule serves every body and no field needs an alias: the keys of
//! that value are the type's fields (flattened ones included), and a
//! nested object there is a nested struct whose keys are folded the same
//! way. An empty object in the default (a user map such as `Labels`) has
//! no fields, so its keys, which are data, are never touched. Fields that
//! are absent from the default (an `Option` skipped when `None`, the items
//! of a list) are matched exactly, unless the caller gives a sample value
//! that has them ([`from_slice_like`]): the first item of a list in the
//! sample describes every item.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// Decodes `bytes` into `T`, matching object keys to `T`'s fields without
/// regard to case where no field matches exactly.
pub fn from_slice<T: DeserializeOwned + Serialize + Default>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    from_slice_like(bytes, &T::default())
}

/// Like [`from_slice`], with the field names taken from `sample`, a value
/// whose optional parts and lists are filled in.
pub fn from_slice_like<T: DeserializeOwned + Serialize>(bytes: &[u8], sample: &T) -> Result<T, serde_json::Error> {
    let mut v: Value = serde_json::from_slice(bytes)?;
    let schema = serde_json::to_value(sample)?;
    fold(&mut v, &schema);
    serde_json::from_value(v)
}

/// Renames the keys of `v` to the field names in `schema` they equal
/// ignoring case, then does the same for each nested struct.
fn fold(v: &mut Value, schema: &Value) {
    if let (Value::Array(items), Value::Array(sample)) = (&mut *v, schema) {
        if let Some(item_schema) = sample.first() {
            for item in items {
                fold(item, item_schema);
            }
        }
        return;
    }
    let (Value::Object(obj), Value::Object(fields)) = (v, schema) else { return };
    if fields.is_empty() {
        return;
    }
    let stray: Vec<String> = obj.keys().filter(|k| !fields.contains_key(*k)).cloned().collect();
    for key in stray {
        let Some(canonical) = field_for(fields, &key) else { continue };
        // An exact key wins over a folded one, as in Go when both appear
        // (Go keeps the later one; JSON objects have no order here).
        if obj.contains_key(canonical) {
            continue;
        }
        if let Some(val) = obj.remove(&key) {
            obj.insert(canonical.to_string(), val);
        }
    }
    for (k, val) in obj.iter_mut() {
        if let Some(sub) = fields.get(k) {
            fold(val, sub);
        }
    }
}

/// The one field whose name equals `key` ignoring case, if any.
fn field_for<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields.keys().find(|f| f.eq_ignore_ascii_case(key)).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::CreateRequest;
    use crate::exec::ExecConfig;

    #[test]
    fn field_names_match_without_case() {
        let c: ExecConfig = from_slice(br#"{"detachKeys":"ctrl-x","cmd":["sh"],"TTY":true}"#).expect("valid");
        assert_eq!(c.detach_keys, "ctrl-x");
        assert_eq!(c.cmd, Some(vec!["sh".to_string()]));
        assert!(c.tty);
    }

    #[test]
    fn exact_name_wins() {
        let c: ExecConfig = from_slice(br#"{"detachKeys":"ctrl-x","DetachKeys":"ctrl-y"}"#).expect("valid");
        assert_eq!(c.detach_keys, "ctrl-y");
    }

    #[test]
    fn nested_and_flattened_fields_fold_but_map_keys_do_not() {
        let r: CreateRequest = from_slice(
            br#"{"image":"busybox","labels":{"image":"x","User":"y"},
                "hostConfig":{"privileged":true,"memory":5,"capAdd":["NET_ADMIN"],
                  "logConfig":{"type":"none","config":{"Max-Size":"1k"}}}}"#,
        )
        .expect("valid");
        assert_eq!(r.config.image, "busybox");
        assert_eq!(r.config.labels.get("image").map(String::as_str), Some("x"));
        assert_eq!(r.config.labels.get("User").map(String::as_str), Some("y"));
        assert!(r.host_config.privileged);
        assert_eq!(r.host_config.resources.memory, 5);
        assert_eq!(r.host_config.isolation.cap_add, Some(vec!["NET_ADMIN".to_string()]));
        assert_eq!(r.host_config.log_config.kind, "none");
        assert_eq!(r.host_config.log_config.config.get("Max-Size").map(String::as_str), Some("1k"));
    }

    #[test]
    fn unknown_keys_are_kept_and_bad_values_still_refused() {
        let r: CreateRequest = from_slice(br#"{"NoSuchField":1}"#).expect("valid");
        assert_eq!(r.config.extra.get("NoSuchField"), Some(&Value::from(1)));
        assert!(from_slice::<ExecConfig>(br#"{"cmd":5}"#).is_err());
        assert!(from_slice::<ExecConfig>(b"{").is_err());
    }
}
