//! `berth compose version`: Compose's version line, naming berth and the
//! Compose version whose behaviour, names and labels it follows.

use berth_client::Client;
use berth_compose::plan::COMPOSE_VERSION;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format the output. Values: [pretty | json]
    #[arg(short = 'f', long = "format", value_parser = ["pretty", "json"])]
    pub format: Option<String>,
    /// Shows only Compose's version number
    #[arg(long)]
    pub short: bool,
}

impl Args {
    /// The version needs no daemon.
    pub fn offline(&self) -> bool {
        true
    }
}

/// What is printed, as Compose prints it (`--short`: the number alone).
pub fn text(args: &Args) -> String {
    let berth = env!("CARGO_PKG_VERSION");
    if args.short {
        return COMPOSE_VERSION.to_string();
    }
    match args.format.as_deref() {
        Some("json") => serde_json::json!({ "version": format!("v{COMPOSE_VERSION}"), "berth": berth }).to_string(),
        _ => format!("Docker Compose version v{COMPOSE_VERSION} (berth compose {berth})"),
    }
}

pub fn run_offline(args: Args) -> anyhow::Result<()> {
    println!("{}", text(&args));
    Ok(())
}

pub async fn run(_client: &Client, args: Args) -> anyhow::Result<()> {
    run_offline(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let a = Args { format: None, short: false };
        assert!(text(&a).starts_with(&format!("Docker Compose version v{COMPOSE_VERSION} (berth compose ")));
        assert_eq!(text(&Args { format: None, short: true }), COMPOSE_VERSION);
        let j: serde_json::Value = serde_json::from_str(&text(&Args { format: Some("json".into()), short: false })).unwrap();
        assert_eq!(j["version"], format!("v{COMPOSE_VERSION}"));
    }
}
