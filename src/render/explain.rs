//! `kubectl ds explain` as text.

use std::fmt::Write as _;

use super::{Output, table};
use crate::logic::reason::Code;
use crate::logic::reports::explain::{NodeNote, Verdict, VerdictGroup};

fn code_cell(out: &Output, code: Code) -> String {
    if code == Code::Healthy {
        out.styles.good(code.as_str())
    } else if code.is_problem() {
        out.styles.bad(code.as_str())
    } else {
        out.styles.dim(code.as_str())
    }
}

fn notes_text(text: &mut String, notes: &[String]) {
    for n in notes {
        let _ = writeln!(text, "note: {n}");
    }
}

pub fn node(
    out: &Output,
    node: &str,
    node_notes: &[NodeNote],
    verdicts: &[Verdict],
    notes: &[String],
) -> String {
    let mut text = String::new();
    if node_notes.is_empty() {
        let _ = writeln!(text, "Node {node}: Ready");
    } else {
        let _ = writeln!(text, "Node {node}:");
        for n in node_notes {
            let _ = writeln!(text, "  {}: {}", out.styles.warn(&n.condition), n.message);
        }
    }
    if verdicts.is_empty() {
        text.push_str("No DaemonSets found.\n");
        notes_text(&mut text, notes);
        return text;
    }
    text.push('\n');
    let mut t = table::new(&["NAMESPACE", "DAEMONSET", "VERDICT", "WHY"], out.width);
    for v in verdicts {
        t.add_row(vec![
            v.namespace.clone(),
            v.daemon_set.clone(),
            code_cell(out, v.code),
            v.message.clone(),
        ]);
    }
    text.push_str(&table::to_text(&t));
    let pending: Vec<&Verdict> = verdicts
        .iter()
        .filter(|v| v.scheduler_message.is_some() && v.code.is_problem())
        .collect();
    for v in pending {
        let _ = writeln!(
            text,
            "\n{}/{}: the scheduler said: {}",
            v.namespace,
            v.daemon_set,
            v.scheduler_message.as_deref().unwrap_or_default()
        );
    }
    notes_text(&mut text, notes);
    text
}

pub fn daemonset(
    out: &Output,
    namespace: &str,
    name: &str,
    groups: &[VerdictGroup],
    notes: &[String],
) -> String {
    let mut text = String::new();
    let total: usize = groups.iter().map(|g| g.count).sum();
    let _ = writeln!(text, "DaemonSet {namespace}/{name} on {total} nodes:\n");
    let mut t = table::new(&["NODES", "VERDICT", "REASON", "EXAMPLES"], out.width);
    for g in groups {
        let examples = if out.wide() {
            g.nodes.join(", ")
        } else {
            super::fit::sample(&g.nodes, 5)
        };
        t.add_row(vec![
            g.count.to_string(),
            code_cell(out, g.code),
            g.group.clone(),
            examples,
        ]);
    }
    text.push_str(&table::to_text(&t));
    let problems: Vec<&VerdictGroup> = groups.iter().filter(|g| g.code.is_problem()).collect();
    if !problems.is_empty() {
        text.push_str("\nFor example:\n");
        for g in problems {
            let _ = writeln!(
                text,
                "  {}: {}",
                g.nodes.first().map_or("", String::as_str),
                g.example
            );
        }
    }
    notes_text(&mut text, notes);
    text
}
