//! `kubectl ds preview -f FILE|-` and `preview --node FILE | --node-like NODE`.

use std::io::{Read, Write};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;
use serde::Serialize;

use super::shared::{self, admission_facts, check_name};
use crate::cli::PreviewArgs;
use crate::cluster::fetch;
use crate::cluster::{self, Clusters, Target};
use crate::error::{Error, Exit, Result};
use crate::logic::admission::{self, Admission, Objects};
use crate::logic::manifest;
use crate::logic::reports::node_preview;
use crate::logic::reports::preview::{self, Admitted, Preview};
use crate::render;
use crate::settings::Settings;

/// `kind: PreviewReport`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub items: Vec<Preview>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

/// Manifests above this size are refused before parsing.
const MAX_BYTES: usize = 16 << 20;

fn read_source(file: &str) -> Result<(String, String)> {
    let (name, bytes) = if file == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(MAX_BYTES as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| {
                Error::input(format!("cannot read the manifest from standard input: {e}"))
            })?;
        ("<stdin>".to_string(), buf)
    } else {
        let bytes =
            std::fs::read(file).map_err(|e| Error::input(format!("cannot read {file}: {e}")))?;
        (file.to_string(), bytes)
    };
    if bytes.len() > MAX_BYTES {
        return Err(Error::input(format!(
            "{name} is larger than {} MiB; preview reads DaemonSet manifests, not archives",
            MAX_BYTES >> 20
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::input(format!(
            "{name} is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((name, text))
}

/// The namespace of every DaemonSet, when they share one: the admission inputs are then read
/// there only.
fn one_namespace(daemonsets: &[DaemonSet]) -> Option<String> {
    let first = daemonsets.first()?.metadata.namespace.clone();
    daemonsets
        .iter()
        .all(|d| d.metadata.namespace == first)
        .then_some(first)
        .flatten()
}

/// The DaemonSet's pod as the API server would admit it. With `--server-dry-run`, the
/// server's own answer (a dry-run create of the pod the controller would build: every
/// admission plugin and webhook answers, the mutated pod or the refusal verbatim); without the
/// permission to create pods, or without it asked, the local admission model.
async fn admitted(
    target: &Target,
    ds: &DaemonSet,
    nodes: &[k8s_openapi::api::core::v1::Node],
    objects: &Objects,
    server: bool,
) -> Result<Option<Admission>> {
    let first = nodes
        .first()
        .and_then(|n| n.metadata.name.clone())
        .unwrap_or_default();
    let Some(pod) = admission::daemon_pod(ds, &first, None) else {
        return Ok(None);
    };
    let model = admission::admit(pod.clone(), objects);
    if !server || first.is_empty() {
        return Ok(Some(model));
    }
    match cluster::admission::dry_run_create(target, &pod).await {
        Ok(answer) => Ok(Some(admission::from_server(model, answer))),
        Err(e) => {
            eprintln!(
                "note: the API server's dry-run create of a pod was not possible ({e}); the local admission model answers instead"
            );
            Ok(Some(model))
        }
    }
}

pub async fn run(
    settings: &Settings,
    clusters: &Clusters,
    args: &PreviewArgs,
    out: &mut dyn Write,
) -> Result<Exit> {
    let Some(file) = args.file.as_deref() else {
        return run_node(settings, clusters, args, out).await;
    };
    if args.labels.is_some() || args.taints.is_some() {
        return Err(Error::input(
            "--labels and --taints change the node of --node or --node-like; they do not apply to -f",
        ));
    }
    let (source, text) = read_source(file)?;
    let manifest = manifest::read(&source, &text).map_err(Error::input)?;
    for s in &manifest.skipped {
        eprintln!("note: skipped {s}: preview only reads DaemonSets");
    }
    let target = clusters.connect().await?;
    let daemonsets = with_namespaces(settings, &target, &source, manifest.daemonsets)?;
    let items = previews(&target, daemonsets, args.server_dry_run).await?;
    let report = Report {
        items,
        skipped: manifest.skipped,
    };
    let output = &settings.output;
    shared::emit_report(out, output, "PreviewReport", &report, || {
        Ok(render::preview::render(output, &report.items))
    })?;
    let unplaceable = report
        .items
        .iter()
        .any(|p| !p.unplaceable.is_empty() || !p.create_refused.is_empty());
    Ok(if args.fail_if_unplaceable && unplaceable {
        Exit::Problem
    } else {
        Exit::Ok
    })
}

/// The manifest's DaemonSets, each in its own namespace, else in `-n`'s or the context's; a
/// namespace that contradicts `-n` is an error.
fn with_namespaces(
    settings: &Settings,
    target: &Target,
    source: &str,
    entries: Vec<manifest::Entry>,
) -> Result<Vec<DaemonSet>> {
    let default_ns = settings.namespace.one(target);
    let mut daemonsets = Vec::new();
    for entry in entries {
        let mut ds = entry.daemonset;
        match (ds.metadata.namespace.as_deref(), settings.namespace.flag()) {
            (Some(own), Some(flag)) if own != flag => {
                return Err(Error::input(format!(
                    "{source}:{}: the manifest's namespace {own:?} does not match -n {flag:?}",
                    entry.line
                )));
            }
            (Some(_), _) => {}
            (None, _) => ds.metadata.namespace = Some(default_ns.clone()),
        }
        daemonsets.push(ds);
    }
    Ok(daemonsets)
}

/// Where each DaemonSet would land, from one read of the nodes, pods and admission inputs.
async fn previews(
    target: &Target,
    daemonsets: Vec<DaemonSet>,
    server_dry_run: bool,
) -> Result<Vec<Preview>> {
    let scope = one_namespace(&daemonsets);
    let specs = daemonsets.iter().filter_map(|d| {
        crate::logic::apimachinery::compat::daemonset_spec(d)?
            .template
            .spec
            .as_ref()
    });
    let needs = cluster::filter_objects::Needs::of(specs);
    let (mut unread, mut unread_pdbs, mut unread_filter) = (Vec::new(), Vec::new(), Vec::new());
    // Everything at once: the lists, the admission inputs and the DaemonSets as they are now
    // (preview's cost is then that of its largest list, as coverage's is).
    let (lists, objects, pdbs, filter_objects, existing) = tokio::join!(
        async {
            tokio::try_join!(
                fetch::nodes(target, None),
                fetch::lean_pods(target, None, crate::cluster::lean::Keep::Fit)
            )
        },
        cluster::admission::objects(target, scope.as_deref(), &mut unread),
        cluster::admission::pdbs(target, &mut unread_pdbs),
        cluster::filter_objects::read(target, needs, scope.as_deref(), &mut unread_filter),
        futures::future::try_join_all(daemonsets.iter().map(|ds| {
            let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
            let name = ds.metadata.name.as_deref().unwrap_or_default();
            fetch::daemonset_opt(target, ns, name)
        })),
    );
    let ((nodes, pods), existing) = (lists?, existing?);
    unread.extend(unread_pdbs);
    unread.extend(unread_filter);
    if let Some(n) = cluster::admission::note(&unread) {
        eprintln!("note: {n}");
    }
    let mut items = Vec::new();
    for (ds, existing) in daemonsets.into_iter().zip(existing) {
        let ds = if server_dry_run {
            server_applied(target, ds).await?
        } else {
            ds
        };
        let admission = admitted(target, &ds, &nodes, &objects, server_dry_run).await?;
        let inputs = Admitted {
            admission: admission.as_ref(),
            pdbs: &pdbs,
            quotas: objects.quotas.as_deref().unwrap_or(&[]),
            objects: Some(&filter_objects),
        };
        if let Some(p) = preview::preview_admitted(&ds, existing.as_ref(), &nodes, &pods, inputs) {
            items.push(p);
        }
    }
    Ok(items)
}

/// The manifest as the API server's dry-run apply returns it. Without the permission to patch
/// DaemonSets (the read-only role), a note and the manifest as it is.
async fn server_applied(target: &Target, ds: DaemonSet) -> Result<DaemonSet> {
    match cluster::write::apply_dry_run(target, &ds).await? {
        Ok(applied) => Ok(applied),
        Err(message) => {
            let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
            let name = ds.metadata.name.as_deref().unwrap_or_default();
            eprintln!(
                "note: the API server's dry-run apply of daemonset {ns}/{name} was not possible (it needs `patch` on daemonsets: {message}); the manifest is read as it is"
            );
            Ok(ds)
        }
    }
}

/// The Node of `--node FILE`.
fn read_node(file: &str) -> Result<Node> {
    let (source, text) = read_source(file)?;
    let value: serde_json::Value = crate::yaml::from_str(&text)
        .map_err(|e| Error::input(format!("{source} is not a YAML or JSON Node: {e}")))?;
    let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    if kind != "Node" {
        return Err(Error::input(format!(
            "{source} holds kind {kind:?}, not a Node; --node reads one Node manifest (-f reads DaemonSets)"
        )));
    }
    let node: Node = serde_json::from_value(value)
        .map_err(|e| Error::input(format!("{source} is not a valid Node: {e}")))?;
    if node.metadata.name.as_deref().unwrap_or("").is_empty() {
        return Err(Error::input(format!(
            "{source}: the Node has no metadata.name"
        )));
    }
    Ok(node)
}

/// `kind: NodePreviewReport`.
#[derive(Serialize)]
struct NodeDoc<'a> {
    #[serde(flatten)]
    preview: &'a node_preview::NodePreview,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

/// `preview --node FILE | --node-like NODE [--labels ...] [--taints ...]`.
async fn run_node(
    settings: &Settings,
    clusters: &Clusters,
    args: &PreviewArgs,
    out: &mut dyn Write,
) -> Result<Exit> {
    let labels = args
        .labels
        .as_deref()
        .map(node_preview::parse_labels)
        .transpose()
        .map_err(|e| Error::input(format!("--labels: {e}")))?
        .unwrap_or_default();
    let taints = args
        .taints
        .as_deref()
        .map(node_preview::parse_taints)
        .transpose()
        .map_err(|e| Error::input(format!("--taints: {e}")))?
        .unwrap_or_default();
    let from_file = args.node.as_deref().map(read_node).transpose()?;
    if let Some(name) = &args.node_like {
        check_name("node", name)?;
    }
    let target = clusters.connect().await?;
    let node = match (from_file, &args.node_like) {
        (Some(node), _) => node_preview::apply(node, &labels, &taints),
        (None, Some(name)) => {
            node_preview::node_like(&fetch::node(&target, name).await?, &labels, &taints)
        }
        (None, None) => {
            return Err(Error::input(
                "give -f FILE, --node FILE or --node-like NODE",
            ));
        }
    };
    // What a node gets comes from the DaemonSets of every namespace; `-n` narrows it.
    let namespace = settings.namespace.named_or_all();
    let scope = fetch::Scope {
        namespace: namespace.clone(),
        ..fetch::Scope::default()
    };
    let daemonsets = fetch::daemonsets(&target, &scope).await?;
    let mut notes = Vec::new();
    let facts = admission_facts(&target, namespace.as_deref(), &mut notes).await;
    let preview = node_preview::preview(&node, &daemonsets, &facts);
    let output = &settings.output;
    let doc = NodeDoc {
        preview: &preview,
        notes: &notes,
    };
    shared::emit_report(out, output, "NodePreviewReport", &doc, || {
        Ok(render::overhead::render_node(output, &preview, &notes))
    })?;
    Ok(
        if args.fail_if_unplaceable && preview.count("Pending") > 0 {
            Exit::Problem
        } else {
            Exit::Ok
        },
    )
}
