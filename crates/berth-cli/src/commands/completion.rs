//! `berth completion SHELL`: a shell completion script generated from the
//! clap command tree, so it never drifts from the real flags.

use crate::cli::Cli;
use clap::CommandFactory;
use clap_complete::Shell;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Shell to generate the script for
    #[arg(value_parser = ["bash", "zsh", "fish"])]
    pub shell: String,
}

/// The completion script for `shell` ("bash", "zsh" or "fish").
pub fn script(shell: &str) -> anyhow::Result<Vec<u8>> {
    let shell = match shell {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        other => anyhow::bail!("unsupported shell {other:?}: expected bash, zsh or fish"),
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "berth", &mut out);
    Ok(out)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    use std::io::Write;
    let s = script(&args.shell)?;
    match std::io::stdout().write_all(&s) {
        // `berth completion bash | head` closing the pipe early is no error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(shell: &str) -> String {
        String::from_utf8(script(shell).unwrap()).unwrap()
    }

    #[test]
    fn scripts_name_the_commands() {
        for shell in ["bash", "zsh", "fish"] {
            let s = text(shell);
            assert!(!s.is_empty(), "{shell}");
            for cmd in ["run", "ps", "system", "completion"] {
                assert!(s.contains(cmd), "{shell} script lacks {cmd}");
            }
        }
        // Nested subcommands and flags are there too.
        assert!(text("fish").contains("prune"));
        assert!(text("bash").contains("--volumes"));
    }

    #[test]
    fn bash_script_parses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth.bash");
        std::fs::write(&path, script("bash").unwrap()).unwrap();
        let status = std::process::Command::new("bash").arg("-n").arg(&path).status().unwrap();
        assert!(status.success());
    }

    #[test]
    fn unknown_shell_is_an_error() {
        assert!(script("tcsh").is_err());
    }
}
