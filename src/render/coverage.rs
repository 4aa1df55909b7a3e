//! `kubectl ds coverage` as text: a summary table for many DaemonSets, a per-node table for one.

use std::fmt::Write as _;

use super::fit::{self, sample};
use super::{Output, table};
use crate::logic::daemon::coverage::{
    CoverageItem, CoverageReport, DaemonSetCoverage, NodeCoverage, NodeState,
};

/// Node names shown inline before "and N more".
const NAME_SAMPLE: usize = 5;

fn percent(p: f64) -> String {
    format!("{p:.1}%")
}

fn state_cell(out: &Output, state: NodeState) -> String {
    let s = state.as_str();
    match state {
        NodeState::Ready => out.styles.good(s),
        NodeState::OldRevision
        | NodeState::Pending
        | NodeState::Terminating
        | NodeState::Unverified => out.styles.warn(s),
        _ => out.styles.bad(s),
    }
}

fn coverage_cell(out: &Output, c: &DaemonSetCoverage) -> String {
    let text = percent(c.summary.coverage_percent);
    if c.summary.covered == c.summary.should_run {
        out.styles.good(&text)
    } else {
        out.styles.bad(&text)
    }
}

pub fn render(out: &Output, report: &CoverageReport, single: bool) -> String {
    render_rows(out, report, single, false)
}

/// A `--watch` frame for a screen `height` lines tall: when the full report is taller, healthy
/// rows (Ready nodes, fully covered DaemonSets) are collapsed into a count first, then the rest
/// is cut.
pub fn frame(out: &Output, report: &CoverageReport, single: bool, height: Option<u16>) -> String {
    let full = render_rows(out, report, single, false);
    if fit::fits(&full, height) {
        return full;
    }
    fit::to_height(&render_rows(out, report, single, true), height)
}

fn render_rows(out: &Output, report: &CoverageReport, single: bool, collapse: bool) -> String {
    if report.items.is_empty() && report.errors.is_empty() {
        return "No DaemonSets found.\n".to_string();
    }
    if single && report.items.len() == 1 && report.errors.is_empty() {
        per_node(out, &report.items[0], collapse)
    } else {
        summary(out, report, collapse)
    }
}

fn summary(out: &Output, report: &CoverageReport, collapse: bool) -> String {
    let multi = report.items.iter().any(|i| i.context.is_some()) || !report.errors.is_empty();
    let mut t = table::new(&summary_headers(out, multi), out.width);
    let mut hidden = 0;
    for item in &report.items {
        let s = &item.coverage.summary;
        if collapse && s.covered == s.should_run && s.misscheduled == 0 {
            hidden += 1;
            continue;
        }
        t.add_row(summary_row(out, item, multi));
    }
    // Errors go below the table: their text would stretch a column past the screen.
    let mut text = if report.items.is_empty() {
        String::new()
    } else {
        table::to_text(&t)
    };
    if hidden > 0 {
        let noun = if hidden == 1 {
            "DaemonSet"
        } else {
            "DaemonSets"
        };
        let _ = writeln!(text, "({hidden} more {noun} fully covered)");
    }
    if !report.errors.is_empty() && !text.is_empty() {
        text.push('\n');
    }
    for e in &report.errors {
        let _ = writeln!(
            text,
            "{} context {}: {}",
            out.styles.bad("error:"),
            e.context,
            e.error
        );
    }
    text
}

fn summary_headers(out: &Output, multi: bool) -> Vec<&'static str> {
    let mut headers = Vec::new();
    if multi {
        headers.push("CONTEXT");
    }
    headers.extend([
        "NAMESPACE",
        "NAME",
        "SHOULD-RUN",
        "READY",
        "UP-TO-DATE",
        "MISSING",
        "MISSCHEDULED",
        "COVERAGE",
    ]);
    if out.wide() {
        headers.extend(["NOT-COVERED", "EXCLUDED"]);
    }
    headers
}

fn summary_row(out: &Output, item: &CoverageItem, multi: bool) -> Vec<String> {
    let c = &item.coverage;
    let s = &c.summary;
    let mut row = Vec::new();
    if multi {
        row.push(item.context.clone().unwrap_or_default());
    }
    row.extend([
        c.namespace.clone(),
        c.name.clone(),
        s.should_run.to_string(),
        s.ready.to_string(),
        s.up_to_date.to_string(),
        s.missing.to_string(),
        s.misscheduled.to_string(),
        coverage_cell(out, c),
    ]);
    if out.wide() {
        let gaps: Vec<String> = c
            .gaps()
            .map(|n| format!("{}({})", n.node, n.state.as_str()))
            .collect();
        row.push(if gaps.is_empty() {
            "<none>".into()
        } else {
            sample(&gaps, NAME_SAMPLE)
        });
        let excluded: Vec<String> = c
            .excluded
            .iter()
            .map(|g| format!("{} {}", g.count, g.reason))
            .collect();
        row.push(if excluded.is_empty() {
            "<none>".into()
        } else {
            excluded.join("; ")
        });
    }
    row
}

fn per_node(out: &Output, item: &CoverageItem, collapse: bool) -> String {
    let c = &item.coverage;
    let mut text = headline(out, item);
    if !c.nodes.is_empty() {
        text.push('\n');
        node_table(out, c, collapse, &mut text);
        node_notes(c, &mut text);
    }
    if !c.misscheduled.is_empty() {
        text.push_str("\nMisscheduled pods (on nodes that should not run them):\n");
        misscheduled_table(out, c, &mut text);
    }
    if !c.excluded.is_empty() {
        let total: usize = c.excluded.iter().map(|g| g.count).sum();
        let _ = writeln!(text, "\nExcluded nodes ({total}):");
        for g in &c.excluded {
            let noun = if g.count == 1 { "node" } else { "nodes" };
            let names = if out.wide() {
                g.nodes.join(", ")
            } else {
                sample(&g.nodes, NAME_SAMPLE)
            };
            let _ = writeln!(text, "  {} {noun}: {} ({names})", g.count, g.reason);
        }
    }
    text
}

/// The counts in one sentence, and what makes them provisional or explains the gaps.
fn headline(out: &Output, item: &CoverageItem) -> String {
    let c = &item.coverage;
    let s = &c.summary;
    let mut text = String::new();
    let ctx = item
        .context
        .as_deref()
        .map(|c| format!(" (context {c})"))
        .unwrap_or_default();
    let _ = writeln!(
        text,
        "DaemonSet {}/{}{}: {} of {} nodes covered ({}); {} missing, {} not ready or not updated, {} misscheduled",
        c.namespace,
        c.name,
        ctx,
        s.covered,
        s.should_run,
        coverage_cell(out, c),
        s.missing,
        s.should_run - s.covered - s.missing,
        s.misscheduled,
    );
    if c.status.observed_generation < c.status.generation {
        let _ = writeln!(
            text,
            "{}",
            out.styles
                .warn("The controller has not yet observed the latest spec; counts may be about to change.")
        );
    }
    if let Some(f) = &c.create_refused {
        let refused = c
            .nodes
            .iter()
            .filter(|n| n.state == NodeState::CreateRefused)
            .count();
        let _ = writeln!(
            text,
            "{} {refused} node(s) have no pod because the API server refuses the controller's creates ({}): {}",
            out.styles.bad("CreateRefused:"),
            f.shown(),
            f.message
        );
    }
    text
}

/// One row per node that should run the pod; with `collapse`, the healthy ones as a count.
fn node_table(out: &Output, c: &DaemonSetCoverage, collapse: bool, text: &mut String) {
    let mut t = table::new(&["NODE", "STATE", "POD", "REVISION"], out.width);
    let ready = |n: &&NodeCoverage| n.state == NodeState::Ready && n.up_to_date;
    let hidden = if collapse {
        c.nodes.iter().filter(ready).count()
    } else {
        0
    };
    for n in c.nodes.iter().filter(|n| !collapse || !ready(n)) {
        t.add_row(vec![
            n.node.clone(),
            state_cell(out, n.state),
            n.pod.clone().unwrap_or_else(|| "-".into()),
            match (&n.pod, n.up_to_date) {
                (None, _) => "-".into(),
                (Some(_), true) => "current".into(),
                (Some(_), false) => out.styles.warn("old"),
            },
        ]);
    }
    text.push_str(&table::to_text(&t));
    if hidden > 0 {
        let noun = if hidden == 1 { "node" } else { "nodes" };
        let _ = writeln!(text, "({hidden} more {noun} ready on the current revision)");
    }
}

/// Evictions under way and pods that cannot be verified, one line per node.
fn node_notes(c: &DaemonSetCoverage, text: &mut String) {
    for n in &c.nodes {
        if let Some(e) = &n.eviction {
            let _ = writeln!(text, "{}: {}", n.node, e.sentence());
        }
    }
    for n in c.nodes.iter().filter(|n| n.state == NodeState::Unverified) {
        let _ = writeln!(
            text,
            "{}: Unverified since {}: the pod was Ready when the node last reported; its kubelet is gone, so it is not counted as covered",
            n.node,
            n.unverified_since
                .as_deref()
                .unwrap_or("the node's last heartbeat")
        );
    }
}

fn misscheduled_table(out: &Output, c: &DaemonSetCoverage, text: &mut String) {
    let mut t = table::new(&["NODE", "PODS", "ACTION", "REASON"], out.width);
    for m in &c.misscheduled {
        let (action, reason) = match (&m.waits_for, m.terminating, m.will_be_removed) {
            (Some(w), _, _) => ("Terminating, stuck", format!("{w}; {}", m.reason)),
            (None, true, _) => ("Terminating", m.reason.clone()),
            (None, false, _) if m.eviction.is_some() => (
                "evicted",
                format!(
                    "{}; {}",
                    m.eviction
                        .as_ref()
                        .map(|e| e.sentence())
                        .unwrap_or_default(),
                    m.reason
                ),
            ),
            (None, false, true) => ("controller deletes", m.reason.clone()),
            (None, false, false) => ("kept", m.reason.clone()),
        };
        t.add_row(vec![
            m.node.clone(),
            m.pods.join(","),
            action.to_string(),
            reason,
        ]);
    }
    text.push_str(&table::to_text(&t));
}
