//! `berth registry serve|gc|image`: berth's own registry server. It needs
//! no daemon: these commands run before any connection to berthd is made.

use berth_registry::{gc, image, serve, ServeConfig};
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum RegistryCommand {
    /// Serve a registry (the OCI distribution API) from a directory
    Serve(ServeArgs),
    /// Delete blobs that no manifest references (stop the server first)
    Gc(GcArgs),
    /// Write an image that runs this registry server, as a tar archive (stdout unless -o)
    Image(ImageArgs),
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on; any other than loopback must be given here
    #[arg(long, default_value = "127.0.0.1:5000", value_name = "IP:PORT")]
    pub addr: SocketAddr,
    /// Directory the registry stores blobs, manifests and uploads in
    #[arg(long = "data-root", default_value = image::DATA_DIR, value_name = "DIR")]
    pub data_root: PathBuf,
    /// Require basic auth from this htpasswd file (bcrypt: htpasswd -B)
    #[arg(long, value_name = "FILE")]
    pub htpasswd: Option<PathBuf>,
    /// Serve HTTPS with this certificate (PEM)
    #[arg(long = "tls-cert", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key of --tls-cert (PEM)
    #[arg(long = "tls-key", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Allow DELETE of manifests, tags and blobs
    #[arg(long = "enable-delete")]
    pub enable_delete: bool,
    /// Ask clients to upload in chunks of at least BYTES (OCI-Chunk-Min-Length)
    #[arg(long = "chunk-min-length", value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_min_length: Option<u64>,
    /// Log each request (method, path, Content-Range, status) on stderr
    #[arg(long = "access-log")]
    pub access_log: bool,
    /// Bearer token auth as Docker Hub does it: tokens from this server's
    /// /token for the users of --htpasswd
    #[arg(long = "token-auth", requires = "htpasswd")]
    pub token_auth: bool,
    /// With --token-auth: anonymous clients may pull
    #[arg(long = "anonymous-pull", requires = "token_auth")]
    pub anonymous_pull: bool,
}

#[derive(clap::Args, Debug)]
pub struct GcArgs {
    /// Directory the registry stores its data in
    #[arg(long = "data-root", default_value = image::DATA_DIR, value_name = "DIR")]
    pub data_root: PathBuf,
    /// List what would be deleted, delete nothing
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Delete manifests no tag reaches first (and the referrers of those)
    #[arg(short = 'm', long = "delete-untagged")]
    pub delete_untagged: bool,
}

#[derive(clap::Args, Debug)]
pub struct ImageArgs {
    /// Write to this file instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Name and tag of the image
    #[arg(short, long, default_value = "registry:latest")]
    pub tag: String,
}

pub async fn run(cmd: RegistryCommand) -> anyhow::Result<()> {
    match cmd {
        RegistryCommand::Serve(a) => run_serve(a).await,
        RegistryCommand::Gc(a) => run_gc(a),
        RegistryCommand::Image(a) => run_image(a),
    }
}

async fn run_serve(a: ServeArgs) -> anyhow::Result<()> {
    if a.htpasswd.is_some() && a.tls_cert.is_none() && !a.addr.ip().is_loopback() {
        eprintln!("warning: basic auth without --tls-cert sends passwords in clear text");
    }
    let scheme = if a.tls_cert.is_some() { "https" } else { "http" };
    let root = a.data_root.clone();
    let cfg = ServeConfig {
        addr: a.addr,
        root: a.data_root,
        htpasswd: a.htpasswd,
        tls_cert: a.tls_cert,
        tls_key: a.tls_key,
        delete_enabled: a.enable_delete,
        chunk_min_length: a.chunk_min_length,
        access_log: a.access_log,
        token_auth: a.token_auth,
        anonymous_pull: a.anonymous_pull,
    };
    serve(cfg, |addr| eprintln!("berth registry: serving {} on {scheme}://{addr}", root.display())).await?;
    Ok(())
}

fn run_gc(a: GcArgs) -> anyhow::Result<()> {
    let r = gc::collect_with(&a.data_root, a.dry_run, a.delete_untagged)?;
    let verb = if a.dry_run { "would delete" } else { "deleted" };
    let mut out = std::io::stdout().lock();
    for m in &r.untagged {
        writeln!(out, "{verb} manifest {m}")?;
    }
    for (d, size) in &r.removed {
        writeln!(out, "{verb} {d} ({size} bytes)")?;
    }
    let total: u64 = r.removed.iter().map(|(_, s)| s).sum();
    writeln!(out, "{} blobs kept, {} {verb}, {total} bytes", r.kept, r.removed.len())?;
    Ok(())
}

fn run_image(a: ImageArgs) -> anyhow::Result<()> {
    let built = match &a.output {
        Some(path) => {
            let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
            let r = image::write(&mut f, &a.tag).and_then(|b| {
                f.flush().map_err(|e| berth_registry::RegistryError::io(path, e))?;
                Ok(b)
            });
            if r.is_err() {
                let _ = std::fs::remove_file(path);
            }
            r?
        }
        None => {
            if std::io::stdout().is_terminal() {
                anyhow::bail!("cowardly refusing to write an image to a terminal. Use the -o flag or redirect");
            }
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let b = image::write(&mut out, &a.tag)?;
            out.flush()?;
            b
        }
    };
    eprintln!("{}: {} ({} files)", a.tag, built.id, built.files.len());
    Ok(())
}
