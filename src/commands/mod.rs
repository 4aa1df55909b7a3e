//! One module per verb: each fetches through `cluster`, decides through `logic` and prints
//! through `render`. This is the only layer that composes I/O. Every verb takes the resolved
//! [`Settings`], a [`Clusters`] handle and a writer, and returns the exit status; the glue
//! they share is in [`shared`], and no verb module imports another.

pub mod complete;
pub mod completion;
pub mod coverage;
pub mod explain;
pub mod frames;
#[cfg(test)]
mod mock_tests;
pub mod overhead;
pub mod preview;
pub mod rollback;
pub mod rollout;
pub mod shared;

use std::io::{IsTerminal, Write};

use clap::CommandFactory;
use clap::Parser as _;

use crate::cli::{Cli, Command, RolloutCommand};
use crate::cluster::Clusters;
use crate::error::{Error, Exit, Result};
use crate::render::Styles;
use crate::settings::Settings;

pub use shared::{check_name, screen, wait_for_server};

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
    let mut stdout = std::io::stdout();
    match run(cli, &mut stdout).await {
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

/// Runs a parsed command line, writing its output to `out`.
pub async fn run(cli: Cli, out: &mut dyn Write) -> Result<Exit> {
    // These two talk to no cluster (completion lookups bring their own short timeout), so no
    // flag of kubectl's can make them fail.
    match &cli.command {
        Command::Completion(args) => {
            let text = completion::script(args.shell, &Cli::command());
            shared::emit(out, &text)?;
            return Ok(Exit::Ok);
        }
        Command::Complete(args) => {
            shared::emit(out, &complete::candidates(&args.words).await)?;
            return Ok(Exit::Ok);
        }
        _ => {}
    }
    let settings = Settings::resolve(&cli.global, &cli.command)?;
    let clusters = Clusters::Kubeconfig(settings.connect.clone());
    dispatch(&settings, &clusters, &cli.command, out).await
}

/// Runs one cluster command against `clusters`.
pub async fn dispatch(
    settings: &Settings,
    clusters: &Clusters,
    command: &Command,
    out: &mut dyn Write,
) -> Result<Exit> {
    match command {
        Command::Coverage(args) => coverage::run(settings, clusters, args, out).await,
        Command::Explain(cmd) => explain::run(settings, clusters, cmd, out).await,
        Command::Preview(args) => preview::run(settings, clusters, args, out).await,
        Command::Overhead(args) => overhead::run(settings, clusters, args, out).await,
        Command::Rollout(RolloutCommand::Undo(args)) | Command::Rollback(args) => {
            rollback::run(settings, clusters, args, out).await
        }
        Command::Rollout(RolloutCommand::Status(args)) => {
            rollout::status(settings, clusters, args, out).await
        }
        Command::Rollout(RolloutCommand::History(args)) => {
            rollout::history(settings, clusters, args, out).await
        }
        // Answered by `run` before any setting is resolved: they reach no cluster.
        Command::Completion(_) | Command::Complete(_) => Ok(Exit::Ok),
    }
}
