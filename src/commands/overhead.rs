//! `kubectl ds overhead`.

use std::io::Write;

use super::shared::{self, admission_facts};
use crate::cli::OverheadArgs;
use crate::cluster::Clusters;
use crate::cluster::fetch::{self, Scope};
use crate::cluster::lean::Keep;
use crate::error::{Error, Exit, Result};
use crate::logic::apimachinery::labels::label_key_error;
use crate::logic::reports::overhead::{self, Grouping, Inputs};
use crate::render;
use crate::settings::{Selector, Settings, selector_text};

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

pub async fn run(
    settings: &Settings,
    clusters: &Clusters,
    args: &OverheadArgs,
    out: &mut dyn Write,
) -> Result<Exit> {
    let node_selector = Selector::parse("-l", args.node_selector.as_deref())?;
    let grouping = grouping(args)?;
    let target = clusters.connect().await?;
    // A node's overhead comes from the DaemonSets of every namespace; `-n` narrows it.
    let ns = settings.namespace.named_or_all();
    let scope = Scope {
        namespace: ns.clone(),
        ..Scope::default()
    };
    let mut notes = Vec::new();
    let node_selector = selector_text(&node_selector);
    // The admission inputs are read with the lists, not after them: a round trip less.
    let (lists, facts) = tokio::join!(
        async {
            tokio::try_join!(
                fetch::daemonsets(&target, &scope),
                fetch::nodes(&target, node_selector.as_deref()),
                fetch::lean_pods(&target, None, Keep::Fit),
                fetch::revisions(&target, ns.as_deref()),
            )
        },
        admission_facts(&target, ns.as_deref(), &mut notes),
    );
    let (daemonsets, nodes, pods, revisions) = lists?;
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
    let output = &settings.output;
    let doc = Report {
        report: &report,
        notes: &notes,
    };
    shared::emit_report(out, output, "OverheadReport", &doc, || {
        Ok(render::overhead::render(output, &report, &notes))
    })?;
    Ok(Exit::Ok)
}
