//! `kubectl ds preview` as text.

use std::fmt::Write as _;

use super::{Output, plural};
use crate::logic::daemon::rollout::Strategy;
use crate::logic::reports::preview::{Change, Preview};

fn names(list: &[String], wide: bool) -> String {
    if wide {
        list.join(", ")
    } else {
        super::fit::sample(list, 6)
    }
}

/// What admission does to the pod: its refusal on every targeted node, or its changes.
fn admission(text: &mut String, out: &Output, p: &Preview) {
    let Some(a) = &p.admission else {
        return;
    };
    if let Some(r) = &a.refusal {
        let _ = writeln!(
            text,
            "  {} on {} node(s) ({} admission, {}): {}",
            out.styles.bad("the API server would refuse the pod"),
            p.create_refused.len(),
            r.rule,
            r.function,
            r.message
        );
    }
    for c in &a.changes {
        if c.rule != "defaulting" {
            let _ = writeln!(
                text,
                "  admission: {} ({}): {}",
                c.rule, c.function, c.change
            );
        }
    }
    if !a.unchecked.is_empty() {
        let _ = writeln!(
            text,
            "  admission not checked (cannot read their objects): {}",
            a.unchecked.join(", ")
        );
    }
}

pub fn render(out: &Output, items: &[Preview]) -> String {
    let mut text = String::new();
    for (i, p) in items.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        headline(&mut text, out, p);
        admission(&mut text, out, p);
        preemption(&mut text, out, p);
        placement(&mut text, out, p);
        resources(&mut text, p);
        if let Some(c) = &p.change {
            change(&mut text, out, c);
        }
        for w in &p.warnings {
            let _ = writeln!(text, "  {} {w}", out.styles.warn("warning:"));
        }
    }
    text
}

fn headline(text: &mut String, out: &Output, p: &Preview) {
    let targeted = p.would_run.len() + p.unplaceable.len() + p.create_refused.len();
    let excluded: usize = p.excluded.iter().map(|g| g.count).sum();
    let _ = writeln!(
        text,
        "DaemonSet {}/{} ({}): would run on {} of {} nodes{}",
        p.namespace,
        p.name,
        if p.exists { "changed" } else { "new" },
        out.styles.bold(&p.would_run.len().to_string()),
        targeted + excluded,
        if p.after_preemption.is_empty() {
            String::new()
        } else {
            format!(" ({} only after preemption)", p.after_preemption.len())
        }
    );
}

/// The nodes the pod gets only by preempting others, with the victims.
fn preemption(text: &mut String, out: &Output, p: &Preview) {
    if p.after_preemption.is_empty() {
        return;
    }
    let _ = writeln!(
        text,
        "  {} {} node(s):",
        out.styles.warn("would run after preemption on"),
        p.after_preemption.len()
    );
    for a in &p.after_preemption {
        let victims: Vec<String> = a
            .victims
            .iter()
            .map(|v| {
                let pdb = if v.violates_pdb {
                    ", violating its PodDisruptionBudget"
                } else {
                    ""
                };
                format!("{} (priority {}{pdb})", v.pod, v.priority)
            })
            .collect();
        let contested = if a.contested_by.is_empty() {
            String::new()
        } else {
            format!(
                "; unless pending pod(s) of higher priority {} take the freed room first (then it stays Pending)",
                a.contested_by.join(", ")
            )
        };
        let _ = writeln!(
            text,
            "    {}: after preempting {} ({}){contested}",
            a.node,
            victims.join(", "),
            a.reason
        );
    }
}

/// The nodes the pod would not fit on, the filters not checked, and the nodes not targeted.
fn placement(text: &mut String, out: &Output, p: &Preview) {
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
        let excluded: usize = p.excluded.iter().map(|g| g.count).sum();
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
}

/// What the pods claim in all, and the nodes left with the least.
fn resources(text: &mut String, p: &Preview) {
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
}

/// For a DaemonSet that exists: the nodes gained and lost, and the rollout the change starts.
fn change(text: &mut String, out: &Output, c: &Change) {
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
    } else if c.strategy == Strategy::OnDelete {
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
