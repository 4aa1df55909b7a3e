//! Fetches what a command decides over: each kind listed once, all in parallel, never one
//! request per node. Lists use `resourceVersion=0`, so the API server answers from its watch
//! cache (possibly a moment stale, like kubectl get's informers) instead of reading etcd.
//! They are not paginated: the watch cache ignores `limit` at `resourceVersion=0`, and a
//! consistent paginated list costs a round trip per page. Each list is instead decoded item
//! by item as it streams in ([`super::list_stream`]), which bounds memory as pages would.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::Api;
use kube::api::ListParams;
use serde::de::DeserializeOwned;

use super::errors::{self, Request};
use super::{Target, lean, list_stream};
use crate::error::Result;
use crate::logic::snapshot::{Snapshot, shared};

/// Which DaemonSets, in which namespaces.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// `None` for all namespaces.
    pub namespace: Option<String>,
    /// Only these DaemonSets (by name); empty for all.
    pub names: Vec<String>,
    /// Label selector for DaemonSets.
    pub selector: Option<String>,
    /// Label selector for nodes.
    pub node_selector: Option<String>,
}

pub(super) fn cached(selector: Option<&str>) -> ListParams {
    let lp = ListParams::default().match_any();
    match selector {
        Some(s) => lp.labels(s),
        None => lp,
    }
}

pub(super) fn api<K>(target: &Target, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as kube::Resource>::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(target.client.clone(), ns),
        None => Api::all(target.client.clone()),
    }
}

/// Runs one request under `--request-timeout`, mapping failures to user-facing errors.
pub async fn call<T>(
    target: &Target,
    req: Request,
    fut: impl Future<Output = kube::Result<T>>,
) -> Result<T> {
    let res = match target.timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r,
            Err(_) => return Err(errors::timed_out(&target.server)),
        },
        None => fut.await,
    };
    res.map_err(|e| errors::from_kube(e, &req, &target.server))
}

/// How often a throttled or unavailable request is tried in all.
const ATTEMPTS: u32 = 5;
/// First pause between tries; it doubles each time.
const FIRST_PAUSE: Duration = Duration::from_millis(250);
/// The longest pause, whatever Retry-After says.
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// A throttling (429) or temporarily unavailable (502, 503, 504) answer, with the pause the
/// server asked for, if any.
fn transient(e: &kube::Error) -> Option<Option<Duration>> {
    match e {
        kube::Error::Api(s) if matches!(s.code, 429 | 502 | 503 | 504) => Some(
            s.details
                .as_ref()
                .map(|d| d.retry_after_seconds)
                .filter(|secs| *secs > 0)
                .map(|secs| Duration::from_secs(u64::from(secs))),
        ),
        _ => None,
    }
}

/// Like [`call`], but tries again after throttling and transient server errors, with
/// exponential backoff (honouring Retry-After), at most [`ATTEMPTS`] times and never past
/// `--request-timeout`; then the last error, saying how often it was tried.
pub async fn call_retrying<T, F, Fut>(target: &Target, req: Request, mut make: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = kube::Result<T>>,
{
    let deadline = target.timeout.map(|t| Instant::now() + t);
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=ATTEMPTS {
        let outcome = match deadline {
            Some(d) => match tokio::time::timeout_at(d, make()).await {
                Ok(r) => r,
                Err(_) => return Err(errors::timed_out(&target.server)),
            },
            None => make().await,
        };
        let e = match outcome {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let retry = transient(&e);
        let wait = retry.map(|asked| asked.unwrap_or(pause).min(LONGEST_PAUSE));
        let fits = match (wait, deadline) {
            (Some(w), Some(d)) => Instant::now() + w < d,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if attempt == ATTEMPTS || !fits {
            let err = errors::from_kube(e, &req, &target.server);
            return Err(if retry.is_some() {
                err.tried(attempt)
            } else {
                err
            });
        }
        if let Some(w) = wait {
            tokio::time::sleep(w).await;
        }
        pause *= 2;
    }
    Err(errors::timed_out(&target.server))
}

/// Every object of a list, streamed ([`super::list_stream`]).
pub(super) async fn list<K>(
    target: &Target,
    api: Api<K>,
    lp: ListParams,
    req: Request,
) -> Result<Vec<K>>
where
    K: kube::Resource + DeserializeOwned,
{
    list_decoded(target, api.resource_url(), &lp, req, |bytes| {
        serde_json::from_slice(bytes)
    })
    .await
}

/// Every item of the list at `path`, decoded into `T`: for kinds read through types of our
/// own (the resource.k8s.io/v1 objects, absent from the oldest API level compiled for).
pub(super) async fn list_at<T: DeserializeOwned>(
    target: &Target,
    path: &str,
    req: Request,
) -> Result<Vec<T>> {
    list_decoded(target, path, &cached(None), req, |bytes| {
        serde_json::from_slice(bytes)
    })
    .await
}

/// Every item of the list at `path`, streamed ([`super::list_stream`]) and decoded by
/// `decode`, with [`call_retrying`]'s retries.
async fn list_decoded<T>(
    target: &Target,
    path: &str,
    lp: &ListParams,
    req: Request,
    decode: impl Fn(&[u8]) -> serde_json::Result<T>,
) -> Result<Vec<T>> {
    call_retrying(target, req, || {
        list_stream::list_items(&target.client, path, lp, &decode)
    })
    .await
}

pub async fn daemonsets(target: &Target, scope: &Scope) -> Result<Vec<DaemonSet>> {
    let ns = scope.namespace.as_deref();
    let dss: Api<DaemonSet> = api(target, ns);
    if scope.names.is_empty() {
        let mut items = list(
            target,
            dss,
            cached(scope.selector.as_deref()),
            Request::new("list", "daemonsets", ns),
        )
        .await?;
        items.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        return Ok(items);
    }
    let mut out = Vec::with_capacity(scope.names.len());
    for name in &scope.names {
        let req = Request::new("get", "daemonsets", ns).named(name);
        out.push(call_retrying(target, req, || dss.get(name)).await?);
    }
    Ok(out)
}

/// Whether namespace `ns` exists. Only a definite answer says no: when namespaces may not be
/// read, or the question fails, it is `true` (the caller's own answer stands then).
pub async fn namespace_exists(target: &Target, ns: &str) -> bool {
    let api: Api<Namespace> = Api::all(target.client.clone());
    let req = Request::new("get", "namespaces", None).named(ns);
    !matches!(
        call_retrying(target, req, || api.get_opt(ns)).await,
        Ok(None)
    )
}

/// Every node (of the selector), streamed ([`super::list_stream`]) and without the fields no
/// command reads and that make up most of a node's size: managedFields and the image list.
pub async fn nodes(target: &Target, node_selector: Option<&str>) -> Result<Vec<Node>> {
    let req = Request::new("list", "nodes", None);
    let lp = cached(node_selector);
    let mut items = list_decoded(target, "/api/v1/nodes", &lp, req, |bytes| {
        let mut node: Node = serde_json::from_slice(bytes)?;
        lean::Lean::strip(&mut node, lean::Keep::Coverage);
        Ok(node)
    })
    .await?;
    items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(items)
}

pub async fn pods(
    target: &Target,
    namespace: Option<&str>,
    field_selector: Option<&str>,
) -> Result<Vec<Pod>> {
    let mut lp = cached(None);
    if let Some(f) = field_selector {
        lp = lp.fields(f);
    }
    list(
        target,
        api(target, namespace),
        lp,
        Request::new("list", "pods", namespace),
    )
    .await
}

/// Every pod of the scope, streamed ([`super::list_stream`]) and decoded lean
/// ([`super::lean`]): only the fields `keep` names are set.
pub async fn lean_pods(
    target: &Target,
    namespace: Option<&str>,
    keep: lean::Keep,
) -> Result<Vec<Pod>> {
    pods_decoded(target, namespace, |bytes| lean::decode(bytes, keep)).await
}

/// Every pod of the namespace (or of all), for `explain ds NAME`: those of DaemonSets named
/// `daemonset` decoded
/// [`lean::Keep::Lean`], the others [`lean::Keep::Fit`] ([`lean::decode_for_daemonset`]).
pub async fn pods_for_daemonset(
    target: &Target,
    namespace: Option<&str>,
    daemonset: &str,
) -> Result<Vec<Pod>> {
    pods_decoded(target, namespace, |bytes| {
        lean::decode_for_daemonset(bytes, daemonset)
    })
    .await
}

/// Every pod of the scope as [`lean_pods`] decodes them, each put behind an `Arc` as it is
/// decoded: a [`Snapshot`] shares its pods, and wrapping a finished list would hold every pod
/// twice at once (a `Pod` is a large struct even when most of its fields are empty).
pub async fn shared_lean_pods(
    target: &Target,
    namespace: Option<&str>,
    keep: lean::Keep,
) -> Result<Vec<Arc<Pod>>> {
    pods_decoded(target, namespace, |bytes| {
        lean::decode(bytes, keep).map(Arc::new)
    })
    .await
}

async fn pods_decoded<T>(
    target: &Target,
    namespace: Option<&str>,
    decode: impl Fn(&[u8]) -> serde_json::Result<T>,
) -> Result<Vec<T>> {
    let path = match namespace {
        Some(ns) => format!("/api/v1/namespaces/{ns}/pods"),
        None => "/api/v1/pods".to_string(),
    };
    let req = Request::new("list", "pods", namespace);
    list_decoded(target, &path, &cached(None), req, decode).await
}

pub async fn revisions(
    target: &Target,
    namespace: Option<&str>,
) -> Result<Vec<ControllerRevision>> {
    list(
        target,
        api(target, namespace),
        cached(None),
        Request::new("list", "controllerrevisions", namespace),
    )
    .await
}

/// DaemonSets, nodes, pods (as much of each as `keep` says) and ControllerRevisions of the
/// scope, fetched concurrently.
pub async fn snapshot(target: &Target, scope: &Scope, keep: lean::Keep) -> Result<Snapshot> {
    let ns = scope.namespace.as_deref();
    let mut unread = Vec::new();
    let (required, create_failures) = tokio::join!(
        async {
            tokio::try_join!(
                daemonsets(target, scope),
                nodes(target, scope.node_selector.as_deref()),
                shared_lean_pods(target, ns, keep),
                revisions(target, ns),
            )
        },
        // Optional: without them a refused create looks like a pod not created yet.
        super::admission::failures(target, ns, &mut unread),
    );
    let (daemonsets, nodes, pods, revisions) = required?;
    Ok(Snapshot {
        daemonsets,
        nodes: shared(nodes),
        pods,
        revisions,
        create_failures,
    })
}

/// One node by name.
pub async fn node(target: &Target, name: &str) -> Result<Node> {
    let api: Api<Node> = Api::all(target.client.clone());
    call(
        target,
        Request::new("get", "nodes", None).named(name),
        api.get(name),
    )
    .await
}

/// The newest FailedScheduling message of each pod (`namespace/name`), from the scope's events.
pub async fn scheduling_events(
    target: &Target,
    namespace: Option<&str>,
) -> Result<std::collections::HashMap<String, String>> {
    Ok(newest_messages(
        failed_scheduling(target, namespace, None).await?,
    ))
}

/// The newest FailedScheduling message of each of these pods (`(namespace, name)`), one
/// request per pod: the pods pending for one node are few whatever the cluster's size, while
/// a scope's FailedScheduling events can number thousands on a big cluster.
pub async fn scheduling_events_of(
    target: &Target,
    pods: &[(String, String)],
) -> Result<std::collections::HashMap<String, String>> {
    let lists = futures::future::try_join_all(
        pods.iter()
            .map(|(ns, name)| failed_scheduling(target, Some(ns), Some(name))),
    )
    .await?;
    Ok(newest_messages(lists.into_iter().flatten().collect()))
}

async fn failed_scheduling(
    target: &Target,
    namespace: Option<&str>,
    pod: Option<&str>,
) -> Result<Vec<k8s_openapi::api::core::v1::Event>> {
    let mut fields = "reason=FailedScheduling,involvedObject.kind=Pod".to_string();
    if let Some(name) = pod {
        fields.push_str(&format!(",involvedObject.name={name}"));
    }
    list(
        target,
        api(target, namespace),
        cached(None).fields(&fields),
        Request::new("list", "events", namespace),
    )
    .await
}

fn newest_messages(
    mut events: Vec<k8s_openapi::api::core::v1::Event>,
) -> std::collections::HashMap<String, String> {
    use k8s_openapi::api::core::v1::Event;
    let when = |e: &Event| {
        e.last_timestamp
            .as_ref()
            .map(|t| t.0)
            .or(e.event_time.as_ref().map(|t| t.0))
            .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0))
    };
    events.sort_by_key(|e| when(e));
    let mut out = std::collections::HashMap::new();
    for e in events {
        let ns = e.involved_object.namespace.clone().unwrap_or_default();
        let Some(name) = e.involved_object.name.clone() else {
            continue;
        };
        out.insert(
            format!("{ns}/{name}"),
            e.message.clone().unwrap_or_default(),
        );
    }
    out
}

/// PriorityClass name → value, and the global default's value.
pub async fn priority_classes(
    target: &Target,
) -> Result<(std::collections::HashMap<String, i32>, i32)> {
    use k8s_openapi::api::scheduling::v1::PriorityClass;
    let api: Api<PriorityClass> = Api::all(target.client.clone());
    let items = list(
        target,
        api,
        cached(None),
        Request::new("list", "priorityclasses", None),
    )
    .await?;
    let default = items
        .iter()
        .find(|p| p.global_default == Some(true))
        .and_then(crate::logic::apimachinery::compat::priority_value)
        .unwrap_or(0);
    Ok((
        items
            .into_iter()
            .filter_map(|p| {
                Some((
                    p.metadata.name.clone()?,
                    crate::logic::apimachinery::compat::priority_value(&p)?,
                ))
            })
            .collect(),
        default,
    ))
}

/// Every namespace's name.
pub async fn namespaces(target: &Target) -> Result<Vec<String>> {
    use k8s_openapi::api::core::v1::Namespace;
    let api: Api<Namespace> = Api::all(target.client.clone());
    let list = call(
        target,
        Request::new("list", "namespaces", None),
        api.list_metadata(&cached(None)),
    )
    .await?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect())
}

/// The DaemonSet `name` of `ns` (none when the answer was empty), and the ControllerRevisions
/// and pods of its namespace, read concurrently.
pub async fn daemonset_and_neighbours(
    target: &Target,
    ns: &str,
    name: &str,
) -> Result<(Option<DaemonSet>, Vec<ControllerRevision>, Vec<Pod>)> {
    let scope = Scope {
        namespace: Some(ns.to_string()),
        names: vec![name.to_string()],
        ..Scope::default()
    };
    let (mut dss, revisions, pods) = tokio::try_join!(
        daemonsets(target, &scope),
        revisions(target, Some(ns)),
        pods(target, Some(ns), None),
    )?;
    Ok((dss.pop(), revisions, pods))
}

/// DaemonSet `ns/name`, or `None` when there is none.
pub async fn daemonset_opt(target: &Target, ns: &str, name: &str) -> Result<Option<DaemonSet>> {
    let api: Api<DaemonSet> = Api::namespaced(target.client.clone(), ns);
    call(
        target,
        Request::new("get", "daemonsets", Some(ns)).named(name),
        api.get_opt(name),
    )
    .await
}

/// What completion offers names of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    Nodes,
    Namespaces,
    DaemonSets,
}

/// The names of every object of `kind` (DaemonSets of `namespace`, `None` for all), from the
/// watch cache, metadata only: what shell completion offers.
pub async fn names(target: &Target, kind: Named, namespace: Option<&str>) -> Result<Vec<String>> {
    match kind {
        Named::Nodes => {
            let api: Api<Node> = Api::all(target.client.clone());
            names_of(target, api, Request::new("list", "nodes", None)).await
        }
        Named::Namespaces => {
            let api: Api<Namespace> = Api::all(target.client.clone());
            names_of(target, api, Request::new("list", "namespaces", None)).await
        }
        Named::DaemonSets => {
            let api: Api<DaemonSet> = api(target, namespace);
            names_of(target, api, Request::new("list", "daemonsets", namespace)).await
        }
    }
}

async fn names_of<K>(target: &Target, api: Api<K>, req: Request) -> Result<Vec<String>>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let list = call(target, req, api.list_metadata(&cached(None))).await?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect())
}
