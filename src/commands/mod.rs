//! One module per verb: each fetches through `cluster`, decides through `logic` and prints
//! through `render`. This is the only layer that composes I/O.

pub mod complete;
pub mod completion;
pub mod coverage;
pub mod explain;
pub mod overhead;
pub mod preview;
pub mod rollback;
pub mod rollout;

use std::io::{IsTerminal, Write};

use clap::CommandFactory;
use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::error::{Error, Exit, Result};
use crate::logic::labels;
use crate::render::{Output, Styles};

/// Parses the command line and runs the command; the result is the process exit code.
pub async fn main() -> Exit {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
        }
    };
    match run(cli).await {
        Ok(code) => code,
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(e) => {
            let styles = Styles::resolve(
                false,
                std::env::var("NO_COLOR").ok().as_deref(),
                std::io::stderr().is_terminal(),
            );
            eprintln!("{} {e}", styles.bad("error:"));
            e.exit()
        }
    }
}

pub async fn run(cli: Cli) -> Result<Exit> {
    let styles = Styles::resolve(
        cli.global.no_color,
        std::env::var("NO_COLOR").ok().as_deref(),
        std::io::stdout().is_terminal(),
    );
    let out = Output {
        format: cli.global.output,
        styles,
        width: None,
    };
    match &cli.command {
        Command::Coverage(args) => coverage::run(&cli.global, args, &out).await,
        Command::Explain(cmd) => explain::run(&cli.global, cmd, &out).await,
        Command::Preview(args) => preview::run(&cli.global, args, &out).await,
        Command::Overhead(args) => overhead::run(&cli.global, args, &out).await,
        Command::Rollout(cmd) => rollout::run(&cli.global, cmd, &out).await,
        Command::Rollback(args) => rollback::run(&cli.global, args, &out).await,
        Command::Completion(args) => {
            let mut cmd = Cli::command();
            let text = completion::script(args.shell, &mut cmd);
            print(&text)?;
            Ok(Exit::Ok)
        }
        Command::Complete(args) => {
            print(&complete::candidates(&args.words).await)?;
            Ok(Exit::Ok)
        }
    }
}

/// Writes to stdout; a closed pipe is not an error.
pub fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// Validates a label selector flag locally, with kubectl's rules, before it is sent.
pub fn check_selector(flag: &str, value: Option<&str>) -> Result<()> {
    if let Some(v) = value {
        labels::parse_selector(v)
            .map_err(|e| Error::input(format!("invalid {flag} selector {v:?}: {e}")))?;
    }
    Ok(())
}

/// Validates an object name given on the command line (DNS-1123 subdomain).
pub fn check_name(kind: &str, name: &str) -> Result<()> {
    if labels::is_dns1123_subdomain(name) {
        Ok(())
    } else {
        Err(Error::input(format!(
            "{name:?} is not a valid {kind} name: use lowercase letters, digits, '-' and '.'"
        )))
    }
}
