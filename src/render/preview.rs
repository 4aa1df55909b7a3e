//! `kubectl ds preview` as text.

use std::fmt::Write as _;

use super::{Output, plural};
use crate::logic::preview::Preview;

fn names(list: &[String], wide: bool) -> String {
    if wide {
        list.join(", ")
    } else {
        super::fit::sample(list, 6)
    }
}

pub fn render(out: &Output, items: &[Preview]) -> String {
    let mut text = String::new();
    for (i, p) in items.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        let targeted = p.would_run.len() + p.unplaceable.len();
        let excluded: usize = p.excluded.iter().map(|g| g.count).sum();
        let _ = writeln!(
            text,
            "DaemonSet {}/{} ({}): would run on {} of {} nodes",
            p.namespace,
            p.name,
            if p.exists { "changed" } else { "new" },
            out.styles.bold(&p.would_run.len().to_string()),
            targeted + excluded
        );
        if !p.unplaceable.is_empty() {
            let _ = writeln!(
                text,
                "  {} {}:",
                out.styles.bad("would not fit on"),
                plural(p.unplaceable.len(), "node")
            );
            for u in &p.unplaceable {
                let _ = writeln!(text, "    {}: {}", u.node, u.reason);
            }
        }
        for n in &p.not_checked {
            let _ = writeln!(
                text,
                "  {} {} on {} node(s) ({})",
                n.plugin,
                n.reason,
                n.nodes.len(),
                names(&n.nodes, out.wide())
            );
        }
        if !p.excluded.is_empty() {
            let _ = writeln!(text, "  not targeted ({}):", plural(excluded, "node"));
            for g in &p.excluded {
                let _ = writeln!(
                    text,
                    "    {}: {} ({})",
                    plural(g.count, "node"),
                    g.reason,
                    names(&g.nodes, out.wide())
                );
            }
        }
        if !p.per_pod.is_empty() {
            let fmt = |m: &std::collections::BTreeMap<String, String>| {
                m.iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                text,
                "  claims: {} in total ({} per pod)",
                fmt(&p.total),
                fmt(&p.per_pod)
            );
        }
        if !p.least_headroom.is_empty() {
            let list: Vec<String> = p
                .least_headroom
                .iter()
                .map(|h| {
                    format!(
                        "{} (cpu {} left, memory {} left)",
                        h.node, h.cpu_left, h.memory_left
                    )
                })
                .collect();
            let _ = writeln!(text, "  least headroom: {}", list.join("; "));
        }
        if let Some(c) = &p.change {
            let _ = writeln!(
                text,
                "  change: {} gained{}, {} lost{}",
                plural(c.gained.len(), "node"),
                if c.gained.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", names(&c.gained, out.wide()))
                },
                plural(c.lost.len(), "node"),
                if c.lost.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", names(&c.lost, out.wide()))
                },
            );
            if !c.template_changed {
                let _ = writeln!(text, "  rollout: none (the pod template is unchanged)");
            } else if c.strategy == "OnDelete" {
                let _ = writeln!(
                    text,
                    "  rollout: OnDelete: {} run the old template until deleted",
                    plural(c.replaced, "pod")
                );
            } else {
                let (budget, n) = if c.max_surge > 0 {
                    ("maxSurge", c.max_surge)
                } else {
                    ("maxUnavailable", c.max_unavailable)
                };
                let _ = writeln!(
                    text,
                    "  rollout: {} replaced in {} ({budget}={n})",
                    plural(c.replaced, "pod"),
                    plural(c.waves, "wave")
                );
            }
        }
        for w in &p.warnings {
            let _ = writeln!(text, "  {} {w}", out.styles.warn("warning:"));
        }
    }
    text
}
