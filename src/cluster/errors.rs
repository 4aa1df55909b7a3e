//! Turns a failed API call into one sentence naming what was asked, what the server said and
//! what to do about it.

use std::error::Error as _;

use crate::error::Error;

/// What was being asked when a call failed.
#[derive(Clone, Debug)]
pub struct Request {
    pub verb: &'static str,
    /// Plural resource, e.g. `pods` or `daemonsets`.
    pub resource: &'static str,
    /// `None` for cluster-scoped resources and all-namespace lists.
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl Request {
    pub fn new(verb: &'static str, resource: &'static str, namespace: Option<&str>) -> Self {
        Request {
            verb,
            resource,
            namespace: namespace.map(str::to_string),
            name: None,
        }
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    fn scope(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("in namespace {ns:?}"),
            None => "cluster-wide".to_string(),
        }
    }
}

/// The user named in an RBAC denial (`User "alice" cannot ...`), if present.
fn denied_user(message: &str) -> Option<&str> {
    let rest = message.split_once("User \"")?.1;
    rest.split_once('"').map(|(u, _)| u)
}

fn is_connect_failure(e: &kube::Error) -> Option<String> {
    let mut source = e.source();
    let mut last = e.to_string();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    match e {
        kube::Error::HyperError(_) | kube::Error::Service(_) => Some(last),
        _ => None,
    }
}

/// Maps a kube client error for `req` against `server` to a user-facing error.
pub fn from_kube(e: kube::Error, req: &Request, server: &str) -> Error {
    if let kube::Error::Api(status) = &e {
        return from_status(status.code, &status.message, req, server);
    }
    if let Some(cause) = is_connect_failure(&e) {
        return from_connect_failure(&cause, server);
    }
    match &e {
        kube::Error::ReadEvents(cause) => Error::cluster(format!(
            "the connection to the API server at {server} broke while reading the {} list ({cause}); try again",
            req.resource
        )),
        kube::Error::SerdeError(cause) => Error::cluster(format!(
            "the API server at {server} answered {} {} with something that is not a Kubernetes API answer ({cause}); check that the kubeconfig points at the API server and not at a proxy's page",
            req.verb, req.resource
        )),
        kube::Error::Auth(a) => Error::cluster(format!(
            "cannot get credentials for the API server at {server} ({a}); log in again or refresh the kubeconfig"
        )),
        _ => Error::cluster(format!(
            "request to {} {} {} failed: {e}",
            req.verb,
            req.resource,
            req.scope()
        )),
    }
}

/// An answer of the API server (`metav1.Status`) with HTTP status `code`.
fn from_status(code: u16, message: &str, req: &Request, server: &str) -> Error {
    let what = match &req.name {
        Some(n) => format!("{} {n:?}", req.resource.trim_end_matches('s')),
        None => req.resource.to_string(),
    };
    match code {
        401 => Error::cluster(format!(
            "the API server at {server} rejected the credentials (401 Unauthorized); they may have expired: log in again or refresh the kubeconfig"
        )),
        403 => forbidden(message, req),
        404 if req.name.is_some() && req.namespace.is_none() => Error::input(format!(
            "{what} not found; check the name with `kubectl get {}`",
            req.resource
        )),
        404 if req.name.is_some() => Error::input(format!(
            "{what} not found {}; check the name and the namespace (-n) or use -A",
            req.scope()
        )),
        404 => Error::cluster(format!(
            "the API server has no {} API (404); the cluster may be too old for kubectl-ds",
            req.resource
        )),
        429 => Error::cluster(format!(
            "the API server is throttling requests (429 Too Many Requests) while trying to {} {}; try again later",
            req.verb, what
        )),
        code if code >= 500 => Error::cluster(format!(
            "the API server failed to {} {} {} ({code}: {message}); try again later",
            req.verb,
            what,
            req.scope(),
        )),
        code => Error::cluster(format!(
            "the API server refused to {} {} {} ({code}: {message})",
            req.verb,
            what,
            req.scope(),
        )),
    }
}

/// RBAC's refusal, naming the user and the role to ask for.
fn forbidden(message: &str, req: &Request) -> Error {
    let who = denied_user(message)
        .map(|u| format!("user {u:?} is"))
        .unwrap_or_else(|| "you are".to_string());
    let needs = match req.verb {
        "get" | "list" | "watch" => "kubectl-ds needs get, list and watch on it",
        _ => "kubectl ds rollback also needs patch on daemonsets",
    };
    Error::Forbidden(format!(
        "forbidden: {who} not allowed to {} {} {}; ask for the role in the README ({needs})",
        req.verb,
        req.resource,
        req.scope()
    ))
}

/// The API server could not be reached, or not in time, or not over TLS.
fn from_connect_failure(cause: &str, server: &str) -> Error {
    let lower = cause.to_lowercase();
    if lower.contains("timed out") || lower.contains("timeout") || lower.contains("elapsed") {
        return timed_out(server);
    }
    if lower.contains("certificate") || lower.contains("tls") {
        return Error::cluster(format!(
            "TLS with the API server at {server} failed ({cause}); check the kubeconfig's certificate authority"
        ));
    }
    Error::Unreachable(format!(
        "cannot reach the API server at {server} ({cause}); check that the cluster is up and the kubeconfig context is right"
    ))
}

/// An answer about the object that was sent, not about the server: 400 Bad Request, 422
/// Invalid, and the 500 server-side apply answers when the object does not fit the schema
/// (`fieldmanager`'s "failed to create typed patch object", e.g. for a quantity that does not
/// parse; `kubectl apply --dry-run=server` gets a 400 BadRequest for the same object).
pub fn is_about_the_object(code: u16, message: &str) -> bool {
    match code {
        400 | 422 => true,
        500 => {
            message.contains("failed to create typed patch object")
                || message.contains("quantities must match the regular expression")
        }
        _ => false,
    }
}

pub fn timed_out(server: &str) -> Error {
    Error::Unreachable(format!(
        "the API server at {server} did not answer in time (--request-timeout); check that the cluster is up or raise the timeout"
    ))
}

#[cfg(test)]
mod tests {
    use super::is_about_the_object;

    #[test]
    fn validation_answers_are_about_the_object() {
        assert!(is_about_the_object(422, "DaemonSet.apps \"x\" is invalid"));
        assert!(is_about_the_object(400, "bad request"));
        assert!(is_about_the_object(
            500,
            "failed to create typed patch object (/v1, Kind=x): .spec.template.spec.containers[name=\"main\"].resources.requests.memory: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        ));
        assert!(!is_about_the_object(500, "etcdserver: request timed out"));
        assert!(!is_about_the_object(503, "unavailable"));
    }
}
