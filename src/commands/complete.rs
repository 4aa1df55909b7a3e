//! Completion candidates for `kubectl ds <TAB>` (kubectl's plugin completion protocol: kubectl
//! runs `kubectl_complete-ds ARGS... CURRENT`, reads one candidate per line, and an optional last
//! line `:N` with a cobra directive). Subcommands and flags come from the command definition;
//! DaemonSet, node and namespace names from the cluster, with a short timeout.

use std::time::Duration;

use clap::CommandFactory;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Namespace, Node};
use kube::Api;
use kube::api::ListParams;

use crate::cli::{Cli, GlobalArgs};
use crate::cluster;

/// cobra's ShellCompDirectiveNoFileComp.
const NO_FILE_COMP: &str = ":4";
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// What a positional argument of a subcommand path names.
fn positional_kind(path: &[String]) -> Option<&'static str> {
    match path
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["coverage"] | ["explain", "ds"] => Some("daemonset"),
        ["explain", "node"] => Some("node"),
        _ => None,
    }
}

/// The flags in `words` that select the cluster and namespace.
fn global_flags(words: &[String]) -> GlobalArgs {
    let mut g = GlobalArgs::default();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (w.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next().cloned());
        match flag {
            "--kubeconfig" => g.kubeconfig = value(),
            "--context" => g.context = value(),
            "-n" | "--namespace" => g.namespace = value(),
            "-A" | "--all-namespaces" => g.all_namespaces = true,
            _ => {}
        }
    }
    g.request_timeout = "3s".into();
    g
}

/// Names of every object the API lists, from the watch cache, metadata only.
async fn list_names<K>(api: Api<K>) -> Option<Vec<String>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let list = api
        .list_metadata(&ListParams::default().match_any())
        .await
        .ok()?;
    Some(
        list.items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect(),
    )
}

async fn names(kind: &str, words: &[String]) -> Vec<String> {
    let global = global_flags(words);
    let lookup = async {
        let target = cluster::connect(&global, None).await.ok()?;
        let client = target.client.clone();
        match kind {
            "node" => list_names(Api::<Node>::all(client)).await,
            "namespace" => list_names(Api::<Namespace>::all(client)).await,
            _ if global.all_namespaces => list_names(Api::<DaemonSet>::all(client)).await,
            _ => {
                let ns = global.namespace.clone().unwrap_or(target.namespace);
                list_names(Api::<DaemonSet>::namespaced(client, &ns)).await
            }
        }
    };
    tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Candidates for the last word of `words`, one per line, ending with the directive line.
pub async fn candidates(words: &[String]) -> String {
    let (current, before) = match words.split_last() {
        Some((c, b)) => (c.as_str(), b),
        None => ("", &[][..]),
    };
    let mut cmd = Cli::command();
    cmd.build();
    // Walk the subcommand path, skipping flags and their values.
    let mut path: Vec<String> = Vec::new();
    let mut node = &cmd;
    let mut expecting_value_for: Option<String> = None;
    let mut positionals = 0usize;
    for w in before {
        if expecting_value_for.take().is_some() {
            continue;
        }
        if w.starts_with('-') {
            let takes_value = node
                .get_arguments()
                .chain(cmd.get_arguments())
                .find(|a| {
                    a.get_long().is_some_and(|l| format!("--{l}") == *w)
                        || a.get_short().is_some_and(|s| format!("-{s}") == *w)
                })
                .is_some_and(|a| a.get_action().takes_values());
            if takes_value && !w.contains('=') {
                expecting_value_for = Some(w.clone());
            }
            continue;
        }
        match node.find_subcommand(w) {
            Some(sub) => {
                path.push(w.clone());
                node = sub;
            }
            None => positionals += 1,
        }
    }
    let mut out: Vec<String> = Vec::new();
    if let Some(flag) = expecting_value_for {
        match flag.as_str() {
            "-n" | "--namespace" => out = names("namespace", before).await,
            "--node-like" => out = names("node", before).await,
            "-o" | "--output" => out = ["table", "wide", "json", "yaml"].map(String::from).to_vec(),
            "--context" => {
                out = cluster::context_names(&global_flags(before))
                    .await
                    .unwrap_or_default();
            }
            _ => {}
        }
    } else if current.starts_with('-') {
        for a in node.get_arguments().chain(cmd.get_arguments()) {
            if a.is_hide_set() {
                continue;
            }
            if let Some(l) = a.get_long() {
                out.push(format!("--{l}"));
            }
        }
    } else if node.has_subcommands() && positionals == 0 {
        out = node
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name().to_string())
            .collect();
    } else if let Some(kind) = positional_kind(&path) {
        out = names(kind, before).await;
    }
    out.retain(|c| c.starts_with(current));
    out.sort();
    out.dedup();
    let mut text = out.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(NO_FILE_COMP);
    text.push('\n');
    text
}
