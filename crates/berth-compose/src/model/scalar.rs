//! Scalars that Compose accepts as numbers or strings (an interpolated
//! `"${PORT}"` is a string until the model says it is a number): booleans,
//! integers, byte sizes (`64m`) and Go-style durations (`1m30s`).

use std::fmt;

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// A boolean written as YAML boolean or as one of Go's ParseBool strings.
pub fn bool_<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(b),
        Value::Null => Ok(false),
        Value::String(s) => match s.as_str() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
            "0" | "f" | "F" | "FALSE" | "false" | "False" | "" => Ok(false),
            _ => Err(D::Error::custom(format!("invalid boolean {s:?}"))),
        },
        other => Err(D::Error::custom(format!("invalid boolean {other}"))),
    }
}

pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    bool_(d).map(Some)
}

fn int_from(v: Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("invalid integer {n}")),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("invalid integer {s:?}")),
        other => Err(format!("invalid integer {other}")),
    }
}

pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    int_from(Value::deserialize(d)?).map_err(D::Error::custom)
}

pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match int_from(Value::deserialize(d)?).map_err(D::Error::custom)? {
        Some(n) if n < 0 => Err(D::Error::custom(format!("{n} must not be negative"))),
        n => Ok(n.map(|n| n as u64)),
    }
}

/// A string also written as a number (`user: 1000`, `cpus: 0.5`).
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(D::Error::custom(format!("invalid string {other}"))),
    }
}

/// A size in bytes: a number, or a string with a binary unit (`b`, `k`,
/// `kb`, `m`, `mb`, `g`, `gb`, `t`, `tb`), as docker's RAMInBytes reads it.
/// Printed as a decimal string, like Compose does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bytes(pub u64);

impl Bytes {
    pub fn parse(s: &str) -> Result<Bytes, String> {
        let t = s.trim().to_ascii_lowercase();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: f64 = num.parse().map_err(|_| format!("invalid size {s:?}"))?;
        let mult: u64 = match unit.trim() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            "t" | "tb" | "tib" => 1 << 40,
            _ => return Err(format!("invalid size {s:?}")),
        };
        Ok(Bytes((n * mult as f64) as u64))
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_u64()
                .map(Bytes)
                .ok_or_else(|| D::Error::custom(format!("invalid size {n}"))),
            Value::String(s) => Bytes::parse(&s).map_err(D::Error::custom),
            other => Err(D::Error::custom(format!("invalid size {other}"))),
        }
    }
}

/// A duration in Go's syntax (`300ms`, `1m30s`, `1.5h`), kept in
/// nanoseconds and printed as Go prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Duration(pub u64);

impl Duration {
    pub fn parse(s: &str) -> Result<Duration, String> {
        let bad = || format!("invalid duration {s:?}");
        if s == "0" {
            return Ok(Duration(0));
        }
        let mut total = 0f64;
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(bad());
        }
        while !rest.is_empty() {
            let n = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(bad)?;
            let num: f64 = rest[..n].parse().map_err(|_| bad())?;
            rest = &rest[n..];
            let u = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let mult = match &rest[..u] {
                "ns" => 1.0,
                "us" | "µs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => return Err(bad()),
            };
            total += num * mult;
            rest = &rest[u..];
        }
        Ok(Duration(total as u64))
    }

    pub fn as_std(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0)
    }
}

fn frac(v: u64, unit: u64) -> String {
    let whole = v / unit;
    let rem = v % unit;
    if rem == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{rem:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d == 0 {
            return f.write_str("0s");
        }
        if d < 1_000 {
            return write!(f, "{d}ns");
        }
        if d < 1_000_000 {
            return write!(f, "{}µs", frac(d, 1_000));
        }
        if d < 1_000_000_000 {
            return write!(f, "{}ms", frac(d, 1_000_000));
        }
        let h = d / 3_600_000_000_000;
        let m = (d / 60_000_000_000) % 60;
        let s = d % 60_000_000_000;
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if h > 0 || m > 0 {
            write!(f, "{m}m")?;
        }
        write!(f, "{}s", frac(s, 1_000_000_000))
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Duration::parse(&s).map_err(D::Error::custom),
            Value::Number(n) if n.as_u64() == Some(0) => Ok(Duration(0)),
            other => Err(D::Error::custom(format!(
                "invalid duration {other}: a unit is required, as in \"10s\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go() {
        for (i, o) in [
            ("30s", "30s"),
            ("1m30s", "1m30s"),
            ("90s", "1m30s"),
            ("1m", "1m0s"),
            ("1h", "1h0m0s"),
            ("1.5s", "1.5s"),
            ("500ms", "500ms"),
            ("0", "0s"),
            ("2h3m4s", "2h3m4s"),
            ("1500us", "1.5ms"),
        ] {
            assert_eq!(Duration::parse(i).unwrap().to_string(), o, "{i}");
        }
        for bad in ["", "10", "1x", "s", "1m3"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(Bytes::parse("64m").unwrap(), Bytes(64 << 20));
        assert_eq!(Bytes::parse("1gb").unwrap(), Bytes(1 << 30));
        assert_eq!(Bytes::parse("512").unwrap(), Bytes(512));
        assert_eq!(Bytes::parse("1.5k").unwrap(), Bytes(1536));
        assert!(Bytes::parse("12q").is_err());
        assert_eq!(serde_json::to_string(&Bytes(5)).unwrap(), "\"5\"");
    }

    #[test]
    fn lenient_bools_and_ints() {
        #[derive(Deserialize)]
        struct T {
            #[serde(deserialize_with = "bool_")]
            b: bool,
            #[serde(deserialize_with = "opt_u64")]
            n: Option<u64>,
        }
        let t: T = serde_json::from_value(serde_json::json!({"b": "true", "n": "3"})).unwrap();
        assert!(t.b);
        assert_eq!(t.n, Some(3));
        assert!(serde_json::from_value::<T>(serde_json::json!({"b": "yes!", "n": 1})).is_err());
        assert!(serde_json::from_value::<T>(serde_json::json!({"b": true, "n": -1})).is_err());
    }
}
