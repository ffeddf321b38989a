//! `berth diff`, `berth export`, `berth commit`: a container's filesystem
//! changes, its whole filesystem as a tar, and a new image of it.

use berth_client::{segment, Client, Method, Query, RequestBody};
use serde_json::Value;
use std::io::IsTerminal;

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    pub container: String,
}

pub async fn diff(client: &Client, args: DiffArgs) -> anyhow::Result<()> {
    let changes: Vec<Value> = client.get_json(&format!("/containers/{}/changes", segment(&args.container)), &Query::new()).await?;
    for c in changes {
        let kind = match c["Kind"].as_u64() {
            Some(1) => "A",
            Some(2) => "D",
            _ => "C",
        };
        println!("{kind} {}", c["Path"].as_str().unwrap_or(""));
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    pub container: String,
}

pub async fn export(client: &Client, args: ExportArgs) -> anyhow::Result<()> {
    if args.output.is_none() && std::io::stdout().is_terminal() {
        anyhow::bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    let path = format!("/containers/{}/export", segment(&args.container));
    let stream = client.stream(Method::GET, &path, &Query::new(), RequestBody::Empty).await?;
    super::archive_out::write(stream, args.output.as_deref(), "failed to export container").await
}

#[derive(clap::Args, Debug)]
pub struct CommitArgs {
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short = 'a', long)]
    pub author: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change")]
    pub change: Vec<String>,
    /// Commit message
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Pause container during commit
    #[arg(short = 'p', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub pause: bool,
    pub container: String,
    pub repository: Option<String>,
}

pub async fn commit(client: &Client, args: CommitArgs) -> anyhow::Result<()> {
    let (repo, tag) = match args.repository.as_deref() {
        None => (String::new(), String::new()),
        Some(r) => {
            let reference = crate::reference::Reference::parse(r).map_err(anyhow::Error::msg)?.with_default_tag();
            (reference.name.clone(), reference.tag.clone().unwrap_or_default())
        }
    };
    let mut q = Query::new()
        .add("container", args.container.clone())
        .non_empty("repo", &repo)
        .non_empty("tag", &tag)
        .non_empty("comment", args.message.as_deref().unwrap_or(""))
        .non_empty("author", args.author.as_deref().unwrap_or(""))
        .add("pause", if args.pause { "1" } else { "0" });
    for c in &args.change {
        q = q.add("changes", c.clone());
    }
    let v: Value = client.post_json::<Value, Value>("/commit", &q, None).await?;
    println!("{}", v["Id"].as_str().unwrap_or(""));
    Ok(())
}
