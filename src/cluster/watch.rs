//! Live views for `--watch`: reflectors keep DaemonSets, nodes, pods and ControllerRevisions in
//! memory from one LIST plus a WATCH each (re-listing after 410 Gone and reconnecting with
//! backoff when the API server goes away), and every change yields a fresh snapshot.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, Stream, StreamExt, stream};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};

use super::Target;
use super::fetch::Scope;
use crate::logic::snapshot::Snapshot;

/// Quiet time after a change before a snapshot is taken, so a burst of events renders once.
const SETTLE: Duration = Duration::from_millis(300);

/// What the watch loop reports between snapshots.
pub enum Update {
    Snapshot(Snapshot),
    /// The connection failed; the reflectors retry on their own.
    Trouble(String),
}

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

fn reflect<K>(
    api: Api<K>,
    config: watcher::Config,
) -> (Store<K>, impl Stream<Item = Result<(), String>>)
where
    K: kube::Resource
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
    K::DynamicType: Default + std::hash::Hash + Eq + Clone,
{
    let (reader, writer) = reflector::store();
    let events = reflector::reflector(writer, watcher(api, config).default_backoff())
        .map(|r| r.map(|_| ()).map_err(|e| e.to_string()));
    (reader, events)
}

/// Calls `on_update` with a snapshot after the initial lists and after every change, until
/// `on_update` returns false.
pub async fn follow(target: &Target, scope: &Scope, mut on_update: impl FnMut(Update) -> bool) {
    let ns = scope.namespace.as_deref();
    let client = target.client.clone();
    let api_ns = |c: kube::Client| -> (Api<DaemonSet>, Api<Pod>, Api<ControllerRevision>) {
        match ns {
            Some(n) => (
                Api::namespaced(c.clone(), n),
                Api::namespaced(c.clone(), n),
                Api::namespaced(c, n),
            ),
            None => (Api::all(c.clone()), Api::all(c.clone()), Api::all(c)),
        }
    };
    let (ds_api, pod_api, rev_api) = api_ns(client.clone());
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
    let (ds_store, ds_events) = reflect(ds_api, ds_cfg);
    let (node_store, node_events) = reflect(Api::<Node>::all(client), node_cfg);
    let (pod_store, pod_events) = reflect(pod_api, watcher::Config::default());
    let (rev_store, rev_events) = reflect(rev_api, watcher::Config::default());
    let mut events = pin!(stream::select(
        stream::select(ds_events, node_events),
        stream::select(pod_events, rev_events)
    ));
    let names = scope.names.clone();
    let mut last_error: Option<String> = None;
    loop {
        let Some(first) = events.next().await else {
            return;
        };
        if let Err(e) = first {
            if last_error.as_ref() != Some(&e) && !on_update(Update::Trouble(e.clone())) {
                return;
            }
            last_error = Some(e);
            continue;
        }
        // Drain the burst.
        loop {
            match tokio::time::timeout(SETTLE, events.next()).await {
                Ok(Some(_)) => continue,
                Ok(None) => return,
                Err(_) => break,
            }
        }
        let ready = is_ready(&ds_store)
            && is_ready(&node_store)
            && is_ready(&pod_store)
            && is_ready(&rev_store);
        if !ready {
            continue;
        }
        last_error = None;
        let mut daemonsets = owned(&ds_store);
        if !names.is_empty() {
            daemonsets.retain(|d| d.metadata.name.as_ref().is_some_and(|n| names.contains(n)));
        }
        daemonsets.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        let mut nodes = owned(&node_store);
        nodes.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        let snapshot = Snapshot {
            daemonsets,
            nodes,
            pods: owned(&pod_store),
            revisions: owned(&rev_store),
        };
        if !on_update(Update::Snapshot(snapshot)) {
            return;
        }
    }
}
