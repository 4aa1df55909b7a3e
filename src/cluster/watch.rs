//! Live views for `--watch`: reflectors keep DaemonSets, nodes, pods and ControllerRevisions in
//! memory from one LIST plus a WATCH each (re-listing after 410 Gone and reconnecting with
//! backoff when the API server goes away), and changes yield fresh snapshots.
//!
//! Memory: every object is cut down as it arrives, before it reaches a store
//! ([`Lean::strip`], the fields the one-shot commands decode), and a snapshot shares the
//! stores' nodes and pods (`Arc`) instead of copying them.
//!
//! CPU: each snapshot is decided over whole (no incremental recompute); instead the rate of
//! recomputes is bounded. A change is shown once the events have been quiet for [`SETTLE`], or
//! [`LONGEST_WAIT`] after it arrived under constant churn, and never sooner than
//! [`MIN_GAP`] (or [`COST_FACTOR`] times the last recompute's own time, on a cluster where
//! it is slow) after the previous frame. So a watch spends at most about a fifth of a core
//! whatever the churn, and a change is on screen within about [`MIN_GAP`] plus one recompute.
//! The recompute's cost is its own CPU work ([`Cost`]): on a machine whose cores are busy
//! (an API server under churn) a recompute takes longer on the clock than it works, and
//! spacing frames by the clock would slow them without saving any CPU. The refused-create
//! events a frame also shows are polled apart from it ([`FAILURES_EVERY`]), so a slow API
//! server does not space frames out either.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, Stream, StreamExt, stream};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::time::Instant;

use super::Target;
use super::errors::{self, Request};
use super::fetch::Scope;
use super::lean::{Keep, Lean};
use crate::error::Error;
use crate::logic::daemon::failed_creates::CreateFailure;
use crate::logic::snapshot::Snapshot;

/// Quiet time after a change before a snapshot is taken, so a burst of events renders once.
pub const SETTLE: Duration = Duration::from_millis(100);
/// The longest a change waits for a quiet moment when events never stop.
pub const LONGEST_WAIT: Duration = Duration::from_millis(400);
/// The least time between two recomputes.
pub const MIN_GAP: Duration = Duration::from_millis(500);
/// Between two recomputes at least this many times the last one's cost passes, which bounds
/// the share of a core a watch uses to 1 / (1 + COST_FACTOR).
pub const COST_FACTOR: u32 = 4;

/// What the watch loop reports between snapshots.
pub enum Update {
    Snapshot(Snapshot),
    /// The connection failed; the reflectors retry on their own.
    Trouble(String),
}

/// Copies of the store's objects, for the kinds that are few.
fn owned<K>(store: &Store<K>) -> Vec<K>
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: std::hash::Hash + Eq + Clone,
{
    store
        .state()
        .iter()
        .map(|o: &Arc<K>| (**o).clone())
        .collect()
}

/// True once the store has seen its initial list.
fn is_ready<K>(store: &Store<K>) -> bool
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: std::hash::Hash + Eq + Clone,
{
    store
        .wait_until_ready()
        .now_or_never()
        .is_some_and(|r| r.is_ok())
}

/// A watch failure: its text, and the user-facing error when RBAC refused it (retrying cannot
/// help then).
type Failure = (String, Option<Error>);

fn classify(
    e: watcher::Error,
    resource: &'static str,
    namespace: Option<&str>,
    server: &str,
) -> Failure {
    let text = e.to_string();
    let (verb, inner) = match e {
        watcher::Error::InitialListFailed(k) => ("list", Some(k)),
        watcher::Error::WatchStartFailed(k) | watcher::Error::WatchFailed(k) => ("watch", Some(k)),
        watcher::Error::WatchError(status) => ("watch", Some(kube::Error::Api(status))),
        watcher::Error::NoResourceVersion => ("watch", None),
    };
    let denied = inner
        .map(|k| errors::from_kube(k, &Request::new(verb, resource, namespace), server))
        .filter(|err| matches!(err, Error::Forbidden(_)));
    (text, denied)
}

/// Feeds a store from a watcher's events, each object stripped ([`Lean::strip`]) before the
/// store sees it. An update that changes nothing the store holds never reaches it
/// ([`changes_store`]), so the store keeps the object it has (the same `Arc`, which lets a
/// frame know that nothing it read changed). Yields one item per change.
pub fn reflect_events<K, S>(
    events: S,
    keep: Keep,
) -> (Store<K>, impl Stream<Item = Result<(), watcher::Error>>)
where
    K: kube::Resource + Lean + Clone + PartialEq + Send + Sync + 'static,
    K::DynamicType: Default + std::hash::Hash + Eq + Clone,
    S: Stream<Item = Result<watcher::Event<K>, watcher::Error>>,
{
    let (reader, writer) = reflector::store();
    let held = reader.clone();
    let changes = events
        .modify(move |o: &mut K| o.strip(keep))
        .filter(move |event| std::future::ready(changes_store(&held, event)));
    let applied = reflector::reflector(writer, changes).map(|event| event.map(|_| ()));
    (reader, applied)
}

/// Whether an event changes what the store holds. An update whose stripped object equals the
/// one held does not: a pod's annotations and resourceVersion (and, for coverage, its
/// container statuses) change nothing any frame shows, and kubelets rewrite them all the
/// time.
fn changes_store<K>(store: &Store<K>, event: &Result<watcher::Event<K>, watcher::Error>) -> bool
where
    K: kube::Resource + Clone + PartialEq + 'static,
    K::DynamicType: Default + std::hash::Hash + Eq + Clone,
{
    match event {
        Ok(watcher::Event::Apply(o)) => store
            .get(&ObjectRef::from_obj(o))
            .is_none_or(|held| *held != *o),
        _ => true,
    }
}

struct Source {
    resource: &'static str,
    namespace: Option<String>,
    server: String,
}

fn reflect<K>(
    api: Api<K>,
    config: watcher::Config,
    keep: Keep,
    source: Source,
) -> (Store<K>, impl Stream<Item = Result<(), Failure>>)
where
    K: kube::Resource
        + Lean
        + Clone
        + PartialEq
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
    K::DynamicType: Default + std::hash::Hash + Eq + Clone,
{
    let (store, events) = reflect_events(watcher(api, config).default_backoff(), keep);
    let events = events.map(move |r| {
        r.map_err(|e| {
            classify(
                e,
                source.resource,
                source.namespace.as_deref(),
                &source.server,
            )
        })
    });
    (store, events)
}

/// The four stores of a watch.
struct Stores {
    daemonsets: Store<DaemonSet>,
    nodes: Store<Node>,
    pods: Store<Pod>,
    revisions: Store<ControllerRevision>,
}

impl Stores {
    fn ready(&self) -> bool {
        is_ready(&self.daemonsets)
            && is_ready(&self.nodes)
            && is_ready(&self.pods)
            && is_ready(&self.revisions)
    }

    /// The stores' objects as a snapshot (nodes and pods shared, not copied), DaemonSets of
    /// `names` only when names are given.
    fn snapshot(&self, names: &[String]) -> Snapshot {
        let mut daemonsets = owned(&self.daemonsets);
        if !names.is_empty() {
            daemonsets.retain(|d| d.metadata.name.as_ref().is_some_and(|n| names.contains(n)));
        }
        daemonsets.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        let mut nodes = self.nodes.state();
        nodes.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        Snapshot {
            daemonsets,
            nodes,
            pods: self.pods.state(),
            revisions: owned(&self.revisions),
            create_failures: Vec::new(),
        }
    }
}

/// The watchers of the scope: their stores, and their events merged into one stream.
fn watchers(
    target: &Target,
    scope: &Scope,
    keep: Keep,
) -> (Stores, impl Stream<Item = Result<(), Failure>>) {
    let ns = scope.namespace.as_deref();
    let client = target.client.clone();
    let source = |resource| Source {
        resource,
        namespace: if resource == "nodes" {
            None
        } else {
            ns.map(str::to_string)
        },
        server: target.server.clone(),
    };
    let mut ds_cfg = watcher::Config::default();
    if let [name] = scope.names.as_slice() {
        ds_cfg = ds_cfg.fields(&format!("metadata.name={name}"));
    }
    if let Some(sel) = &scope.selector {
        ds_cfg = ds_cfg.labels(sel);
    }
    let mut node_cfg = watcher::Config::default();
    if let Some(sel) = &scope.node_selector {
        node_cfg = node_cfg.labels(sel);
    }
    let all = watcher::Config::default;
    let (daemonsets, ds_events) = reflect(
        super::fetch::api(target, ns),
        ds_cfg,
        keep,
        source("daemonsets"),
    );
    let (nodes, node_events) = reflect(Api::all(client), node_cfg, keep, source("nodes"));
    let (pods, pod_events) = reflect(super::fetch::api(target, ns), all(), keep, source("pods"));
    let (revisions, rev_events) = reflect(
        super::fetch::api(target, ns),
        all(),
        keep,
        source("controllerrevisions"),
    );
    let stores = Stores {
        daemonsets,
        nodes,
        pods,
        revisions,
    };
    let events = stream::select(
        stream::select(ds_events, node_events),
        stream::select(pod_events, rev_events),
    );
    (stores, events)
}

/// When the next snapshot is due, given when the pending changes came.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// The first change not yet shown.
    pub pending_since: Option<Instant>,
    /// The latest event.
    pub last_event: Instant,
    /// No recompute before this.
    pub not_before: Instant,
}

impl Pace {
    pub fn new(now: Instant) -> Self {
        Pace {
            pending_since: None,
            last_event: now,
            not_before: now,
        }
    }

    pub fn changed(&mut self, now: Instant) {
        self.pending_since.get_or_insert(now);
        self.last_event = now;
    }

    /// When to take the next snapshot; `None` while nothing is pending.
    pub fn due(&self) -> Option<Instant> {
        let since = self.pending_since?;
        let quiet = (self.last_event + SETTLE).min(since + LONGEST_WAIT);
        Some(quiet.max(self.not_before))
    }

    /// A snapshot was taken at `at` and cost `cost` to decide and show.
    pub fn shown(&mut self, at: Instant, cost: Duration) {
        self.pending_since = None;
        self.not_before = at + MIN_GAP.max(cost * COST_FACTOR);
    }
}

/// What a recompute costs: the CPU time of the thread it runs on (it runs to the end
/// without yielding, so that is its own work), or the time on the clock where the platform
/// does not tell a thread's CPU time.
pub struct Cost {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Cost {
    pub fn start() -> Cost {
        Cost {
            wall: Instant::now(),
            cpu: thread_cpu_time(),
        }
    }

    pub fn spent(&self) -> Duration {
        match (self.cpu, thread_cpu_time()) {
            (Some(start), Some(now)) => now.saturating_sub(start),
            _ => self.wall.elapsed(),
        }
    }
}

#[cfg(unix)]
fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is handed, which lives on this stack.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec).ok()?;
    ok.then(|| Duration::new(secs, nanos))
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// How often the controller's refused-create events are read again while watching. They
/// change no watched object, so they are polled, off the path from a change to its frame.
pub const FAILURES_EVERY: Duration = Duration::from_secs(2);

/// The controller's FailedCreate and FailedDaemonPod events, read every [`FAILURES_EVERY`].
fn failures_polled<'a>(
    target: &'a Target,
    ns: Option<&str>,
) -> impl Stream<Item = Vec<CreateFailure>> + 'a {
    let ns = ns.map(str::to_string);
    stream::unfold(ns, move |ns| async move {
        tokio::time::sleep(FAILURES_EVERY).await;
        let read = super::admission::failures(target, ns.as_deref(), &mut Vec::new()).await;
        Some((read, ns))
    })
}

/// What woke the watch loop.
enum Wake<E> {
    Event(Option<E>),
    Failures(Vec<CreateFailure>),
    Due,
}

/// Calls `on_update` with a snapshot after the initial lists and after changes (at the pace
/// of [`Pace`]), until `on_update` returns false. Pods are kept as `keep` says.
/// Ends with an error only when RBAC refuses a list or watch; other failures are retried.
pub async fn follow(
    target: &Target,
    scope: &Scope,
    keep: Keep,
    mut on_update: impl FnMut(Update) -> bool,
) -> Result<(), Error> {
    let ns = scope.namespace.as_deref();
    let (stores, events) = watchers(target, scope, keep);
    let mut events = pin!(events);
    let mut polled = pin!(failures_polled(target, ns));
    let mut failures: Option<Vec<CreateFailure>> = None;
    let mut last_error: Option<String> = None;
    let mut pace = Pace::new(Instant::now());
    loop {
        let wake = tokio::select! {
            e = events.next() => Wake::Event(e),
            f = polled.next(), if failures.is_some() => Wake::Failures(f.unwrap_or_default()),
            _ = sleep_until(pace.due()) => Wake::Due,
        };
        match wake {
            Wake::Event(None) => return Ok(()),
            Wake::Event(Some(Ok(()))) => pace.changed(Instant::now()),
            Wake::Event(Some(Err((e, denied)))) => {
                if let Some(err) = denied {
                    return Err(err);
                }
                if last_error.as_ref() != Some(&e) && !on_update(Update::Trouble(e.clone())) {
                    return Ok(());
                }
                last_error = Some(e);
            }
            Wake::Failures(f) => {
                if failures.as_ref() != Some(&f) {
                    failures = Some(f);
                    pace.changed(Instant::now());
                }
            }
            Wake::Due if !stores.ready() => pace.pending_since = None,
            Wake::Due => {
                last_error = None;
                // The first frame waits for them; later ones take the latest poll.
                if failures.is_none() {
                    failures = Some(super::admission::failures(target, ns, &mut Vec::new()).await);
                }
                let cost = Cost::start();
                let mut snapshot = stores.snapshot(&scope.names);
                snapshot.create_failures = failures.clone().unwrap_or_default();
                if !on_update(Update::Snapshot(snapshot)) {
                    return Ok(());
                }
                pace.shown(Instant::now(), cost.spent());
            }
        }
    }
}

/// Sleeps until `due`, or forever while nothing is due.
async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Time spent waiting (here asleep, on a busy machine for a core) is not the
    /// recompute's cost; work is.
    #[test]
    fn a_recompute_costs_its_work_not_its_waiting() {
        let cost = Cost::start();
        std::thread::sleep(Duration::from_millis(200));
        if cfg!(unix) {
            assert!(
                cost.spent() < Duration::from_millis(100),
                "{:?}",
                cost.spent()
            );
        }
        let cost = Cost::start();
        let busy = std::time::Instant::now();
        let mut x = 0u64;
        while busy.elapsed() < Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(
            cost.spent() >= Duration::from_millis(5),
            "{:?}",
            cost.spent()
        );
    }

    /// Only an event that changes a stripped object counts as a change: an annotation does
    /// not (no command keeps them), and the store keeps the object it holds; a label does.
    #[tokio::test]
    async fn an_update_nothing_keeps_is_not_a_change() {
        use kube::runtime::watcher::Event;
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n", "labels": {"app": "a"}},
            "spec": {"nodeName": "n1"}
        }))
        .unwrap();
        let mut annotated = pod.clone();
        annotated.metadata.annotations = Some([("x".into(), "1".into())].into());
        let mut relabelled = annotated.clone();
        relabelled
            .metadata
            .labels
            .get_or_insert_default()
            .insert("app".into(), "b".into());
        let key = ObjectRef::from_obj(&pod);
        for keep in [Keep::Coverage, Keep::Fit, Keep::Lean] {
            let (tx, rx) = futures::channel::mpsc::unbounded();
            let (store, changes) = reflect_events(rx, keep);
            let mut changes = pin!(changes);
            let mut next = |event| {
                tx.unbounded_send(Ok(event)).unwrap();
                changes.next().now_or_never().flatten().map(|c| c.is_ok())
            };
            assert_eq!(next(Event::Init), Some(true), "{keep:?}");
            assert_eq!(next(Event::InitApply(pod.clone())), Some(true));
            assert_eq!(next(Event::InitDone), Some(true));
            let held = store.get(&key).unwrap();
            assert_eq!(next(Event::Apply(annotated.clone())), None, "{keep:?}");
            assert!(Arc::ptr_eq(&held, &store.get(&key).unwrap()), "{keep:?}");
            assert_eq!(next(Event::Apply(relabelled.clone())), Some(true));
            assert!(!Arc::ptr_eq(&held, &store.get(&key).unwrap()), "{keep:?}");
        }
    }

    #[test]
    fn a_burst_is_shown_once_it_is_quiet() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        assert_eq!(pace.due(), None);
        pace.changed(t0);
        pace.changed(t0 + Duration::from_millis(50));
        assert_eq!(pace.due(), Some(t0 + Duration::from_millis(150)));
    }

    #[test]
    fn constant_churn_waits_no_longer_than_the_longest_wait() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        for ms in (0..2000).step_by(20) {
            pace.changed(t0 + Duration::from_millis(ms));
        }
        assert_eq!(pace.due(), Some(t0 + LONGEST_WAIT));
    }

    #[test]
    fn recomputes_are_spaced_by_the_gap_or_their_own_cost() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        pace.shown(t0, Duration::from_millis(10));
        pace.changed(t0 + Duration::from_millis(1));
        assert_eq!(pace.due(), Some(t0 + MIN_GAP));
        // A recompute of 300 ms is followed by 1.2 s without one: a fifth of a core at most.
        pace.shown(t0 + MIN_GAP, Duration::from_millis(300));
        pace.changed(t0 + MIN_GAP + Duration::from_millis(1));
        assert_eq!(
            pace.due(),
            Some(t0 + MIN_GAP + Duration::from_millis(300) * COST_FACTOR)
        );
    }
}
