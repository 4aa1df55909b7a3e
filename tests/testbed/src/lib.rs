//! kubectl-ds's testbed: a real, local Kubernetes control plane for tests.
//!
//! [`Testbed::start`] runs etcd, kube-apiserver (TLS, client-certificate authentication, RBAC,
//! an audit log), kube-controller-manager (DaemonSet, garbage-collector, node-lifecycle,
//! taint-eviction, namespace, service-account, pod-GC and a few workload controllers),
//! kube-scheduler and kwok on 127.0.0.1, in a fresh temporary directory. kwok plays the kubelet
//! for the Nodes annotated `kwok.x-k8s.io/node: fake`: it renews their Leases and moves their
//! pods through the stages in `tests/testbed/stages/` (Running and Ready, or ErrImagePull →
//! ImagePullBackOff, CrashLoopBackOff or Running-but-not-Ready, chosen by the image name). A Node
//! without the annotation behaves like a node whose kubelet died.
//!
//! ```no_run
//! use kubectl_ds_testbed::{FakeNode, Options, Testbed, add_node, apply_yaml, wait_daemonset_settled};
//! # async fn demo() -> Result<(), kubectl_ds_testbed::Error> {
//! let tb = Testbed::start(Options::default()).await?;
//! let client = tb.client().await?;
//! add_node(&client, &FakeNode::new("n1").label("role", "worker")).await?;
//! apply_yaml(&client, "apiVersion: apps/v1\nkind: DaemonSet\n...").await?;
//! let ds = wait_daemonset_settled(&client, "default", "agent", std::time::Duration::from_secs(60)).await?;
//! # Ok(()) }
//! ```
//!
//! The binaries come from `tests/testbed/build` (built once per machine into a cache, see the
//! README next to this crate).

mod helpers;
mod pki;
mod process;
mod stages;
mod testbed;

use std::path::{Path, PathBuf};

pub use helpers::{
    FIELD_MANAGER, FakeNode, KWOK_NODE_ANNOTATION, READY_DELAY_ANNOTATION,
    STATIC_STATUS_ANNOTATION, add_node, apply_yaml, wait_daemonset_settled, wait_for,
};
pub use stages::STAGES;
pub use testbed::{Component, Options, Testbed, client_from_kubeconfig};

/// What can go wrong while starting or using a testbed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or process operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or program involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The binaries could not be built or found.
    #[error("testbed binaries: {0}")]
    Binaries(String),
    /// A control-plane process exited or never became ready; the message has its log's tail.
    #[error("{component} failed: {message}")]
    Component {
        /// The process.
        component: Component,
        /// What happened, with the end of its log.
        message: String,
    },
    /// A wait ran out of time.
    #[error("timed out waiting for {0}")]
    Timeout(String),
    /// The Kubernetes API returned an error.
    #[error(transparent)]
    Kube(#[from] kube::Error),
    /// Reading a kubeconfig failed.
    #[error(transparent)]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    /// YAML could not be parsed or written.
    #[error(transparent)]
    Yaml(#[from] serde_yaml::Error),
    /// JSON could not be parsed or written.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Certificate generation failed.
    #[error(transparent)]
    Cert(#[from] rcgen::Error),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub(crate) fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}
