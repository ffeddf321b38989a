//! `berth compose events`: the project's container events, in Compose's
//! line format (`2024-01-02 03:04:05.000000 container start ID (k=v, …)`)
//! or, with `--json`, one object a line as Compose prints them.

use super::session::Session;
use super::Global;
use berth_client::{Client, Method, Query, RequestBody};
use berth_compose::plan::label;
use serde_json::{json, Map, Value};
use std::io::Write;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output events as a stream of json objects
    #[arg(long)]
    pub json: bool,
    pub services: Vec<String>,
}

/// An engine event as Compose reports it: `None` for another service's,
/// Compose's own labels left out of the attributes.
pub fn compose_event(ev: &Value, services: &[String]) -> Option<(String, Value)> {
    let attrs = ev["Actor"]["Attributes"].as_object().cloned().unwrap_or_default();
    let service = attrs.get(label::SERVICE).and_then(Value::as_str).unwrap_or("").to_string();
    if !services.is_empty() && !services.contains(&service) {
        return None;
    }
    let kept: Map<String, Value> = attrs.into_iter().filter(|(k, _)| !k.starts_with("com.docker.compose.")).collect();
    let nanos = ev["timeNano"].as_i64().filter(|n| *n != 0).unwrap_or_else(|| ev["time"].as_i64().unwrap_or(0) * 1_000_000_000);
    let time = berth_api::time::format_rfc3339_nanos(i128::from(nanos));
    let id = ev["Actor"]["ID"].as_str().or(ev["id"].as_str()).unwrap_or("").to_string();
    let action = ev["Action"].as_str().or(ev["status"].as_str()).unwrap_or("").to_string();
    let mut attrs: Vec<String> = kept.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect();
    attrs.sort();
    // Go's "2006-01-02 15:04:05.000000".
    let micros = nanos.rem_euclid(1_000_000_000) / 1000;
    let secs = berth_api::time::format_rfc3339_nanos(i128::from(nanos - nanos.rem_euclid(1_000_000_000)));
    let secs = secs.trim_end_matches('Z').split('.').next().unwrap_or("").replacen('T', " ", 1);
    let line = format!("{secs}.{micros:06} container {action} {id} ({})", attrs.join(", "));
    let obj = json!({"action": action, "attributes": kept, "id": id, "service": service, "time": time, "type": "container"});
    Some((line, obj))
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = Session::load(client, global, &args.services)?;
    s.check_services(&args.services)?;
    let mut f = s.project_filters();
    f.add("type", "container");
    let mut events = client.stream(Method::GET, "/events", &Query::new().filters(&f), RequestBody::Empty).await?.json::<Value>();
    let mut out = std::io::stdout();
    while let Some(ev) = events.next().await? {
        if let Some((line, obj)) = compose_event(&ev, &args.services) {
            if args.json {
                writeln!(out, "{obj}")?;
            } else {
                writeln!(out, "{line}")?;
            }
            out.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_lines() {
        let ev = json!({"Type": "container", "Action": "start", "Actor": {"ID": "abc", "Attributes": {
            "name": "p-web-1", "image": "busybox", "com.docker.compose.service": "web", "com.docker.compose.project": "p"}},
            "time": 1_700_000_000, "timeNano": 1_700_000_000_123_456_789i64});
        let (line, obj) = compose_event(&ev, &[]).unwrap();
        assert_eq!(line, "2023-11-14 22:13:20.123456 container start abc (image=busybox, name=p-web-1)");
        assert_eq!(obj["service"], "web");
        assert_eq!(obj["time"], "2023-11-14T22:13:20.123456789Z");
        assert!(obj["attributes"].get("com.docker.compose.project").is_none());
        assert!(compose_event(&ev, &["db".into()]).is_none());
    }
}
