//! `berth login` / `berth logout`: check credentials through berthd
//! (`POST /auth`) and keep them in the docker CLI's config file.

use crate::credentials;
use anyhow::Context;
use berth_client::{Client, Query};
use std::io::Read;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Username
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password or Personal Access Token (PAT)
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Take the Password or Personal Access Token (PAT) from stdin
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,
    /// SERVER
    pub server: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct LogoutArgs {
    /// SERVER
    pub server: Option<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    if args.password.is_some() && args.password_stdin {
        anyhow::bail!("--password and --password-stdin are mutually exclusive");
    }
    let password = if args.password_stdin {
        if args.username.is_none() {
            anyhow::bail!("Must provide --username with --password-stdin");
        }
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("reading the password from stdin")?;
        s.trim_end_matches(['\n', '\r']).to_string()
    } else {
        args.password.clone().unwrap_or_default()
    };
    if args.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let Some(username) = args.username.filter(|u| !u.is_empty()) else {
        anyhow::bail!("berth login needs --username (interactive prompts are not supported yet)");
    };
    if password.is_empty() {
        anyhow::bail!("Error: Password Required");
    }
    let server = credentials::server_key(args.server.as_deref().unwrap_or(""));
    let body = serde_json::json!({ "username": username, "password": password, "serveraddress": server });
    let answer: serde_json::Value = client.post_json("/auth", &Query::new(), Some(&body)).await?;
    // A token server's refresh token is kept instead of the password, as the docker CLI does.
    let identity_token = answer.get("IdentityToken").and_then(|v| v.as_str()).unwrap_or("").to_string();
    credentials::store(&server, &credentials::Stored { username, password, identity_token })?;
    println!("Login Succeeded");
    Ok(())
}

pub async fn logout(args: LogoutArgs) -> anyhow::Result<()> {
    let server = credentials::server_key(args.server.as_deref().unwrap_or(""));
    if credentials::erase(&server)? {
        println!("Removing login credentials for {server}");
    } else {
        println!("Not logged in to {server}");
    }
    Ok(())
}
