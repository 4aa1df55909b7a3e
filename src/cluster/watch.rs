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
use super::errors::{self, Request};
use super::fetch::Scope;
use crate::error::Error;
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

fn reflect<K>(
    api: Api<K>,
    config: watcher::Config,
    resource: &'static str,
    namespace: Option<String>,
    server: String,
) -> (Store<K>, impl Stream<Item = Result<(), Failure>>)
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
    let events =
        reflector::reflector(writer, watcher(api, config).default_backoff()).map(move |r| {
            r.map(|_| ())
                .map_err(|e| classify(e, resource, namespace.as_deref(), &server))
        });
    (reader, events)
}

/// Calls `on_update` with a snapshot after the initial lists and after every change, until
/// `on_update` returns false.
/// Ends with an error only when RBAC refuses a list or watch; other failures are retried.
pub async fn follow(
    target: &Target,
    scope: &Scope,
    mut on_update: impl FnMut(Update) -> bool,
) -> Result<(), Error> {
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
    let (owned_ns, server) = (ns.map(str::to_string), target.server.clone());
    let (ds_store, ds_events) = reflect(
        ds_api,
        ds_cfg,
        "daemonsets",
        owned_ns.clone(),
        server.clone(),
    );
    let (node_store, node_events) = reflect(
        Api::<Node>::all(client),
        node_cfg,
        "nodes",
        None,
        server.clone(),
    );
    let (pod_store, pod_events) = reflect(
        pod_api,
        watcher::Config::default(),
        "pods",
        owned_ns.clone(),
        server.clone(),
    );
    let (rev_store, rev_events) = reflect(
        rev_api,
        watcher::Config::default(),
        "controllerrevisions",
        owned_ns,
        server,
    );
    let mut events = pin!(stream::select(
        stream::select(ds_events, node_events),
        stream::select(pod_events, rev_events)
    ));
    let names = scope.names.clone();
    let mut last_error: Option<String> = None;
    loop {
        let Some(first) = events.next().await else {
            return Ok(());
        };
        if let Err((e, denied)) = first {
            if let Some(err) = denied {
                return Err(err);
            }
            if last_error.as_ref() != Some(&e) && !on_update(Update::Trouble(e.clone())) {
                return Ok(());
            }
            last_error = Some(e);
            continue;
        }
        // Drain the burst.
        loop {
            match tokio::time::timeout(SETTLE, events.next()).await {
                Ok(Some(_)) => continue,
                Ok(None) => return Ok(()),
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
        // Refused creates change no watched object: read the controller's events anew.
        let create_failures = super::admission::failures(target, ns, &mut Vec::new()).await;
        let snapshot = Snapshot {
            daemonsets,
            nodes,
            pods: owned(&pod_store),
            revisions: owned(&rev_store),
            create_failures,
        };
        if !on_update(Update::Snapshot(snapshot)) {
            return Ok(());
        }
    }
}
