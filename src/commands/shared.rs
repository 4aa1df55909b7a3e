//! The glue every verb needs, written once: which namespaces and DaemonSets the flags select,
//! "not found" answers, the one-document-or-text output, and waiting for the API server.

use std::io::Write;

use k8s_openapi::api::apps::v1::DaemonSet;
use serde::Serialize;

use crate::cluster::fetch::{self, Scope};
use crate::cluster::lean::Keep;
use crate::cluster::{self, Target};
use crate::error::{Error, Result};
use crate::logic::apimachinery::labels;
use crate::logic::daemon::history::{self, Revision};
use crate::logic::reports::fresh_node::AdmissionFacts;
use crate::logic::snapshot::Snapshot;
use crate::render::{self, Output};
use crate::settings::{NamespaceScope, Selector, selector_text};

pub use crate::settings::screen;

/// Writes to the command's output and flushes it (watch frames end without a newline).
pub fn emit(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `body` as a versioned document of `kind` (`-o json|yaml`).
pub fn document<T: Serialize>(output: &Output, kind: &str, body: &T) -> Result<String> {
    render::document::render(output.format, kind, body)
        .map_err(|e| Error::cluster(format!("cannot encode the {kind}: {e}")))
}

/// A report as `-o` asks: the versioned document of `kind`, or the text `table` renders.
pub fn report_text<T: Serialize>(
    output: &Output,
    kind: &str,
    body: &T,
    table: impl FnOnce() -> Result<String>,
) -> Result<String> {
    if output.format.is_document() {
        document(output, kind, body)
    } else {
        table()
    }
}

/// Writes a report as `-o` asks ([`report_text`]).
pub fn emit_report<T: Serialize>(
    out: &mut dyn Write,
    output: &Output,
    kind: &str,
    body: &T,
    table: impl FnOnce() -> Result<String>,
) -> Result<()> {
    emit(out, &report_text(output, kind, body, table)?)
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

/// Names looked up with `-A` that no namespace has.
pub fn not_found_anywhere(names: &[String]) -> Error {
    Error::input(format!(
        "daemonset {:?} not found in any namespace",
        names.join(",")
    ))
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

/// The DaemonSets, namespaces and nodes the flags select on one cluster.
pub fn scope(
    namespace: &NamespaceScope,
    target: &Target,
    names: &[String],
    selector: &Option<Selector>,
    node_selector: &Option<Selector>,
) -> Scope {
    Scope {
        namespace: namespace.resolve(target),
        names: names.to_vec(),
        selector: selector_text(selector),
        node_selector: selector_text(node_selector),
    }
}

/// The snapshot of `scope`. With `-A` a named DaemonSet is looked up in every namespace.
/// Nothing found in a namespace that does not exist says so.
pub async fn snapshot(target: &Target, scope: &Scope, keep: Keep) -> Result<Snapshot> {
    let namespace = scope.namespace.as_deref();
    match snapshot_in_scope(target, scope, keep).await {
        Ok(snap) if snap.daemonsets.is_empty() => {
            check_namespace(target, namespace).await?;
            Ok(snap)
        }
        Err(Error::Input(m)) => {
            check_namespace(target, namespace).await?;
            Err(Error::Input(m))
        }
        other => other,
    }
}

async fn snapshot_in_scope(target: &Target, scope: &Scope, keep: Keep) -> Result<Snapshot> {
    if scope.namespace.is_none() && !scope.names.is_empty() {
        let all = Scope {
            names: Vec::new(),
            ..scope.clone()
        };
        let mut snap = fetch::snapshot(target, &all, keep).await?;
        retain_named(&mut snap.daemonsets, &scope.names)?;
        return Ok(snap);
    }
    fetch::snapshot(target, scope, keep).await
}

/// Keeps the DaemonSets named `names`, of whichever namespace; none of them is an error.
pub fn retain_named(daemonsets: &mut Vec<DaemonSet>, names: &[String]) -> Result<()> {
    daemonsets.retain(|d| d.metadata.name.as_ref().is_some_and(|n| names.contains(n)));
    if daemonsets.is_empty() {
        return Err(not_found_anywhere(names));
    }
    Ok(())
}

/// One DaemonSet, its revision history, and its namespace's ControllerRevisions and pods.
pub struct OneDaemonSet {
    pub daemonset: DaemonSet,
    pub history: Vec<Revision>,
    pub snapshot: Snapshot,
}

/// The DaemonSet `name` of `-n` (or the context's namespace), its namespace's
/// ControllerRevisions and pods, read fresh (not from the watch cache), so a rollback's
/// resourceVersion precondition is as recent as possible.
pub async fn one_daemonset(
    target: &Target,
    namespace: &NamespaceScope,
    name: &str,
) -> Result<OneDaemonSet> {
    check_name("DaemonSet", name)?;
    let ns = namespace.one(target);
    let not_found = || {
        Error::input(format!(
            "daemonset {name:?} not found in namespace {ns:?}; check the name and the namespace (-n)"
        ))
    };
    let (ds, revisions, pods) = match fetch::daemonset_and_neighbours(target, &ns, name).await {
        Ok(f) => f,
        Err(Error::Input(_)) => {
            check_namespace(target, Some(&ns)).await?;
            return Err(not_found());
        }
        Err(e) => return Err(e),
    };
    let ds = ds.ok_or_else(not_found)?;
    let history = history::history(&ds, &revisions, &pods);
    let snapshot = Snapshot {
        daemonsets: vec![ds.clone()],
        nodes: Vec::new(),
        pods: crate::logic::snapshot::shared(pods),
        revisions,
        create_failures: Vec::new(),
    };
    Ok(OneDaemonSet {
        daemonset: ds,
        history,
        snapshot,
    })
}

/// A revision's template as YAML, for display and diffs.
pub fn template_yaml(rev: &Revision) -> Result<String> {
    crate::yaml::to_string(&rev.template)
        .map_err(|e| Error::cluster(format!("cannot encode revision {}: {e}", rev.revision)))
}

/// What the API server's admission reads, for the pods of DaemonSets in `ns`; what could not
/// be read becomes a note and its admission plugin is not modelled.
pub async fn admission_facts(
    target: &Target,
    ns: Option<&str>,
    notes: &mut Vec<String>,
) -> AdmissionFacts {
    let mut unread = Vec::new();
    let objects = cluster::admission::objects(target, ns, &mut unread).await;
    notes.extend(cluster::admission::note(&unread));
    objects
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
