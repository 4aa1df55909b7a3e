//! `kubectl ds overhead` and `preview --node` as text: a summary table, then per group a bar
//! of allocatable split into DaemonSets, other pods and free, the resource table, the
//! DaemonSets and the traps. The bar uses a different character per part, so it reads the
//! same without colour.

use std::fmt::Write as _;

use super::{Output, plural, table};
use crate::logic::reports::node_preview::NodePreview;
use crate::logic::reports::overhead::{Group, OverheadReport, Range, ResourceLine, Trap};

/// Characters of the bar: DaemonSets, other pods, free.
pub const BAR_DAEMONSETS: char = '#';
pub const BAR_OTHER: char = '=';
pub const BAR_FREE: char = '.';
const BAR_WIDTH: usize = 40;
/// Node names shown inline before "and N more".
const NAME_SAMPLE: usize = 4;

fn range_text(r: &Range) -> String {
    if r.min == r.max {
        r.min.clone()
    } else {
        format!("{}-{}", r.min, r.max)
    }
}

fn pct(min: f64, max: f64) -> String {
    if (max - min).abs() < 0.05 {
        format!("{max:.1}%")
    } else {
        format!("{min:.1}-{max:.1}%")
    }
}

/// The widths of the three parts of a bar of `width` cells; a non-zero part gets at least one.
pub fn bar_cells(alloc: i128, ds: i128, other: i128, width: usize) -> (usize, usize, usize) {
    if alloc <= 0 {
        return (0, 0, width);
    }
    let cells = |v: i128| -> usize {
        let c = ((v.clamp(0, alloc) as f64 / alloc as f64) * width as f64).round() as usize;
        if v > 0 { c.max(1) } else { c }
    };
    let d = cells(ds).min(width);
    let o = cells(other).min(width - d);
    (d, o, width - d - o)
}

/// One bar, e.g. `[####====................]`, coloured when colour is on.
pub fn bar(out: &Output, alloc: i128, ds: i128, other: i128) -> String {
    let (d, o, f) = bar_cells(alloc, ds, other, BAR_WIDTH);
    let part = |c: char, n: usize| c.to_string().repeat(n);
    format!(
        "[{}{}{}]",
        out.styles.warn(&part(BAR_DAEMONSETS, d)),
        out.styles.dim(&part(BAR_OTHER, o)),
        out.styles.good(&part(BAR_FREE, f))
    )
}

fn share(part: i128, whole: i128) -> String {
    if whole <= 0 {
        return "0%".into();
    }
    format!("{:.0}%", part as f64 * 100.0 / whole as f64)
}

fn legend() -> String {
    format!("{BAR_DAEMONSETS} DaemonSets   {BAR_OTHER} other pods   {BAR_FREE} free")
}

fn sample(names: &[String]) -> String {
    super::fit::sample(names, NAME_SAMPLE)
}

fn line<'a>(g: &'a Group, resource: &str) -> Option<&'a ResourceLine> {
    g.resources.iter().find(|l| l.resource == resource)
}

/// `3600m 90%`: the largest per-node overhead and its share, short enough for 80 columns.
fn summary_cell(g: &Group, resource: &str) -> String {
    line(g, resource).map_or("-".into(), |l| {
        format!("{} {:.0}%", l.daemon_sets.max, l.percent.max)
    })
}

fn summary(out: &Output, report: &OverheadReport) -> String {
    let mut t = table::new(
        &["GROUP", "NODES", "DS", "CPU", "MEMORY", "TRAPS"],
        out.width,
    );
    for g in &report.groups {
        t.add_row(vec![
            g.key.clone(),
            g.nodes.to_string(),
            g.daemon_sets.len().to_string(),
            summary_cell(g, "cpu"),
            summary_cell(g, "memory"),
            g.traps.len().to_string(),
        ]);
    }
    table::to_text(&t)
}

fn bars(out: &Output, g: &Group) -> String {
    let mut text = String::new();
    for r in ["cpu", "memory"] {
        let Some(l) = line(g, r) else { continue };
        let [alloc, ds, other, free] = l.total.milli;
        let _ = writeln!(
            text,
            "  {r:<7}{} {} DaemonSets, {} other, {} free",
            bar(out, alloc, ds, other),
            share(ds, alloc),
            share(other, alloc),
            share(free, alloc)
        );
    }
    let _ = writeln!(text, "         {}", out.styles.dim(&legend()));
    text
}

fn resource_table(out: &Output, g: &Group) -> String {
    let mut t = table::new(
        &["RESOURCE", "ALLOCATABLE", "DAEMONSETS", "%", "LEFT"],
        out.width,
    );
    for l in &g.resources {
        t.add_row(vec![
            l.resource.clone(),
            range_text(&l.allocatable),
            range_text(&l.daemon_sets),
            pct(l.percent.min, l.percent.max),
            range_text(&l.left),
        ]);
    }
    indent(&table::to_text(&t))
}

fn daemonset_table(out: &Output, g: &Group) -> String {
    let mut t = table::new(
        &["DAEMONSET", "NODES", "CPU", "MEMORY", "PRIORITY-CLASS"],
        out.width,
    );
    for d in &g.daemon_sets {
        let nodes = if d.pending > 0 {
            format!("{} +{} pending", d.nodes, d.pending)
        } else {
            d.nodes.to_string()
        };
        let req = |r: &str| d.requests.get(r).cloned().unwrap_or_else(|| "-".into());
        t.add_row(vec![
            format!("{}/{}", d.namespace, d.name),
            nodes,
            req("cpu"),
            req("memory"),
            d.priority_class_name.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    indent(&table::to_text(&t))
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn group_block(out: &Output, g: &Group) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{}: {} ({})",
        out.styles.bold(&g.key),
        plural(g.nodes, "node"),
        sample(&g.node_names)
    );
    text.push_str(&bars(out, g));
    text.push_str(&resource_table(out, g));
    if g.daemon_sets.is_empty() {
        text.push_str("  no DaemonSet targets these nodes\n");
    } else {
        text.push_str(&daemonset_table(out, g));
    }
    if !g.largest.is_empty() {
        let list: Vec<String> = g
            .largest
            .iter()
            .map(|c| {
                format!(
                    "{} (cpu {:.0}%, memory {:.0}%)",
                    c.daemon_set, c.cpu_percent, c.memory_percent
                )
            })
            .collect();
        let _ = writeln!(text, "  largest: {}", list.join(", "));
    }
    text.push_str(&trap_lines(out, g));
    text
}

/// One line per trap, except that the DaemonSets without requests and those without a
/// priority class are each listed on one line.
fn trap_lines(out: &Output, g: &Group) -> String {
    let mut text = String::new();
    let mut no_requests = Vec::new();
    let mut no_priority = Vec::new();
    for trap in &g.traps {
        match trap {
            Trap::NoRequests { daemon_set } => no_requests.push(daemon_set.as_str()),
            Trap::NoPriorityClass { daemon_set } => no_priority.push(daemon_set.as_str()),
            other => {
                let _ = writeln!(text, "  {} {}", out.styles.warn("trap:"), other.sentence());
            }
        }
    }
    if !no_requests.is_empty() {
        let _ = writeln!(
            text,
            "  {} no cpu or memory requests, so autoscalers cannot reserve room: {}",
            out.styles.warn("trap:"),
            no_requests.join(", ")
        );
    }
    if !no_priority.is_empty() {
        let _ = writeln!(
            text,
            "  {} no priorityClassName, so preemptible and unable to preempt: {}",
            out.styles.warn("trap:"),
            no_priority.join(", ")
        );
    }
    text
}

pub fn render(out: &Output, report: &OverheadReport, notes: &[String]) -> String {
    if report.groups.is_empty() {
        return "No nodes found.\n".to_string();
    }
    let mut text = summary(out, report);
    for g in &report.groups {
        text.push('\n');
        text.push_str(&group_block(out, g));
    }
    for n in notes {
        let _ = writeln!(text, "{} {n}", out.styles.warn("note:"));
    }
    text
}

/// `preview --node` as text.
pub fn render_node(out: &Output, p: &NodePreview, notes: &[String]) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "New node {}: {} {}, {} Pending, {} not targeted",
        out.styles.bold(&p.node),
        out.styles.good(&plural(p.count("Lands"), "DaemonSet")),
        if p.count("Lands") == 1 {
            "lands"
        } else {
            "land"
        },
        p.count("Pending"),
        p.count("NotTargeted")
    );
    let mut t = table::new(&["DAEMONSET", "VERDICT", "CPU", "MEMORY"], out.width);
    for d in &p.daemon_sets {
        let verdict = match d.verdict.code() {
            "Lands" => out.styles.good("Lands"),
            "Pending" => out.styles.bad("Pending"),
            other => out.styles.dim(other),
        };
        let req = |r: &str| d.requests.get(r).cloned().unwrap_or_else(|| "-".into());
        t.add_row(vec![
            format!("{}/{}", d.namespace, d.name),
            verdict,
            req("cpu"),
            req("memory"),
        ]);
    }
    text.push_str(&table::to_text(&t));
    let why: Vec<_> = p
        .daemon_sets
        .iter()
        .filter(|d| d.reason.is_some())
        .collect();
    if !why.is_empty() {
        text.push_str("\nWhy not:\n");
        for d in why {
            let reason = d.reason.as_deref().unwrap_or_default();
            let _ = writeln!(text, "  {}/{}: {reason}", d.namespace, d.name);
        }
    }
    text.push_str("\nOverhead on the new node:\n");
    let width = p
        .resources
        .iter()
        .map(|r| r.resource.len() + 1)
        .max()
        .unwrap_or(7);
    for r in &p.resources {
        let _ = writeln!(
            text,
            "  {:<width$}{} {} of {} ({:.1}%), {} left",
            r.resource,
            bar(out, r.milli.0, r.milli.1, 0),
            r.daemon_sets,
            r.allocatable,
            r.percent,
            r.left
        );
    }
    let _ = writeln!(text, "  {:<width$}{}", "", out.styles.dim(&legend()));
    for n in notes {
        let _ = writeln!(text, "{} {n}", out.styles.warn("note:"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_parts_add_up_and_small_parts_show() {
        assert_eq!(bar_cells(1000, 0, 0, 40), (0, 0, 40));
        assert_eq!(bar_cells(1000, 500, 250, 40), (20, 10, 10));
        assert_eq!(bar_cells(100_000, 1, 0, 40), (1, 0, 39));
        assert_eq!(bar_cells(1000, 900, 900, 40), (36, 4, 0));
        assert_eq!(bar_cells(0, 10, 10, 40), (0, 0, 40));
    }

    #[test]
    fn bar_reads_without_colour_and_colours_with_it() {
        let plain = Output::plain(crate::render::OutputFormat::Table);
        assert_eq!(
            bar(&plain, 4000, 1000, 1000),
            format!("[{}{}{}]", "#".repeat(10), "=".repeat(10), ".".repeat(20))
        );
        let mut coloured = plain.clone();
        coloured.styles = crate::render::Styles::colored();
        let text = bar(&coloured, 4000, 1000, 1000);
        assert!(text.contains("\u{1b}["), "{text:?}");
        assert!(text.contains(&"#".repeat(10)));
    }
}
