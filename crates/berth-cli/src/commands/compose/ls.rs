//! `berth compose ls`: the projects berthd has containers of, found by the
//! `com.docker.compose.project` label (no compose file is read), as
//! Compose v2 lists them: NAME STATUS CONFIG FILES, the status as
//! `exited(1), running(2)`.

use crate::format::table::tabwrite_min;
use berth_api::container::ContainerSummary;
use berth_client::{Client, Filters, Query};
use berth_compose::plan::label;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all stopped Compose projects
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Filter output based on conditions provided
    #[arg(long)]
    pub filter: Vec<String>,
    /// Format the output. Values: [table | json]
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only display project names
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub name: String,
    pub status: String,
    pub config_files: String,
}

/// Compose's `combinedStatus`: each state with its count, states sorted.
pub fn combined_status(states: &[&str]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in states {
        *counts.entry(s).or_default() += 1;
    }
    counts.iter().map(|(s, n)| format!("{s}({n})")).collect::<Vec<_>>().join(", ")
}

/// Groups containers into projects, sorted by name.
pub fn stacks(list: &[ContainerSummary]) -> Vec<Stack> {
    let mut by: BTreeMap<&str, Vec<&ContainerSummary>> = BTreeMap::new();
    for c in list {
        if let Some(p) = c.labels.get(label::PROJECT) {
            by.entry(p).or_default().push(c);
        }
    }
    by.into_iter()
        .map(|(name, cs)| {
            let states: Vec<&str> = cs.iter().map(|c| c.state.as_str()).collect();
            let mut files: Vec<&str> = Vec::new();
            for c in &cs {
                for f in c.labels.get(label::CONFIG_FILES).map(String::as_str).unwrap_or("").split(',') {
                    if !f.is_empty() && !files.contains(&f) {
                        files.push(f);
                    }
                }
            }
            Stack { name: name.to_string(), status: combined_status(&states), config_files: files.join(",") }
        })
        .collect()
}

/// Compose's table: its own tabwriter settings (cells at least 20 wide).
pub fn table(stacks: &[Stack]) -> String {
    let mut text = String::from("NAME\tSTATUS\tCONFIG FILES\n");
    for s in stacks {
        text.push_str(&format!("{}\t{}\t{}\n", s.name, s.status, s.config_files));
    }
    tabwrite_min(&text, 20)
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let mut f = Filters::new();
    f.add("label", label::PROJECT);
    for flt in &args.filter {
        match flt.split_once('=') {
            Some(("name", v)) => f.add("label", &format!("{}={v}", label::PROJECT)),
            _ => anyhow::bail!("invalid filter {flt:?}: berth compose ls takes name=PROJECT"),
        }
    }
    let list: Vec<ContainerSummary> = client.get_json("/containers/json", &Query::new().flag("all", args.all).filters(&f)).await?;
    let stacks = stacks(&list);
    if args.quiet {
        for s in &stacks {
            println!("{}", s.name);
        }
        return Ok(());
    }
    let rows: Vec<Value> =
        stacks.iter().map(|s| json!({"Name": s.name, "Status": s.status, "ConfigFiles": s.config_files})).collect();
    match args.format.as_str() {
        // Compose prints one JSON array.
        "json" => println!("{}", serde_json::to_string(&rows)?),
        "" | "table" => print!("{}", table(&stacks)),
        other => anyhow::bail!("format value {other:?} could not be parsed: berth compose ls takes table or json"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(project: &str, state: &str, files: &str) -> ContainerSummary {
        let mut c = ContainerSummary { state: state.into(), ..Default::default() };
        c.labels.insert(label::PROJECT.into(), project.into());
        c.labels.insert(label::CONFIG_FILES.into(), files.into());
        c
    }

    #[test]
    fn groups_and_counts() {
        let list = vec![c("b", "running", "/b/compose.yaml"), c("a", "running", "/a/x.yml,/a/y.yml"), c("a", "exited", "/a/x.yml"), c("a", "running", "/a/x.yml")];
        let s = stacks(&list);
        assert_eq!(s[0], Stack { name: "a".into(), status: "exited(1), running(2)".into(), config_files: "/a/x.yml,/a/y.yml".into() });
        assert_eq!(s[1].status, "running(1)");
        assert_eq!(
            table(&s[1..]),
            "NAME                STATUS              CONFIG FILES\nb                   running(1)          /b/compose.yaml\n"
        );
    }
}
