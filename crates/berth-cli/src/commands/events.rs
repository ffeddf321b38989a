//! `berth events`: stream the daemon's events, printed as docker prints
//! them (or through `--format`).

use crate::format::template::Template;
use berth_client::{Client, Filters, Method, Query, RequestBody};
use serde_json::Value;
use std::io::Write;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
    /// Show all events created since timestamp
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    pub until: Option<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let mut filters = Filters::default();
    for f in &args.filter {
        filters.add_arg(f).map_err(anyhow::Error::msg)?;
    }
    let q = Query::new()
        .non_empty("since", args.since.as_deref().unwrap_or(""))
        .non_empty("until", args.until.as_deref().unwrap_or(""))
        .filters(&filters);
    let template = match args.format.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => Some(Template::parse(f).map_err(|e| anyhow::anyhow!("{e}"))?),
        None => None,
    };
    let mut events = client.stream(Method::GET, "/events", &q, RequestBody::Empty).await?.json::<Value>();
    let mut out = std::io::stdout();
    while let Some(ev) = events.next().await? {
        let line = match &template {
            Some(t) => t.execute(&with_go_names(ev)).map_err(|e| anyhow::anyhow!("{e}"))?,
            None => default_line(&ev),
        };
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(())
}

/// Templates name Go's struct fields (`.ID`, `.Status`), which the JSON
/// spells in lower case.
fn with_go_names(mut ev: Value) -> Value {
    if let Some(o) = ev.as_object_mut() {
        for (json, go) in [("id", "ID"), ("status", "Status"), ("from", "From"), ("scope", "Scope"), ("time", "Time"), ("timeNano", "TimeNano")] {
            if let Some(v) = o.get(json).cloned() {
                o.insert(go.to_string(), v);
            }
        }
    }
    ev
}

/// `2024-01-02T03:04:05.000000000Z container start <id> (image=busybox, name=web)`.
pub fn default_line(ev: &Value) -> String {
    let nanos = ev["timeNano"].as_i64().unwrap_or(0);
    let mut line = String::new();
    if nanos != 0 {
        line.push_str(&fixed_nanos(nanos));
        line.push(' ');
    }
    let s = |k: &str| ev[k].as_str().unwrap_or("").to_string();
    line.push_str(&format!("{} {} {}", s("Type"), s("Action"), ev["Actor"]["ID"].as_str().unwrap_or("")));
    if let Some(attrs) = ev["Actor"]["Attributes"].as_object().filter(|a| !a.is_empty()) {
        let mut kv: Vec<String> = attrs.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect();
        kv.sort();
        line.push_str(&format!(" ({})", kv.join(", ")));
    }
    line
}

/// Go's RFC3339NanoFixed in UTC: nine fraction digits, always.
fn fixed_nanos(nanos: i64) -> String {
    let base = berth_api::time::format_rfc3339_nanos((nanos - nanos.rem_euclid(1_000_000_000)).into());
    format!("{}.{:09}Z", base.trim_end_matches('Z'), nanos.rem_euclid(1_000_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_docker() {
        let ev = serde_json::json!({"Type": "container", "Action": "start", "Actor": {"ID": "abc", "Attributes": {"name": "web", "image": "busybox"}}, "timeNano": 1_700_000_000_000_000_123i64});
        assert_eq!(default_line(&ev), "2023-11-14T22:13:20.000000123Z container start abc (image=busybox, name=web)");
        let t = Template::parse("{{.ID}} {{.Status}}").unwrap();
        assert_eq!(t.execute(&with_go_names(serde_json::json!({"id": "x", "status": "die"}))).unwrap(), "x die");
    }
}
