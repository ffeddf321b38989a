//! Writing a tar stream from the daemon (`save`, `export`) to stdout or to
//! a file: beside the target first, then renamed, so a failure never leaves
//! a truncated archive under the requested name.

use anyhow::Context;
use berth_client::ResponseStream;
use std::io::Write;
use std::path::Path;

pub async fn write(mut stream: ResponseStream, output: Option<&str>, what: &str) -> anyhow::Result<()> {
    let Some(path) = output else {
        let mut out = std::io::stdout().lock();
        while let Some(chunk) = stream.chunk().await? {
            out.write_all(&chunk)?;
        }
        out.flush()?;
        return Ok(());
    };
    let target = Path::new(path);
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.berth-{}", std::process::id()));
    let result = async {
        let mut f = std::fs::File::create(&tmp).with_context(|| format!("{what}: unable to create file {path}"))?;
        while let Some(chunk) = stream.chunk().await? {
            f.write_all(&chunk)?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, target).with_context(|| format!("{what}: unable to write {path}"))?;
        anyhow::Ok(())
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
