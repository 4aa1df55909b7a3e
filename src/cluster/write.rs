//! The requests that send an object: the rollback's PATCH and the server-side dry runs of
//! `preview`. Each runs under `--request-timeout` and maps failures as [`super::fetch::call`]
//! does; the answers that are about the object sent are returned for the command to word.

use std::future::Future;

use k8s_openapi::api::apps::v1::DaemonSet;
use kube::Api;
use kube::api::{Patch, PatchParams};

use super::Target;
use super::errors::{self, Request};
use crate::error::{Error, Result};

/// Awaits `fut` under `--request-timeout`; the kube error is left to the caller.
pub(super) async fn timed<T>(
    target: &Target,
    fut: impl Future<Output = kube::Result<T>>,
) -> Result<kube::Result<T>> {
    match target.timeout {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| errors::timed_out(&target.server)),
        None => Ok(fut.await),
    }
}

/// What the rollback's PATCH came to.
#[derive(Debug)]
pub enum Patched {
    /// The DaemonSet as stored after the PATCH.
    Applied(Box<DaemonSet>),
    /// 409 Conflict: someone wrote the DaemonSet after it was read (the patch carries the
    /// resourceVersion read as a precondition).
    Conflict,
}

/// A strategic-merge PATCH of DaemonSet `ns/name` with `body`, as
/// `DaemonSetRollbacker.Rollback` (`k8s.io/kubectl/pkg/polymorphichelpers/rollback.go`) sends.
pub async fn patch_daemonset(
    target: &Target,
    ns: &str,
    name: &str,
    body: &serde_json::Value,
) -> Result<Patched> {
    let api: Api<DaemonSet> = Api::namespaced(target.client.clone(), ns);
    let params = PatchParams::default();
    match timed(target, api.patch(name, &params, &Patch::Strategic(body))).await? {
        Ok(ds) => Ok(Patched::Applied(Box::new(ds))),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(Patched::Conflict),
        Err(e) => {
            let req = Request::new("patch", "daemonsets", Some(ns)).named(name);
            Err(errors::from_kube(e, &req, &target.server))
        }
    }
}

/// Sends the manifest with dryRun=All (server-side apply), returning the defaulted object the
/// server would store. Admission and validation messages are passed on verbatim. `Ok(Err(message))`
/// when RBAC refuses the dry run (no `patch` on daemonsets, as for the read-only role), so the
/// caller can go on with the manifest as it is.
pub async fn apply_dry_run(
    target: &Target,
    ds: &DaemonSet,
) -> Result<std::result::Result<DaemonSet, String>> {
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let name = ds.metadata.name.clone().unwrap_or_default();
    let api: Api<DaemonSet> = Api::namespaced(target.client.clone(), &ns);
    let params = PatchParams::apply("kubectl-ds-preview").force().dry_run();
    let mut body = ds.clone();
    body.metadata.managed_fields = None;
    body.metadata.resource_version = None;
    match timed(target, api.patch(&name, &params, &Patch::Apply(&body))).await? {
        Ok(d) => Ok(Ok(d)),
        // A 403 from RBAC names the user; a 403 from admission names the object.
        Err(kube::Error::Api(status))
            if status.code == 403 && status.message.contains("is forbidden: User") =>
        {
            Ok(Err(status.message))
        }
        Err(kube::Error::Api(status))
            if errors::is_about_the_object(status.code, &status.message) =>
        {
            Err(Error::input(format!(
                "the API server rejected daemonset {ns}/{name} (dry run): {}",
                status.message
            )))
        }
        Err(e) => Err(errors::from_kube(
            e,
            &Request::new("patch", "daemonsets", Some(&ns)).named(&name),
            &target.server,
        )),
    }
}
