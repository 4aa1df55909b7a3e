//! NodePorts (`plugins/nodeports`, `HostPortInfo.CheckConflict`): the host ports a daemon pod
//! wants against those the node's pods already hold.

use k8s_openapi::api::core::v1::{ContainerPort, Pod, PodSpec};
use serde::Serialize;

use super::noderesources::is_sidecar;
use crate::logic::daemon::pods;

/// A host port the pod wants, with the scheduler's defaults (empty IP = 0.0.0.0, empty
/// protocol = TCP).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostPort {
    pub host_ip: String,
    pub protocol: String,
    pub port: i32,
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}/{}", self.host_ip, self.port, self.protocol)
    }
}

fn host_port(p: &ContainerPort, host_network: bool) -> Option<HostPort> {
    // API defaulting gives hostNetwork pods hostPort = containerPort (pods only, not templates).
    let port = match p.host_port {
        Some(hp) if hp > 0 => hp,
        _ if host_network => p.container_port,
        _ => return None,
    };
    Some(HostPort {
        host_ip: p
            .host_ip
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "0.0.0.0".into()),
        protocol: p
            .protocol
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "TCP".into()),
        port,
    })
}

/// `util.GetHostPorts`: ports of regular containers and sidecar init containers.
pub fn host_ports(spec: &PodSpec) -> Vec<HostPort> {
    let hn = spec.host_network == Some(true);
    spec.init_containers
        .iter()
        .flatten()
        .filter(|c| is_sidecar(c))
        .chain(spec.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| host_port(p, hn))
        .collect()
}

/// A wanted port already held on the node, and by which pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortConflict {
    pub wanted: HostPort,
    pub held: HostPort,
    pub pod: String,
}

/// `HostPortInfo.CheckConflict` for one pair: 0.0.0.0 conflicts with the same protocol and
/// port on any IP; a specific IP conflicts with the same one or with 0.0.0.0.
pub fn ports_clash(wanted: &HostPort, held: &HostPort) -> bool {
    held.protocol == wanted.protocol
        && held.port == wanted.port
        && (wanted.host_ip == "0.0.0.0"
            || held.host_ip == "0.0.0.0"
            || held.host_ip == wanted.host_ip)
}

/// [`ports_clash`] for every wanted port against the ports of the pods on the node.
pub fn port_conflicts(spec: &PodSpec, on_node: &[&Pod]) -> Vec<PortConflict> {
    let wanted = host_ports(spec);
    let mut out = Vec::new();
    for w in &wanted {
        for p in on_node {
            let Some(pspec) = &p.spec else { continue };
            // Pods on the node are already defaulted by the API server.
            for held in host_ports(pspec) {
                if ports_clash(w, &held) {
                    out.push(PortConflict {
                        wanted: w.clone(),
                        held,
                        pod: format!(
                            "{}/{}",
                            p.metadata.namespace.as_deref().unwrap_or(""),
                            pods::name(p)
                        ),
                    });
                }
            }
        }
    }
    out
}
