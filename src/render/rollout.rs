//! `kubectl ds rollout status|history` and `rollback` as text.

use std::fmt::Write as _;

use k8s_openapi::jiff::Timestamp;

use super::{Output, table};
use crate::logic::daemon::history::Revision;
use crate::logic::daemon::rollout::{Progress, RolloutStatus, State};

fn state_cell(out: &Output, state: State) -> String {
    let s = state.as_str();
    match state {
        State::Complete => out.styles.good(s),
        State::Progressing => out.styles.warn(s),
        _ => out.styles.bad(s),
    }
}

fn progress_cell(out: &Output, p: Progress) -> String {
    let s = p.as_str();
    match p {
        Progress::Done => out.styles.good(s),
        Progress::Updating | Progress::Waiting => out.styles.warn(s),
        _ => out.styles.bad(s),
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "<none>".to_string(), |v| v.to_string())
}

/// One DaemonSet in detail (every node that is not done), or a table for many.
pub fn status(out: &Output, items: &[RolloutStatus]) -> String {
    match items {
        [] => "No DaemonSets found.\n".to_string(),
        [one] => status_one(out, one),
        many => status_many(out, many),
    }
}

fn status_one(out: &Output, s: &RolloutStatus) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{}", s.message);
    let kubectl = match &s.kubectl.error {
        Some(e) => format!("error: {e}"),
        None => s.kubectl.message.clone(),
    };
    let _ = writeln!(
        text,
        "{}",
        out.styles.dim(&format!(
            "revision {}, strategy {:?}, maxUnavailable {}, maxSurge {}; kubectl says: {kubectl}",
            opt(s.revision),
            s.strategy,
            s.budget.max_unavailable,
            s.budget.max_surge
        ))
    );
    let pending: Vec<_> = s
        .nodes
        .iter()
        .filter(|n| n.progress != Progress::Done)
        .collect();
    if !pending.is_empty() {
        text.push('\n');
        let mut t = table::new(
            &["NODE", "PROGRESS", "POD", "REVISION", "REASON"],
            out.width,
        );
        for n in pending {
            t.add_row(vec![
                n.node.clone(),
                progress_cell(out, n.progress),
                opt(n.pod.as_deref()),
                opt(n.revision),
                opt(n.reason.as_deref()),
            ]);
        }
        text.push_str(&table::to_text(&t));
        if s.counts.done > 0 {
            let _ = writeln!(text, "({} more nodes done)", s.counts.done);
        }
    }
    if !s.excluded_old.is_empty() {
        let _ = writeln!(
            text,
            "\nOutside desiredNumberScheduled, still on an old revision ({}):",
            s.excluded_old.len()
        );
        for n in &s.excluded_old {
            let _ = writeln!(
                text,
                "  {}: pod {} revision {} ({})",
                n.node,
                opt(n.pod.as_deref()),
                opt(n.revision),
                opt(n.reason.as_deref())
            );
        }
    }
    text
}

fn status_many(out: &Output, items: &[RolloutStatus]) -> String {
    let mut t = table::new(
        &[
            "NAMESPACE",
            "NAME",
            "REVISION",
            "DESIRED",
            "UPDATED",
            "AVAILABLE",
            "STUCK",
            "NODE-NOT-READY",
            "STATE",
        ],
        out.width,
    );
    for s in items {
        t.add_row(vec![
            s.namespace.clone(),
            s.name.clone(),
            opt(s.revision),
            s.counts.desired.to_string(),
            s.counts.updated.to_string(),
            s.counts.available.to_string(),
            s.counts.stuck.to_string(),
            s.counts.node_not_ready.to_string(),
            state_cell(out, s.state),
        ]);
    }
    let mut text = table::to_text(&t);
    let not_done: Vec<_> = items.iter().filter(|s| !s.is_done()).collect();
    if !not_done.is_empty() {
        text.push('\n');
        for s in not_done {
            let _ = writeln!(text, "{}/{}: {}", s.namespace, s.name, s.message);
        }
    }
    text
}

/// kubectl's age format: `45s`, `12m`, `3h`, `5d`.
pub fn age(created: Option<Timestamp>, now: Timestamp) -> String {
    let Some(c) = created else {
        return "<unknown>".to_string();
    };
    let secs = now.duration_since(c).as_secs().max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

pub fn history(out: &Output, revisions: &[Revision], now: Timestamp) -> String {
    if revisions.is_empty() {
        return "No rollout history found.\n".to_string();
    }
    let mut t = table::new(
        &[
            "REVISION",
            "AGE",
            "CURRENT",
            "IMAGES",
            "PODS",
            "CHANGE-CAUSE",
        ],
        out.width,
    );
    for r in revisions {
        t.add_row(vec![
            r.revision.to_string(),
            age(r.created, now),
            if r.current {
                out.styles.good("*")
            } else {
                String::new()
            },
            r.images.join(","),
            r.pods.to_string(),
            opt(r.change_cause.as_deref()),
        ]);
    }
    table::to_text(&t)
}
