//! Completion candidates for `kubectl ds <TAB>` (kubectl's plugin completion protocol: kubectl
//! runs `kubectl_complete-ds ARGS... CURRENT`, reads one candidate per line, and an optional last
//! line `:N` with a cobra directive). Subcommands and flags come from the command definition;
//! DaemonSet, node, namespace names and revision numbers from the cluster, with a short timeout.

use std::time::Duration;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::cluster::fetch::{self, Named};
use crate::cluster::{self, ConnectOptions, Target};
use crate::settings::NamespaceScope;

/// cobra's `ShellCompDirective` values (`github.com/spf13/cobra/completions.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Directive {
    /// `ShellCompDirectiveDefault`: the shell may complete file names when nothing matched.
    Files = 0,
    /// `ShellCompDirectiveNoFileComp`.
    NoFiles = 4,
    /// `ShellCompDirectiveFilterFileExt`: the candidates are the file extensions to offer.
    FileExtensions = 8,
}

const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);
/// What `kubectl apply -f` offers (`MarkFlagFilename("filename", "json", "yaml", "yml")`).
const MANIFEST_EXTENSIONS: [&str; 3] = ["json", "yaml", "yml"];

/// What a positional argument of a subcommand path names.
fn positional_kind(path: &[String]) -> Option<&'static str> {
    match path
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["coverage"] | ["explain", "ds"] => Some("daemonset"),
        ["rollout", "status" | "history" | "undo"] | ["rollback"] => Some("daemonset"),
        ["explain", "node"] => Some("node"),
        _ => None,
    }
}

/// The cluster and namespace the flags in `words` select.
struct Lookup {
    connect: ConnectOptions,
    namespace: NamespaceScope,
}

fn lookup_flags(words: &[String]) -> Lookup {
    let mut connect = ConnectOptions {
        request_timeout: Some(LOOKUP_TIMEOUT),
        ..ConnectOptions::default()
    };
    let (mut namespace, mut all) = (None, false);
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (w.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next().cloned());
        match flag {
            "--kubeconfig" => connect.kubeconfig = value(),
            "--context" => connect.context = value(),
            "-n" | "--namespace" => namespace = value(),
            "-A" | "--all-namespaces" => all = true,
            _ => {}
        }
    }
    let namespace = match (all, namespace) {
        (true, _) => NamespaceScope::All,
        (false, Some(ns)) => NamespaceScope::Named(ns),
        (false, None) => NamespaceScope::Context,
    };
    Lookup { connect, namespace }
}

/// Looks something up in the cluster the flags select, within `LOOKUP_TIMEOUT`; nothing when
/// it cannot.
async fn within_timeout<F, Fut>(words: &[String], lookup: F) -> Vec<String>
where
    F: FnOnce(Target, NamespaceScope) -> Fut,
    Fut: std::future::Future<Output = Option<Vec<String>>>,
{
    let flags = lookup_flags(words);
    let ask = async {
        let target = cluster::connect(&flags.connect, None).await.ok()?;
        lookup(target, flags.namespace).await
    };
    tokio::time::timeout(LOOKUP_TIMEOUT, ask)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

async fn names(kind: &str, words: &[String]) -> Vec<String> {
    within_timeout(words, |target, namespace| async move {
        let (named, ns) = match kind {
            "node" => (Named::Nodes, None),
            "namespace" => (Named::Namespaces, None),
            _ => (Named::DaemonSets, namespace.resolve(&target)),
        };
        fetch::names(&target, named, ns.as_deref()).await.ok()
    })
    .await
}

/// The revision numbers of the DaemonSet `name`.
async fn revision_numbers(name: &str, words: &[String]) -> Vec<String> {
    within_timeout(words, |target, namespace| async move {
        let one = crate::commands::shared::one_daemonset(&target, &namespace, name)
            .await
            .ok()?;
        Some(one.history.iter().map(|r| r.revision.to_string()).collect())
    })
    .await
}

/// Where the cursor is: the subcommand path, the positional words so far, and the flag whose
/// value is being typed, if any.
struct Position {
    path: Vec<String>,
    positionals: Vec<String>,
    value_of: Option<String>,
}

fn locate(cmd: &clap::Command, before: &[String]) -> Position {
    let mut pos = Position {
        path: Vec::new(),
        positionals: Vec::new(),
        value_of: None,
    };
    let mut node = cmd;
    for w in before {
        if pos.value_of.take().is_some() {
            continue;
        }
        if w.starts_with('-') && w.len() > 1 {
            let takes_value = node
                .get_arguments()
                .chain(cmd.get_arguments())
                .find(|a| {
                    a.get_long().is_some_and(|l| format!("--{l}") == *w)
                        || a.get_short().is_some_and(|s| format!("-{s}") == *w)
                })
                .is_some_and(|a| a.get_action().takes_values());
            if takes_value && !w.contains('=') {
                pos.value_of = Some(w.clone());
            }
            continue;
        }
        match node.find_subcommand(w) {
            Some(sub) if pos.positionals.is_empty() => {
                pos.path.push(w.clone());
                node = sub;
            }
            _ => pos.positionals.push(w.clone()),
        }
    }
    pos
}

fn subcommand<'a>(cmd: &'a clap::Command, path: &[String]) -> &'a clap::Command {
    path.iter()
        .fold(cmd, |node, name| node.find_subcommand(name).unwrap_or(node))
}

/// Candidates for the value of `flag`.
async fn flag_values(flag: &str, pos: &Position, before: &[String]) -> (Vec<String>, Directive) {
    let values = match flag {
        "-n" | "--namespace" => names("namespace", before).await,
        "--node-like" => names("node", before).await,
        "-o" | "--output" => ["table", "wide", "json", "yaml"].map(String::from).to_vec(),
        "--context" => cluster::context_names(&lookup_flags(before).connect)
            .await
            .unwrap_or_default(),
        "-f" | "--filename" | "--node" => {
            return (
                MANIFEST_EXTENSIONS.map(String::from).to_vec(),
                Directive::FileExtensions,
            );
        }
        "--kubeconfig" => return (Vec::new(), Directive::Files),
        "--to-revision" | "--revision" | "--diff" => match pos.positionals.first() {
            Some(name) => revision_numbers(name, before).await,
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    (values, Directive::NoFiles)
}

/// Candidates for a positional word: subcommands, a value enum's values, or names.
async fn positional_values(cmd: &clap::Command, pos: &Position, before: &[String]) -> Vec<String> {
    let node = subcommand(cmd, &pos.path);
    if node.has_subcommands() && pos.positionals.is_empty() {
        return node
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name().to_string())
            .collect();
    }
    let arg = node
        .get_positionals()
        .nth(pos.positionals.len())
        .or_else(|| {
            node.get_positionals()
                .last()
                .filter(|a| a.get_num_args().is_some_and(|r| r.max_values() > 1))
        });
    if let Some(values) = arg
        .map(|a| a.get_possible_values())
        .filter(|v| !v.is_empty())
    {
        return values
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
    }
    match positional_kind(&pos.path) {
        Some(kind) => names(kind, before).await,
        None => Vec::new(),
    }
}

/// Candidates for the last word of `words`, one per line, ending with the directive line.
pub async fn candidates(words: &[String]) -> String {
    let (current, before) = match words.split_last() {
        Some((c, b)) => (c.as_str(), b),
        None => ("", &[][..]),
    };
    let mut cmd = Cli::command();
    cmd.build();
    let pos = locate(&cmd, before);
    let (mut out, directive) = if let Some(flag) = &pos.value_of {
        flag_values(flag, &pos, before).await
    } else if current.starts_with('-') {
        let node = subcommand(&cmd, &pos.path);
        let flags = node
            .get_arguments()
            .chain(cmd.get_arguments())
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        (flags, Directive::NoFiles)
    } else {
        (
            positional_values(&cmd, &pos, before).await,
            Directive::NoFiles,
        )
    };
    if directive != Directive::FileExtensions {
        out.retain(|c| c.starts_with(current));
    }
    if directive == Directive::NoFiles {
        // Numbers (revisions) in numeric order, words alphabetically.
        out.sort_by_key(|c| (c.parse::<i64>().ok(), c.clone()));
        out.dedup();
    }
    let mut text = out.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&format!(":{}\n", directive as u8));
    text
}
