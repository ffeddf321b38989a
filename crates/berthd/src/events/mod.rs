//! The event stream (`GET /events`): what happened to containers and
//! images, as Docker's event objects. Recent events are kept for `since`
//! replay, as dockerd keeps its last 256.

use crate::http::query::Filters;
use berth_api::time::unix_nanos;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::SystemTime;
use tokio::sync::broadcast;

const KEEP: usize = 256;

/// One event, in the Engine API's shape (with the legacy fields the
/// docker CLI still reads).
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// Fan-out of events to subscribers plus a short history.
pub struct EventBus {
    tx: broadcast::Sender<Event>,
    recent: Mutex<VecDeque<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus { tx: broadcast::Sender::new(1024), recent: Mutex::new(VecDeque::new()) }
    }
}

impl EventBus {
    /// Publishes `kind`/`action` about `id` with `attributes`.
    pub fn emit(&self, kind: &str, action: &str, id: &str, attributes: BTreeMap<String, String>) {
        let nanos = unix_nanos(SystemTime::now()) as i64;
        let legacy = kind == "container" || kind == "image";
        let ev = Event {
            status: legacy.then(|| action.to_string()),
            id: legacy.then(|| id.to_string()),
            from: if kind == "container" { attributes.get("image").cloned() } else { None },
            kind: kind.to_string(),
            action: action.to_string(),
            actor: Actor { id: id.to_string(), attributes },
            scope: "local".into(),
            time: nanos / 1_000_000_000,
            time_nano: nanos,
        };
        if let Ok(mut r) = self.recent.lock() {
            if r.len() == KEEP {
                r.pop_front();
            }
            r.push_back(ev.clone());
        }
        let _ = self.tx.send(ev);
    }

    /// The kept events at or after `since` (nanos), and a live subscription
    /// taken at the same moment (so nothing falls between them).
    pub fn subscribe(&self, since: Option<i128>) -> (Vec<Event>, broadcast::Receiver<Event>) {
        let r = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let rx = self.tx.subscribe();
        let past = match since {
            None => vec![],
            Some(s) => r.iter().filter(|e| i128::from(e.time_nano) >= s).cloned().collect(),
        };
        (past, rx)
    }
}

pub const FILTERS: &[&str] = &["type", "event", "container", "image", "label", "network", "volume", "scope"];

/// Docker's event filters: OR within a key, AND across keys.
pub fn matches(e: &Event, f: &Filters) -> bool {
    let any = |key: &str, pred: &dyn Fn(&str) -> bool| {
        let v = f.values(key);
        v.is_empty() || v.iter().any(|x| pred(x))
    };
    let name = e.actor.attributes.get("name").map(String::as_str).unwrap_or("");
    let image = e.actor.attributes.get("image").map(String::as_str).unwrap_or("");
    any("type", &|x| e.kind == x)
        && any("event", &|x| e.action == x || e.action.split(':').next() == Some(x))
        && any("container", &|x| e.kind == "container" && (e.actor.id.starts_with(x) || name == x))
        && any("image", &|x| {
            (e.kind == "image" && (e.actor.id == x || name == x || e.actor.id.trim_start_matches("sha256:").starts_with(x)))
                || image == x
                || image.split(':').next() == Some(x)
        })
        && any("network", &|x| e.kind == "network" && (e.actor.id.starts_with(x) || name == x))
        && any("volume", &|x| e.kind == "volume" && e.actor.id == x)
        && any("scope", &|x| e.scope == x)
        && f.values("label").iter().all(|l| match l.split_once('=') {
            Some((k, v)) => e.actor.attributes.get(k).is_some_and(|a| a == v),
            None => e.actor.attributes.contains_key(l.as_str()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Query;

    fn attrs(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn replays_since_and_streams_after() {
        let bus = EventBus::default();
        bus.emit("container", "create", "abc", attrs(&[("name", "web"), ("image", "busybox")]));
        let (past, mut rx) = bus.subscribe(Some(0));
        assert_eq!(past.len(), 1);
        assert_eq!(past[0].status.as_deref(), Some("create"));
        assert_eq!(past[0].from.as_deref(), Some("busybox"));
        bus.emit("container", "start", "abc", attrs(&[]));
        assert_eq!(rx.try_recv().map(|e| e.action).ok().as_deref(), Some("start"));
        let (none, _) = bus.subscribe(None);
        assert!(none.is_empty());
    }

    #[test]
    fn keeps_only_recent() {
        let bus = EventBus::default();
        for i in 0..300 {
            bus.emit("image", "tag", &format!("{i}"), attrs(&[]));
        }
        let (past, _) = bus.subscribe(Some(0));
        assert_eq!(past.len(), KEEP);
        assert_eq!(past[0].actor.id, "44");
    }

    #[test]
    fn filters_like_docker() {
        let bus = EventBus::default();
        bus.emit("container", "die", "abc123", attrs(&[("name", "web"), ("image", "busybox:latest"), ("exitCode", "0"), ("role", "x")]));
        let (past, _) = bus.subscribe(Some(0));
        let e = &past[0];
        let f = |q: &str| Query::parse(Some(&format!("filters={q}"))).filters().unwrap();
        assert!(matches(e, &f(r#"{"type":["container"]}"#)));
        assert!(!matches(e, &f(r#"{"type":["image"]}"#)));
        assert!(matches(e, &f(r#"{"event":["start","die"]}"#)));
        assert!(matches(e, &f(r#"{"container":["web"]}"#)));
        assert!(matches(e, &f(r#"{"container":["abc"]}"#)));
        assert!(matches(e, &f(r#"{"image":["busybox"]}"#)));
        assert!(matches(e, &f(r#"{"label":["role=x"]}"#)));
        assert!(!matches(e, &f(r#"{"label":["role=y"]}"#)));
        assert!(!matches(e, &f(r#"{"type":["container"],"event":["start"]}"#)));
    }
}
