//! The pod the cluster would really create for a DaemonSet on a node, and what the API
//! server's default admission chain does to it.
//!
//! The DaemonSet controller decides placement on its template, but the scheduler (and the
//! user) get the pod the API server stored: defaulted, mutated by admission plugins, or not
//! stored at all. To judge that pod:
//!
//! ```text
//! let pod = admission::daemon_pod(&ds, "node-1", hash)?; // as the controller builds it
//! let result = admission::admit(pod, &objects);          // as the API server admits it
//! match &result.refusal {
//!     Some(r) => println!("{} refuses: {}", r.rule, r.message),
//!     None => use_pod(&result.pod),                      // defaulted and mutated
//! }
//! ```
//!
//! [`Objects`] holds what the cluster has (LimitRanges, RuntimeClasses, PriorityClasses,
//! ServiceAccounts, Namespaces, ResourceQuotas); a kind left `None` could not be read, and its
//! plugin is then skipped and named in [`Admission::unchecked`]. Every change and the refusal
//! name the plugin and the upstream function they mirror. The order is the API server's:
//! defaulting on decode, the mutating plugins in `AllOrderedPlugins` order, `PrepareForCreate`,
//! then the validating plugins in the same order.
//!
//! Of the default chain, what cannot change a daemon pod is still named here: DefaultToleration-
//! Seconds is modelled and adds nothing (the controller's pod tolerates not-ready and
//! unreachable forever). Not modelled: PodNodeSelector and PodTolerationRestriction (off by
//! default, and the API does not say whether a server enabled them), PodSecurity exemptions and
//! defaults (the API server's admission configuration, not readable through the API), webhooks
//! and admission policies. A dry-run create (`from_server`) answers those.

mod defaults;
mod defaulttolerationseconds;
mod limitranger;
mod pod;
mod podsecurity;
mod priority;
mod resourcequota;
mod runtimeclass;
mod serviceaccount;
mod validation;

#[cfg(test)]
mod tests;

use k8s_openapi::api::core::v1::{LimitRange, Namespace, Pod, ResourceQuota, ServiceAccount};
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use serde::Serialize;

pub use pod::daemon_pod;
pub use podsecurity::{Level, PolicyLevel, namespace_policy};
pub use priority::Priority;
pub use resourcequota::pods_that_fit;

/// The cluster objects admission reads. `None`: that kind could not be read.
#[derive(Clone, Debug, Default)]
pub struct Objects {
    pub limit_ranges: Option<Vec<LimitRange>>,
    pub runtime_classes: Option<Vec<RuntimeClass>>,
    pub priority_classes: Option<Vec<PriorityClass>>,
    pub service_accounts: Option<Vec<ServiceAccount>>,
    pub namespaces: Option<Vec<Namespace>>,
    pub quotas: Option<Vec<ResourceQuota>>,
}

impl Objects {
    /// Everything known to be empty: the model of a cluster with no such objects.
    pub fn empty() -> Self {
        Objects {
            limit_ranges: Some(Vec::new()),
            runtime_classes: Some(Vec::new()),
            priority_classes: Some(Vec::new()),
            service_accounts: Some(Vec::new()),
            namespaces: Some(Vec::new()),
            quotas: Some(Vec::new()),
        }
    }
}

/// Objects of a namespaced kind that are in `ns`.
fn in_namespace<'a, 'n, T>(
    items: &'a [T],
    ns: &'n str,
) -> impl Iterator<Item = &'a T> + use<'a, 'n, T>
where
    T: k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
{
    items
        .iter()
        .filter(move |i| i.metadata().namespace.as_deref() == Some(ns))
}

/// One thing admission changed in the pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The admission plugin or defaulting step, e.g. `LimitRanger`.
    pub rule: String,
    /// The upstream function that does it.
    pub function: String,
    pub change: String,
}

/// Why the API server would not store the pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    pub rule: String,
    pub function: String,
    /// The API server's message, as the controller's FailedCreate event would carry it after
    /// `Error creating: `.
    pub message: String,
}

/// The outcome of admission for one pod.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Admission {
    /// The pod as admitted; on a refusal, as far as admission got.
    #[serde(skip)]
    pub pod: Pod,
    pub changes: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    /// Plugins not evaluated because their objects could not be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
}

impl Admission {
    pub fn refused(&self) -> bool {
        self.refusal.is_some()
    }

    fn change(&mut self, rule: &str, function: &str, change: String) {
        self.changes.push(Change {
            rule: rule.into(),
            function: function.into(),
            change,
        });
    }
}

/// `pods "<name>" is forbidden: <why>`, as `admission.NewForbidden` words it: before the name
/// is generated it shows the generateName.
fn forbidden(pod: &Pod, why: &str) -> String {
    let name = pod
        .metadata
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .or(pod.metadata.generate_name.as_deref())
        .unwrap_or("Unknown");
    format!("pods \"{name}\" is forbidden: {why}")
}

type Step = fn(&mut Admission, &Objects) -> Option<Refusal>;

/// Runs `pod` through defaulting and the default admission chain of kube-apiserver 1.37.
pub fn admit(pod: Pod, objects: &Objects) -> Admission {
    let mut a = Admission {
        pod,
        changes: Vec::new(),
        refusal: None,
        unchecked: Vec::new(),
    };
    // Mutating phase (`Admit`), then `PrepareForCreate` and validation, then the validating
    // phase.
    let steps: [Step; 11] = [
        |a, _| defaults::set_defaults_pod(a),
        limitranger::admit,
        serviceaccount::admit,
        priority::admit,
        |a, _| defaulttolerationseconds::admit(a),
        runtimeclass::admit,
        |a, _| defaults::default_pod_level_resources(a),
        validation::validate,
        limitranger::validate,
        podsecurity::validate,
        resourcequota::validate,
    ];
    for step in steps {
        if let Some(r) = step(&mut a, objects) {
            a.refusal = Some(r);
            break;
        }
    }
    a
}

fn refusal(pod: &Pod, rule: &str, function: &str, why: &str) -> Option<Refusal> {
    Some(Refusal {
        rule: rule.into(),
        function: function.into(),
        message: forbidden(pod, why),
    })
}

/// The API server's own answer (a dry-run create) in place of the model's: the pod it
/// returned, or its refusal verbatim. The model's changes stay as the explanation of what
/// the built-in plugins did; webhooks and plugins we do not model are in the server's pod only.
pub fn from_server(model: Admission, answer: Result<Pod, String>) -> Admission {
    let mut a = Admission {
        pod: model.pod,
        changes: model.changes,
        refusal: None,
        unchecked: Vec::new(),
    };
    match answer {
        Ok(pod) => {
            a.pod = pod;
            a.change(
                "API server",
                "dryRun=All create",
                "the pod as the API server admitted it (every admission plugin and webhook)".into(),
            );
        }
        Err(message) => {
            a.refusal = Some(Refusal {
                rule: "API server".into(),
                function: "dryRun=All create".into(),
                message,
            });
        }
    }
    a
}
