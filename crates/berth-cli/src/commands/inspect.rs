//! `berth inspect` / `container inspect` / `image inspect`: the daemon's
//! JSON, indented as docker prints it, or run through `--format`.

use crate::exit::{describe, StatusError};
use crate::format::json_indent;
use crate::format::template::Template;
use berth_client::{segment, Client, ClientError, Method, Query, RequestBody};
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Display total file sizes if the type is container
    #[arg(short = 's', long)]
    pub size: bool,
    /// Only inspect objects of the given type
    #[arg(long = "type")]
    pub kind: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct TypedArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Display total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Container,
    Image,
}

async fn fetch(client: &Client, kind: Kind, name: &str, size: bool) -> Result<String, ClientError> {
    let (path, q) = match kind {
        Kind::Container => (format!("/containers/{}/json", segment(name)), Query::new().flag("size", size)),
        Kind::Image => (format!("/images/{}/json", segment(name)), Query::new()),
    };
    let bytes = client.bytes(Method::GET, &path, &q, RequestBody::Empty).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let kinds: Vec<Kind> = match args.kind.as_deref() {
        None | Some("") => vec![Kind::Container, Kind::Image],
        Some("container") => vec![Kind::Container],
        Some("image") => vec![Kind::Image],
        Some(other) => anyhow::bail!("\"{other}\" is not a valid value for --type"),
    };
    let mut found = Vec::new();
    let mut errors = Vec::new();
    'names: for name in &args.names {
        for &kind in &kinds {
            match fetch(client, kind, name, args.size).await {
                Ok(raw) => {
                    found.push(raw);
                    continue 'names;
                }
                Err(e) if e.is_not_found() => continue,
                Err(e) => {
                    errors.push(describe(&e));
                    continue 'names;
                }
            }
        }
        errors.push(match args.kind.as_deref() {
            Some("container") => format!("Error: No such container: {name}"),
            Some("image") => format!("Error: No such image: {name}"),
            _ => format!("Error: No such object: {name}"),
        });
    }
    finish(found, errors, args.format.as_deref())
}

pub async fn run_typed(client: &Client, args: TypedArgs, kind: Kind) -> anyhow::Result<()> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for name in &args.names {
        match fetch(client, kind, name, args.size).await {
            Ok(raw) => found.push(raw),
            Err(e) => errors.push(describe(&e)),
        }
    }
    finish(found, errors, args.format.as_deref())
}

fn finish(found: Vec<String>, errors: Vec<String>, format: Option<&str>) -> anyhow::Result<()> {
    print!("{}", render(&found, format)?);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(StatusError::with_message(1, errors.join("\n")).into())
    }
}

/// Without a format: a JSON array indented by 4 spaces. With one: the
/// template once per object, each followed by a newline.
pub fn render(raw: &[String], format: Option<&str>) -> anyhow::Result<String> {
    match format {
        Some(f) if !f.is_empty() && f != "json" => {
            let f = f.replace("\\t", "\t").replace("\\n", "\n");
            let t = Template::parse(&f)?;
            let mut out = String::new();
            for r in raw {
                let v: Value = serde_json::from_str(r)?;
                out.push_str(&t.execute(&v)?);
                out.push('\n');
            }
            Ok(out)
        }
        _ => {
            if raw.is_empty() {
                return Ok("[]\n".to_string());
            }
            let joined = format!("[{}]", raw.iter().map(|r| r.trim()).collect::<Vec<_>>().join(","));
            let indented = json_indent::indent(&joined, "    ").ok_or_else(|| anyhow::anyhow!("invalid JSON from daemon"))?;
            Ok(format!("{indented}\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_json_and_templates() {
        let raw = vec![r#"{"Id":"abc","State":{"Running":true}}"#.to_string() + "\n"];
        assert_eq!(render(&raw, None).unwrap(), "[\n    {\n        \"Id\": \"abc\",\n        \"State\": {\n            \"Running\": true\n        }\n    }\n]\n");
        assert_eq!(render(&raw, Some("{{.State.Running}}")).unwrap(), "true\n");
        assert_eq!(render(&[], None).unwrap(), "[]\n");
        assert!(render(&raw, Some("{{.Id")).is_err());
    }
}
