//! What the admission model, the preemption model and the controller's own events need:
//! each kind listed once, in parallel. All of them are optional: a kind the user may not read
//! becomes a note, and the plugin that needs it is reported as not checked.

use k8s_openapi::api::core::v1::{
    Event, LimitRange, Namespace, Pod, ResourceQuota, ServiceAccount,
};
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::Api;
use kube::api::PostParams;

use super::Target;
use super::errors::{self, Request};
use super::fetch::{api, cached, list};
use crate::error::Result;
use crate::logic::admission::Objects;
use crate::logic::daemon::failed_creates::{self, CreateFailure};

/// What could not be read: (what it was for, the error).
pub type Unread = Vec<(String, String)>;

/// The result, or `None` and a record of what could not be read and why.
pub(super) fn optional<T>(res: Result<T>, what: &str, unread: &mut Unread) -> Option<T> {
    match res {
        Ok(v) => Some(v),
        Err(e) => {
            unread.push((what.to_string(), e.to_string()));
            None
        }
    }
}

/// One note for everything that could not be read, with the first error in full (it names
/// the user and the missing permission).
pub fn note(unread: &Unread) -> Option<String> {
    let (_, first) = unread.first()?;
    let whats: Vec<&str> = unread.iter().map(|(w, _)| w.as_str()).collect();
    Some(format!("not checked: {} ({first})", whats.join(", ")))
}

pub(super) async fn namespaced<K>(
    target: &Target,
    ns: Option<&str>,
    plural: &'static str,
) -> Result<Vec<K>>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + serde::de::DeserializeOwned
        + Clone
        + std::fmt::Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    list(
        target,
        api(target, ns),
        cached(None),
        Request::new("list", plural, ns),
    )
    .await
}

pub(super) async fn cluster_wide<K>(target: &Target, plural: &'static str) -> Result<Vec<K>>
where
    K: kube::Resource<Scope = k8s_openapi::ClusterResourceScope>
        + serde::de::DeserializeOwned
        + Clone
        + std::fmt::Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    let api: Api<K> = Api::all(target.client.clone());
    list(
        target,
        api,
        cached(None),
        Request::new("list", plural, None),
    )
    .await
}

/// LimitRanges, ServiceAccounts and ResourceQuotas of `ns` (all namespaces for `None`), and
/// the cluster's RuntimeClasses, PriorityClasses and Namespaces.
pub async fn objects(target: &Target, ns: Option<&str>, notes: &mut Unread) -> Objects {
    let (lr, rc, pc, sa, nss, rq) = tokio::join!(
        namespaced::<LimitRange>(target, ns, "limitranges"),
        cluster_wide::<RuntimeClass>(target, "runtimeclasses"),
        cluster_wide::<PriorityClass>(target, "priorityclasses"),
        namespaced::<ServiceAccount>(target, ns, "serviceaccounts"),
        cluster_wide::<Namespace>(target, "namespaces"),
        namespaced::<ResourceQuota>(target, ns, "resourcequotas"),
    );
    Objects {
        limit_ranges: optional(lr, "LimitRanger (limitranges)", notes),
        runtime_classes: optional(rc, "RuntimeClass (runtimeclasses)", notes),
        priority_classes: optional(pc, "Priority (priorityclasses)", notes),
        service_accounts: optional(sa, "ServiceAccount (serviceaccounts)", notes),
        namespaces: optional(nss, "PodSecurity (namespaces)", notes),
        quotas: optional(rq, "ResourceQuota (resourcequotas)", notes),
    }
}

/// PodDisruptionBudgets, which preemption spares where it can.
pub async fn pdbs(target: &Target, notes: &mut Unread) -> Vec<PodDisruptionBudget> {
    let res = namespaced::<PodDisruptionBudget>(target, None, "poddisruptionbudgets").await;
    optional(res, "PodDisruptionBudgets in preemption", notes).unwrap_or_default()
}

/// The controller's FailedCreate and FailedDaemonPod events on DaemonSets of `ns`: two lists
/// with field selectors, never one per node.
pub async fn failures(target: &Target, ns: Option<&str>, notes: &mut Unread) -> Vec<CreateFailure> {
    let events = |reason: &'static str| async move {
        let fields = format!("involvedObject.kind=DaemonSet,reason={reason}");
        list::<Event>(
            target,
            api(target, ns),
            cached(None).fields(&fields),
            Request::new("list", "events", ns),
        )
        .await
    };
    let (created, failed) = tokio::join!(events("FailedCreate"), events("FailedDaemonPod"));
    let mut all = optional(created, "FailedCreate events", notes).unwrap_or_default();
    all.extend(optional(failed, "FailedDaemonPod events", notes).unwrap_or_default());
    failed_creates::from_events(&all)
}

/// The server's own admission answer: `create` of `pod` with `dryRun=All`. `Ok(Ok(pod))` is
/// the pod as mutated by every admission plugin and webhook, `Ok(Err(message))` the refusal
/// verbatim; `Err` when the dry run itself could not be made (no `create` permission).
pub async fn dry_run_create(
    target: &Target,
    pod: &Pod,
) -> Result<std::result::Result<Pod, String>> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(target.client.clone(), &ns);
    let params = PostParams {
        dry_run: true,
        field_manager: Some("kubectl-ds".into()),
    };
    let req = Request::new("create", "pods", Some(&ns));
    match super::write::timed(target, api.create(&params, pod)).await? {
        Ok(p) => Ok(Ok(p)),
        // A 403 from RBAC names the user; a 403 from admission names the pod.
        Err(kube::Error::Api(s)) if s.code == 403 && s.message.contains("is forbidden: User") => {
            Err(errors::from_kube(kube::Error::Api(s), &req, &target.server))
        }
        Err(kube::Error::Api(s)) if matches!(s.code, 400 | 403 | 409 | 422) => Ok(Err(s.message)),
        Err(e) => Err(errors::from_kube(e, &req, &target.server)),
    }
}
