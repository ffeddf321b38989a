//! `berth save`: stream images as a tar archive to a file or stdout.

use anyhow::Context;
use berth_client::{Client, Method, Query, RequestBody};
use std::io::{IsTerminal, Write};
use std::path::Path;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    if args.output.is_none() && std::io::stdout().is_terminal() {
        anyhow::bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    let mut q = Query::new();
    for i in &args.images {
        q = q.add("names", i.clone());
    }
    let mut stream = client.stream(Method::GET, "/images/get", &q, RequestBody::Empty).await?;
    match &args.output {
        None => {
            let mut out = std::io::stdout().lock();
            while let Some(chunk) = stream.chunk().await? {
                out.write_all(&chunk)?;
            }
            out.flush()?;
        }
        Some(path) => {
            // Write beside the target and rename, so a failed save never
            // leaves a truncated archive under the requested name.
            let target = Path::new(path);
            let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let tmp = dir.join(format!(".{name}.berth-save-{}", std::process::id()));
            let result = async {
                let mut f = std::fs::File::create(&tmp).with_context(|| format!("failed to save image: unable to create file {path}"))?;
                while let Some(chunk) = stream.chunk().await? {
                    f.write_all(&chunk)?;
                }
                f.sync_all()?;
                std::fs::rename(&tmp, target).with_context(|| format!("failed to save image: unable to write {path}"))?;
                anyhow::Ok(())
            }
            .await;
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result?;
        }
    }
    Ok(())
}
