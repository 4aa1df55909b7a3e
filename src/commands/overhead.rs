//! `kubectl ds overhead` and the admission facts `preview --node` shares with it.

use super::{check_selector, print};
use crate::cli::{GlobalArgs, OutputFormat, OverheadArgs};
use crate::cluster::fetch::{self, Scope};
use crate::cluster::lean::Keep;
use crate::cluster::{self, Target};
use crate::error::{Error, Exit, Result};
use crate::logic::apimachinery::labels::label_key_error;
use crate::logic::reports::fresh_node::AdmissionFacts;
use crate::logic::reports::overhead::{self, Grouping, Inputs};
use crate::render::{self, Output};

/// A node's overhead comes from the DaemonSets of every namespace, so that is the default;
/// `-n` narrows it.
pub fn daemonset_namespace(global: &GlobalArgs) -> Option<String> {
    if global.all_namespaces {
        None
    } else {
        global.namespace.clone()
    }
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

fn grouping(args: &OverheadArgs) -> Result<Grouping> {
    if args.group_by.is_empty() {
        return Ok(Grouping::Pools);
    }
    for key in &args.group_by {
        if let Some(e) = label_key_error(key) {
            return Err(Error::input(format!("--group-by: {e}")));
        }
    }
    Ok(Grouping::Labels(args.group_by.clone()))
}

/// `kind: OverheadReport`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    #[serde(flatten)]
    report: &'a overhead::OverheadReport,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

pub async fn run(global: &GlobalArgs, args: &OverheadArgs, out: &Output) -> Result<Exit> {
    check_selector("-l", args.node_selector.as_deref())?;
    let grouping = grouping(args)?;
    let target = cluster::connect(global, None).await?;
    let ns = daemonset_namespace(global);
    let scope = Scope {
        namespace: ns.clone(),
        ..Scope::default()
    };
    let mut notes = Vec::new();
    let (daemonsets, nodes, pods, revisions) = tokio::try_join!(
        fetch::daemonsets(&target, &scope),
        fetch::nodes(&target, args.node_selector.as_deref()),
        fetch::lean_pods(&target, None, Keep::Lean),
        fetch::revisions(&target, ns.as_deref()),
    )?;
    let facts = admission_facts(&target, ns.as_deref(), &mut notes).await;
    let report = overhead::compute(
        &Inputs {
            daemonsets: &daemonsets,
            nodes: &nodes,
            pods: &pods,
            revisions: &revisions,
            facts: &facts,
        },
        &grouping,
    );
    let text = match out.format {
        OutputFormat::Json | OutputFormat::Yaml => render::document::render(
            out.format,
            "OverheadReport",
            &Report {
                report: &report,
                notes: &notes,
            },
        )
        .map_err(|e| Error::cluster(format!("cannot encode the report: {e}")))?,
        _ => render::overhead::render(out, &report, &notes),
    };
    print(&text)?;
    Ok(Exit::Ok)
}
