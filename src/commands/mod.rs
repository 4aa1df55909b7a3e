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

use crate::cli::{AllNamespaces, GlobalArgs};
use crate::cli::{Cli, Command, ExplainCommand, RolloutCommand};
use crate::cluster::{self, Target, fetch};
use crate::error::{Error, Exit, Result};
use crate::logic::apimachinery::labels;
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
        width: screen().map(|(w, _)| w),
    };
    let global = GlobalArgs {
        all_namespaces: all_namespaces(&cli.command),
        ..cli.global.clone()
    };
    match &cli.command {
        Command::Coverage(args) => coverage::run(&global, args, &out).await,
        Command::Explain(cmd) => explain::run(&global, cmd, &out).await,
        Command::Preview(args) => preview::run(&global, args, &out).await,
        Command::Overhead(args) => overhead::run(&global, args, &out).await,
        Command::Rollout(cmd) => rollout::run(&global, cmd, &out).await,
        Command::Rollback(args) => rollback::run(&global, args, &out).await,
        Command::Completion(args) => {
            let text = completion::script(args.shell, &Cli::command());
            print(&text)?;
            Ok(Exit::Ok)
        }
        Command::Complete(args) => {
            print(&complete::candidates(&args.words).await)?;
            Ok(Exit::Ok)
        }
    }
}

/// The terminal's width and height, when standard output is one; piped output is not fitted
/// to anything, as kubectl's is not.
pub fn screen() -> Option<(u16, u16)> {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(&stdout).map(|(w, h)| (w.0, h.0))
}

/// `-A` of the commands that take it.
fn all_namespaces(command: &Command) -> bool {
    let all = match command {
        Command::Coverage(a) => a.all,
        Command::Explain(ExplainCommand::Node(a)) => a.all,
        Command::Explain(ExplainCommand::Ds(a)) => a.all,
        Command::Rollout(RolloutCommand::Status(a)) => a.all,
        Command::Overhead(a) => a.all,
        _ => AllNamespaces::default(),
    };
    all.all_namespaces
}

/// An empty answer for a namespace that does not exist is a typo, not "no DaemonSets".
pub async fn check_namespace(target: &Target, namespace: Option<&str>) -> Result<()> {
    let Some(ns) = namespace else {
        return Ok(());
    };
    if fetch::namespace_exists(target, ns).await {
        Ok(())
    } else {
        Err(Error::input(format!(
            "namespace {ns:?} does not exist; check -n (`kubectl get namespaces` lists them)"
        )))
    }
}

/// Waits until the API server answers, before a watch: on stderr, why it is waiting. When it
/// never answered (`--request-timeout` passed, or Ctrl-C), the error, for exit 3.
pub async fn wait_for_server(target: &Target) -> Result<()> {
    let mut last = String::new();
    let wait = cluster::reach::until_reachable(target, |e| {
        let text = e.to_string();
        let reason = text.split("; ").next().unwrap_or(&text).to_string();
        if reason != last {
            eprintln!("{reason}, retrying");
            last = reason;
        }
    });
    tokio::select! {
        r = wait => r,
        _ = tokio::signal::ctrl_c() => Err(Error::Unreachable(format!(
            "interrupted before the API server at {} answered; check that the cluster is up and the kubeconfig context is right",
            target.server
        ))),
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
