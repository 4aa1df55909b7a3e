//! `kubectl ds explain node NODE [DS...]` and `kubectl ds explain ds NAME`.

use std::collections::HashMap;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use std::io::Write;

use super::shared::{self, check_name};
use crate::cli::{ExplainCommand, ExplainDsArgs, ExplainNodeArgs};
use crate::cluster::fetch::{self, Scope};
use crate::cluster::{self, Clusters, Target};
use crate::error::{Error, Exit, Result};
use crate::logic::admission::{self, Admission, Objects};
use crate::logic::daemon::failed_creates::{self, CreateFailure};
use crate::logic::daemon::pods::PodIndex;
use crate::logic::daemon::{pods, revisions};
use crate::logic::reports::explain::{self, Context, NodeNote, Verdict, VerdictGroup};
use crate::logic::scheduler::{ClusterView, FilterObjects, noderesources};
use crate::render;
use crate::settings::{NamespaceScope, Settings};

/// `kind: ExplainNodeReport`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeReport {
    pub node: String,
    pub node_notes: Vec<NodeNote>,
    pub verdicts: Vec<Verdict>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// `kind: ExplainDaemonSetReport`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetReport {
    pub namespace: String,
    pub name: String,
    pub groups: Vec<VerdictGroup>,
    pub verdicts: Vec<Verdict>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

pub async fn run(
    settings: &Settings,
    clusters: &Clusters,
    cmd: &ExplainCommand,
    out: &mut dyn Write,
) -> Result<Exit> {
    match cmd {
        ExplainCommand::Node(a) => node(settings, clusters, a, out).await,
        ExplainCommand::Ds(a) => daemonset(settings, clusters, a, out).await,
    }
}

/// `explain node NODE [DS...]`.
async fn node(
    settings: &Settings,
    clusters: &Clusters,
    a: &ExplainNodeArgs,
    out: &mut dyn Write,
) -> Result<Exit> {
    check_name("node", &a.node)?;
    for d in &a.daemonsets {
        check_name("DaemonSet", d)?;
    }
    let target = clusters.connect().await?;
    let report = node_report(&settings.namespace, &target, &a.node, &a.daemonsets).await?;
    if report.verdicts.is_empty() {
        let ns = settings.namespace.resolve(&target);
        shared::check_namespace(&target, ns.as_deref()).await?;
    }
    let output = &settings.output;
    shared::emit_report(out, output, "ExplainNodeReport", &report, || {
        Ok(render::explain::node(
            output,
            &report.node,
            &report.node_notes,
            &report.verdicts,
            &report.notes,
        ))
    })?;
    Ok(verdict_exit(&report.verdicts))
}

/// `explain ds NAME`.
async fn daemonset(
    settings: &Settings,
    clusters: &Clusters,
    a: &ExplainDsArgs,
    out: &mut dyn Write,
) -> Result<Exit> {
    check_name("DaemonSet", &a.name)?;
    let target = clusters.connect().await?;
    let report = match ds_report(&settings.namespace, &target, &a.name).await {
        Err(Error::Input(m)) => {
            let ns = settings.namespace.resolve(&target);
            shared::check_namespace(&target, ns.as_deref()).await?;
            return Err(Error::Input(m));
        }
        other => other?,
    };
    let output = &settings.output;
    shared::emit_report(out, output, "ExplainDaemonSetReport", &report, || {
        Ok(render::explain::daemonset(
            output,
            &report.namespace,
            &report.name,
            &report.groups,
            &report.notes,
        ))
    })?;
    Ok(verdict_exit(&report.verdicts))
}

/// 1 when any verdict is a problem, so scripts can gate on it.
fn verdict_exit(verdicts: &[Verdict]) -> Exit {
    if verdicts.iter().any(|v| v.code.is_problem()) {
        Exit::Problem
    } else {
        Exit::Ok
    }
}

/// Optional inputs degrade to a note instead of failing the whole report.
fn or_note<T: Default>(res: Result<T>, what: &str, notes: &mut Vec<String>) -> T {
    match res {
        Ok(v) => v,
        Err(e) => {
            notes.push(format!("{what} unavailable: {e}"));
            T::default()
        }
    }
}

/// The storage and device objects the templates' claims need (nothing for ordinary
/// DaemonSets), with a note for what could not be read.
async fn filter_objects(
    target: &Target,
    daemonsets: &[DaemonSet],
    ns: Option<&str>,
    notes: &mut Vec<String>,
) -> FilterObjects {
    let specs = daemonsets.iter().filter_map(|d| {
        crate::logic::apimachinery::compat::daemonset_spec(d)?
            .template
            .spec
            .as_ref()
    });
    let mut unread = Vec::new();
    let objects = cluster::filter_objects::read(
        target,
        cluster::filter_objects::Needs::of(specs),
        ns,
        &mut unread,
    )
    .await;
    notes.extend(cluster::admission::note(&unread));
    objects
}

/// What admission, preemption and the controller's events add, read once per command.
#[derive(Default)]
struct Extra {
    objects: Objects,
    pdbs: Vec<PodDisruptionBudget>,
    failures: Vec<CreateFailure>,
}

/// The inputs, and a note naming those that could not be read.
async fn extra(target: &Target, ns: Option<&str>) -> (Extra, Option<String>) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut c = Vec::new();
    let (objects, pdbs, failures) = tokio::join!(
        cluster::admission::objects(target, ns, &mut a),
        cluster::admission::pdbs(target, &mut b),
        cluster::admission::failures(target, ns, &mut c),
    );
    a.extend(b);
    a.extend(c);
    let note = cluster::admission::note(&a);
    (
        Extra {
            objects,
            pdbs,
            failures,
        },
        note,
    )
}

#[derive(Clone, Copy)]
struct Inputs<'a> {
    pods_on_node: &'a [&'a Pod],
    view: &'a ClusterView<'a>,
    nominated: &'a [&'a Pod],
    events: &'a HashMap<String, String>,
    extra: &'a Extra,
    revisions: &'a [k8s_openapi::api::apps::v1::ControllerRevision],
    index: &'a PodIndex<'a>,
    /// The DaemonSet's own pods (to tell whether its creates succeed again).
    owned: &'a [&'a Pod],
}

/// The pod the controller would create for `ds`, through the admission model.
fn admitted(ds: &DaemonSet, hash: Option<&str>, objects: &Objects) -> Option<Admission> {
    admission::daemon_pod(ds, "", hash).map(|p| admission::admit(p, objects))
}

fn verdict(
    ds: &DaemonSet,
    node: &Node,
    inputs: &Inputs<'_>,
    admitted: Option<&Admission>,
    now: Timestamp,
) -> Verdict {
    let hash = revisions::current_hash(ds, inputs.revisions);
    let node_name = node.metadata.name.as_deref().unwrap_or("");
    let ctx = Context {
        pods_on_node: inputs.pods_on_node,
        view: inputs.view,
        nominated: inputs.nominated,
        scheduling_events: inputs.events,
        admitted,
        pdbs: &inputs.extra.pdbs,
        create_failure: failed_creates::current(
            ds,
            &inputs.extra.failures,
            inputs.owned.iter().copied(),
        ),
        failed_pod: failed_creates::failed_pod_on(
            ds,
            &inputs.extra.failures,
            node_name,
            inputs.revisions,
            now,
        ),
        current_hash: hash.as_deref(),
        template_generation: revisions::template_generation(ds),
        now,
    };
    let uid = ds.metadata.uid.as_deref().unwrap_or("");
    explain::explain(ds, node, inputs.index.on_node(uid, node_name), &ctx)
}

/// What `explain node` reads: only this node, its pods, the unscheduled pods, and the
/// DaemonSets, so the cost does not grow with the number of nodes.
struct NodeData {
    node: Node,
    daemonsets: Vec<DaemonSet>,
    /// The node's pods and the unscheduled ones.
    all_pods: Vec<Pod>,
    revs: Vec<k8s_openapi::api::apps::v1::ControllerRevision>,
    extra: Extra,
    events: HashMap<String, String>,
    notes: Vec<String>,
}

async fn read_node(
    ns: Option<String>,
    target: &Target,
    node_name: &str,
    names: &[String],
) -> Result<NodeData> {
    let scope = Scope {
        namespace: ns.clone(),
        names: if ns.is_some() {
            names.to_vec()
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    let on_node = format!("spec.nodeName={node_name}");
    let mut notes = Vec::new();
    let (node, daemonsets, bound, unbound, revs, extra) = tokio::join!(
        fetch::node(target, node_name),
        fetch::daemonsets(target, &scope),
        fetch::pods(target, None, Some(&on_node)),
        fetch::pods(target, ns.as_deref(), Some("spec.nodeName=")),
        fetch::revisions(target, ns.as_deref()),
        extra(target, ns.as_deref()),
    );
    let node = node?;
    let (extra, unread) = extra;
    let (mut daemonsets, bound, unbound, revs) = match (daemonsets, bound) {
        // Some namespaces are off limits: report on the ones that may be read.
        (Err(Error::Forbidden(_)), _) | (_, Err(Error::Forbidden(_))) if ns.is_none() => {
            readable_namespaces(target, &on_node, &mut notes).await?
        }
        (daemonsets, bound) => (
            daemonsets?,
            bound?,
            or_note(unbound, "unscheduled pods", &mut notes),
            or_note(revs, "ControllerRevisions (revision checks)", &mut notes),
        ),
    };
    let events = pending_events(target, &unbound, node_name, &mut notes).await;
    if ns.is_none() && !names.is_empty() {
        shared::retain_named(&mut daemonsets, names)?;
    }
    notes.extend(unread);
    let mut all_pods = bound;
    all_pods.extend(unbound);
    Ok(NodeData {
        node,
        daemonsets,
        all_pods,
        revs,
        extra,
        events,
        notes,
    })
}

/// The scheduler's events about the pods waiting for this node: only they can explain it.
async fn pending_events(
    target: &Target,
    unbound: &[Pod],
    node_name: &str,
    notes: &mut Vec<String>,
) -> HashMap<String, String> {
    let pending_here: Vec<(String, String)> = unbound
        .iter()
        .filter(|p| pods::target_node(p) == Some(node_name))
        .map(|p| {
            (
                p.metadata.namespace.clone().unwrap_or_default(),
                pods::name(p).to_string(),
            )
        })
        .collect();
    if pending_here.is_empty() {
        return HashMap::new();
    }
    or_note(
        fetch::scheduling_events_of(target, &pending_here).await,
        "scheduler events",
        notes,
    )
}

/// One verdict per DaemonSet in scope on `node_name`, worst first.
async fn node_report(
    namespace: &NamespaceScope,
    target: &Target,
    node_name: &str,
    names: &[String],
) -> Result<NodeReport> {
    let d = read_node(namespace.resolve(target), target, node_name, names).await?;
    let index = PodIndex::new(&d.all_pods);
    let pods_on_node = noderesources::pods_on_node(node_name, &d.all_pods);
    let mut filter_notes = Vec::new();
    let objects = filter_objects(
        target,
        &d.daemonsets,
        namespace.resolve(target).as_deref(),
        &mut filter_notes,
    )
    .await;
    // Only this node and its pods are read, so filters over other nodes say "not checked".
    let here = [&d.node];
    let view = ClusterView::new(&here, &pods_on_node, false, &objects);
    let nominated: Vec<&Pod> = d
        .all_pods
        .iter()
        .filter(|p| crate::logic::scheduler::nominated::is_nominated_to(p, node_name))
        .collect();
    let inputs = Inputs {
        pods_on_node: &pods_on_node,
        view: &view,
        nominated: &nominated,
        events: &d.events,
        extra: &d.extra,
        revisions: &d.revs,
        index: &index,
        owned: &[],
    };
    let now = Timestamp::now();
    let mut verdicts: Vec<Verdict> = d
        .daemonsets
        .iter()
        .map(|ds| {
            let hash = revisions::current_hash(ds, &d.revs);
            let a = admitted(ds, hash.as_deref(), &d.extra.objects);
            let owned = failed_creates::owned_pods(ds, &d.all_pods);
            let inputs = Inputs {
                owned: &owned,
                ..inputs
            };
            verdict(ds, &d.node, &inputs, a.as_ref(), now)
        })
        .collect();
    explain::sort(&mut verdicts);
    Ok(NodeReport {
        node: node_name.to_string(),
        node_notes: explain::node_notes(&d.node),
        verdicts,
        notes: d.notes.into_iter().chain(filter_notes).collect(),
    })
}

type NamespaceData = (
    Vec<DaemonSet>,
    Vec<Pod>,
    Vec<Pod>,
    Vec<k8s_openapi::api::apps::v1::ControllerRevision>,
);

/// The per-namespace fallback of `explain node -A` for users who may not list cluster-wide:
/// namespaces that refuse are named in a note instead of failing the report.
async fn readable_namespaces(
    target: &Target,
    on_node: &str,
    notes: &mut Vec<String>,
) -> Result<NamespaceData> {
    let mut out: NamespaceData = Default::default();
    let mut skipped = Vec::new();
    for ns in fetch::namespaces(target).await? {
        let scope = Scope {
            namespace: Some(ns.clone()),
            ..Default::default()
        };
        let (daemonsets, bound, unbound, revs) = tokio::join!(
            fetch::daemonsets(target, &scope),
            fetch::pods(target, Some(&ns), Some(on_node)),
            fetch::pods(target, Some(&ns), Some("spec.nodeName=")),
            fetch::revisions(target, Some(&ns)),
        );
        match (daemonsets, bound) {
            (Ok(d), Ok(b)) => {
                out.0.extend(d);
                out.1.extend(b);
                out.2.extend(unbound.unwrap_or_default());
                out.3.extend(revs.unwrap_or_default());
            }
            (Err(Error::Forbidden(_)), _) | (_, Err(Error::Forbidden(_))) => skipped.push(ns),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        }
    }
    if !skipped.is_empty() {
        let noun = if skipped.len() == 1 {
            "namespace"
        } else {
            "namespaces"
        };
        notes.push(format!(
            "not allowed to read DaemonSets or pods in {noun} {}: they are left out, and resource checks do not see their pods",
            skipped.join(", ")
        ));
    }
    Ok(out)
}

/// What `explain ds NAME` reads.
struct DsData {
    ds: DaemonSet,
    nodes: Vec<Node>,
    /// The DaemonSet's namespace's pods, or every pod when some verdict checks fit.
    pods: Vec<Pod>,
    revs: Result<Vec<ControllerRevision>>,
    events: Result<HashMap<String, String>>,
    extra: Extra,
    unread: Option<String>,
}

/// The DaemonSet and every node.
async fn ds_and_nodes(
    target: &Target,
    ns: Option<&str>,
    name: &str,
) -> Result<(DaemonSet, Vec<Node>)> {
    let scope = Scope {
        namespace: ns.map(str::to_string),
        names: ns.map(|_| vec![name.to_string()]).unwrap_or_default(),
        ..Default::default()
    };
    let (daemonsets, nodes) = tokio::join!(
        fetch::daemonsets(target, &scope),
        fetch::nodes(target, None)
    );
    let ds = daemonsets?
        .into_iter()
        .find(|d| d.metadata.name.as_deref() == Some(name))
        .ok_or_else(|| shared::not_found_anywhere(&[name.to_string()]))?;
    Ok((ds, nodes?))
}

type Around = (
    Result<Vec<Pod>>,
    Result<Vec<ControllerRevision>>,
    Result<HashMap<String, String>>,
    (Extra, Option<String>),
);

/// What the DaemonSet's namespace holds: its pods, revisions, scheduler events and the
/// admission inputs.
async fn around(target: &Target, ns: &str, name: &str) -> Around {
    tokio::join!(
        fetch::pods_for_daemonset(target, Some(ns), name),
        fetch::revisions(target, Some(ns)),
        fetch::scheduling_events(target, Some(ns)),
        extra(target, Some(ns)),
    )
}

/// With the namespace known, everything is read at once; with `-A`, the DaemonSet first.
/// Pods of other namespaces are read only when some node's verdict runs the scheduler's
/// filters, so for a DaemonSet whose pods are all bound the reads are those of `coverage NAME`.
async fn read_ds(target: &Target, ns: Option<&str>, name: &str) -> Result<DsData> {
    let ((ds, nodes), (pods, revs, events, (extra, unread))) = match ns {
        Some(ns) => {
            let (found, around) = tokio::join!(
                ds_and_nodes(target, Some(ns), name),
                around(target, ns, name)
            );
            (found?, around)
        }
        None => {
            let (ds, nodes) = ds_and_nodes(target, None, name).await?;
            let ns = ds.metadata.namespace.clone().unwrap_or_default();
            ((ds, nodes), around(target, &ns, name).await)
        }
    };
    let mut pods = pods?;
    if explain::checks_fit_somewhere(&ds, &nodes, &PodIndex::new(&pods)) {
        pods = fetch::pods_for_daemonset(target, None, name).await?;
    }
    Ok(DsData {
        ds,
        nodes,
        pods,
        revs,
        events,
        extra,
        unread,
    })
}

async fn ds_report(
    namespace: &NamespaceScope,
    target: &Target,
    name: &str,
) -> Result<DaemonSetReport> {
    let ns = namespace.resolve(target);
    let d = read_ds(target, ns.as_deref(), name).await?;
    let (ds, nodes, pods, extra) = (d.ds, d.nodes, d.pods, d.extra);
    let ds_ns = ds.metadata.namespace.clone().unwrap_or_default();
    let mut notes = Vec::new();
    let revs = or_note(d.revs, "ControllerRevisions (revision checks)", &mut notes);
    let events = or_note(d.events, "scheduler events", &mut notes);
    let index = PodIndex::new(&pods);
    let now = Timestamp::now();
    let hash = revisions::current_hash(&ds, &revs);
    let admitted = admitted(&ds, hash.as_deref(), &extra.objects);
    let by_node = noderesources::pods_by_node(&pods);
    let all_nodes: Vec<&Node> = nodes.iter().collect();
    let objects = filter_objects(target, std::slice::from_ref(&ds), Some(&ds_ns), &mut notes).await;
    let bound = crate::logic::scheduler::bound_pods(&pods);
    let view = ClusterView::new(&all_nodes, &bound, true, &objects);
    let waiting: Vec<&Pod> = pods.iter().filter(|p| !pods::is_bound(p)).collect();
    let owned = failed_creates::owned_pods(&ds, &pods);
    let mut verdicts = Vec::with_capacity(nodes.len());
    for node in &nodes {
        let name = node.metadata.name.as_deref().unwrap_or("");
        let inputs = Inputs {
            nominated: &waiting,
            pods_on_node: by_node.get(name).map_or(&[], Vec::as_slice),
            view: &view,
            events: &events,
            extra: &extra,
            revisions: &revs,
            index: &index,
            owned: &owned,
        };
        verdicts.push(verdict(&ds, node, &inputs, admitted.as_ref(), now));
    }
    explain::sort(&mut verdicts);
    notes.extend(d.unread);
    Ok(DaemonSetReport {
        namespace: ds_ns,
        name: name.to_string(),
        groups: explain::group(&verdicts),
        verdicts,
        notes,
    })
}
