//! Starting, stopping and tearing down the control plane.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::pki::{self, Ca};
use crate::process;
use crate::{Error, stages};

/// How long a component may take to become ready after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How many lines of each log a failure report shows.
const TAIL_LINES: usize = 40;
/// The admin user's name (its certificate also carries O=system:masters).
pub(crate) const ADMIN_USER: &str = "kubectl-ds-admin";

/// Knobs of a testbed. `Options::default()` gives fast pods and short node-failure timings.
#[derive(Clone, Debug)]
pub struct Options {
    /// How long kwok waits before a pod on one of its nodes turns Running (and Ready, or into its
    /// failure state). A pod's `testbed.kubectl-ds/ready-delay` annotation (a Go duration such
    /// as `"3s"`) overrides it for that pod. Default: none.
    pub pod_ready_delay: Duration,
    /// kube-controller-manager `--node-monitor-period`: how often the node-lifecycle controller
    /// looks at node health. Default: 1 s.
    pub node_monitor_period: Duration,
    /// kube-controller-manager `--node-monitor-grace-period`: how long a node may go without a
    /// heartbeat (Lease renewal or status update) before it is marked Unknown and tainted
    /// unreachable. kwok's Leases are sized from it (renewed every grace/8 or so). Default: 20 s.
    pub node_monitor_grace_period: Duration,
    /// kube-controller-manager `--node-startup-grace-period`: the same for a node that never
    /// posted a Ready condition. Default: 20 s.
    pub node_startup_grace_period: Duration,
    /// kube-controller-manager `--node-eviction-rate` (nodes per second that get NoExecute
    /// taints when their zone is healthy). Default: 10, so several dead nodes are tainted at
    /// once; real clusters use 0.1.
    pub node_eviction_rate: f32,
    /// More kwok Stage documents (YAML, `kwok.x-k8s.io/v1alpha1` `Stage`), added after the
    /// testbed's own.
    pub extra_stages: Vec<String>,
    /// kube-controller-manager's and kube-scheduler's `--kube-api-qps` (burst twice that), for
    /// clusters with thousands of pods to create and bind. Default: their own (20 and 50).
    pub client_qps: Option<f32>,
    /// kube-apiserver `--max-requests-inflight` and `--max-mutating-requests-inflight`
    /// (0: no limit). Default: the API server's (400 and 200).
    pub max_requests_inflight: Option<u32>,
    /// Whether the API server writes the audit log. Default: true; a benchmark may turn it off,
    /// as every request then costs a blocking write.
    pub audit: bool,
    /// More kube-controller-manager controllers, e.g. `resourcequota-controller` (quota status,
    /// which admission charges creates against) or `disruption-controller` (PodDisruptionBudget
    /// status, which preemption reads). Default: none, so node-failure timings stay as tested.
    pub extra_controllers: Vec<&'static str>,
    /// kwok's pod workers: how many pods it moves through their stages at once, and how many
    /// newly managed nodes it lists the pods of at once (`podPlayStageParallelism`,
    /// `podsOnNodeSyncParallelism`). Default: kwok's own (4 and 1), which on a cluster growing
    /// by thousands of nodes leaves pods bound but Pending for many minutes.
    pub kwok_parallelism: Option<u32>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            pod_ready_delay: Duration::ZERO,
            node_monitor_period: Duration::from_secs(1),
            node_monitor_grace_period: Duration::from_secs(20),
            node_startup_grace_period: Duration::from_secs(20),
            node_eviction_rate: 10.0,
            extra_stages: Vec::new(),
            client_qps: None,
            max_requests_inflight: None,
            audit: true,
            extra_controllers: Vec::new(),
            kwok_parallelism: None,
        }
    }
}

/// One process of the control plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    /// etcd, the API server's storage.
    Etcd,
    /// kube-apiserver.
    KubeApiserver,
    /// kube-controller-manager.
    KubeControllerManager,
    /// kube-scheduler.
    KubeScheduler,
    /// kwok, the fake kubelets.
    Kwok,
}

impl Component {
    /// Every component, in start-up order.
    pub const ALL: [Component; 5] = [
        Component::Etcd,
        Component::KubeApiserver,
        Component::KubeControllerManager,
        Component::KubeScheduler,
        Component::Kwok,
    ];

    /// The binary's name, which is also the name of its log file (`logs/<name>.log`).
    pub fn name(self) -> &'static str {
        match self {
            Component::Etcd => "etcd",
            Component::KubeApiserver => "kube-apiserver",
            Component::KubeControllerManager => "kube-controller-manager",
            Component::KubeScheduler => "kube-scheduler",
            Component::Kwok => "kwok",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How to tell that a component is ready.
#[derive(Clone, Debug)]
enum Probe {
    /// etcd's plain-HTTP `/health`.
    Etcd(u16),
    /// The API server's `/readyz`, as the admin.
    Apiserver,
    /// A component's HTTPS `/healthz`, served with a certificate of the testbed CA.
    Https(u16),
    /// kwok's plain-HTTP `/healthz`.
    Http(u16),
}

#[derive(Clone, Debug)]
struct Spec {
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    probe: Probe,
}

/// A running local control plane; dropping it stops every process.
///
/// **Isolation: one testbed per test.** A DaemonSet places a pod on every node of its cluster
/// that it selects, so nodes added by one test would change what another test's DaemonSets
/// do, and node-lifecycle scenarios (dead nodes, taints) would bleed between tests. A test may
/// run many scenarios in sequence on its own testbed (use separate namespaces or names); tests
/// don't share one. Start-up takes a few seconds with cached binaries (see the README).
///
/// Teardown kills every process. The temporary directory is removed, unless the thread is
/// panicking (a failing test) or `KUBECTL_DS_TESTBED_KEEP` is set: then it is kept and its path
/// and the last lines of every log are printed to stderr. Processes run in their own process
/// groups with a parent-death signal, so none outlives the test process, even if it is killed.
pub struct Testbed {
    dir: PathBuf,
    bin_dir: PathBuf,
    server: String,
    kubeconfig: PathBuf,
    audit_log: PathBuf,
    ca: Ca,
    specs: BTreeMap<Component, Spec>,
    procs: BTreeMap<Component, Child>,
    startup: Duration,
    keep: bool,
}

impl fmt::Debug for Testbed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Testbed")
            .field("dir", &self.dir)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

struct Binaries {
    bin_dir: PathBuf,
    etcd: PathBuf,
    kube_apiserver: PathBuf,
}

impl Binaries {
    /// Runs `tests/testbed/build` once per process (it prints the bin dir, building the
    /// binaries first if the cache is cold), then takes etcd and kube-apiserver from
    /// `KUBEBUILDER_ASSETS` if that is set.
    fn resolve() -> Result<Self, Error> {
        static BIN_DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let bin_dir = BIN_DIR
            .get_or_init(|| {
                let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("build");
                let out = Command::new("bash")
                    .arg(&script)
                    .stderr(std::process::Stdio::inherit())
                    .output()
                    .map_err(|e| format!("running {}: {e}", script.display()))?;
                if !out.status.success() {
                    return Err(format!("{} failed ({})", script.display(), out.status));
                }
                let stdout = String::from_utf8_lossy(&out.stdout);
                let dir = stdout.lines().last().unwrap_or("").trim();
                if dir.is_empty() {
                    return Err(format!("{} printed no directory", script.display()));
                }
                Ok(PathBuf::from(dir))
            })
            .clone()
            .map_err(Error::Binaries)?;
        let mut bins = Binaries {
            etcd: bin_dir.join("etcd"),
            kube_apiserver: bin_dir.join("kube-apiserver"),
            bin_dir,
        };
        if let Some(assets) = std::env::var_os("KUBEBUILDER_ASSETS").filter(|s| !s.is_empty()) {
            let assets = PathBuf::from(assets);
            if assets.join("etcd").is_file() {
                bins.etcd = assets.join("etcd");
            }
            if assets.join("kube-apiserver").is_file() {
                bins.kube_apiserver = assets.join("kube-apiserver");
            }
        }
        for p in [
            &bins.etcd,
            &bins.kube_apiserver,
            &bins.bin_dir.join("kube-controller-manager"),
            &bins.bin_dir.join("kube-scheduler"),
            &bins.bin_dir.join("kwok"),
        ] {
            if !p.is_file() {
                return Err(Error::Binaries(format!("{} is missing", p.display())));
            }
        }
        Ok(bins)
    }
}

fn free_port() -> Result<u16, Error> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("127.0.0.1:0", e))?;
    Ok(l.local_addr()
        .map_err(|e| Error::io("127.0.0.1:0", e))?
        .port())
}

fn new_dir() -> Result<PathBuf, Error> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let base = std::env::temp_dir();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("kubectl-ds-testbed-{}-{n}", std::process::id()));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&dir, e)),
        }
    }
}

fn millis(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A kube client from a kubeconfig file (its current context).
pub async fn client_from_kubeconfig(path: &Path) -> Result<Client, Error> {
    let kubeconfig = Kubeconfig::read_from(path)?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    Ok(Client::try_from(config)?)
}

/// Plain HTTP/1.0 GET on 127.0.0.1; the status code and body.
async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&buf);
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Some((code, body))
}

impl Testbed {
    /// Starts a testbed: builds or finds the binaries, then starts etcd, kube-apiserver,
    /// kube-controller-manager, kube-scheduler and kwok, and returns once all of them answer
    /// their health checks and the `default` ServiceAccount exists (pods need it).
    ///
    /// Async so it can run inside `#[tokio::test]` (any runtime flavour); the blocking parts run
    /// on other threads. A start that loses a race for a free port is retried.
    pub async fn start(options: Options) -> Result<Testbed, Error> {
        let bins = tokio::task::spawn_blocking(Binaries::resolve)
            .await
            .map_err(|e| Error::Other(format!("resolving binaries: {e}")))??;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let began = Instant::now();
            let mut tb = Self::prepare(&options, &bins)?;
            match tb.start_all().await {
                Ok(()) => {
                    tb.startup = began.elapsed();
                    return Ok(tb);
                }
                Err(e) => {
                    let port_race = Component::ALL.iter().any(|c| {
                        fs::read_to_string(tb.log_path(*c))
                            .map(|log| log.contains("address already in use"))
                            .unwrap_or(false)
                    });
                    if port_race && attempt < 3 {
                        continue;
                    }
                    tb.keep = true;
                    return Err(e);
                }
            }
        }
    }

    /// Writes certificates, kubeconfigs and configuration files and decides every command
    /// line, without starting anything.
    fn prepare(options: &Options, bins: &Binaries) -> Result<Testbed, Error> {
        let dir = new_dir()?;
        Self::prepare_in(dir.clone(), options, bins).inspect_err(|_| {
            let _ = fs::remove_dir_all(&dir);
        })
    }

    fn prepare_in(dir: PathBuf, options: &Options, bins: &Binaries) -> Result<Testbed, Error> {
        let pki_dir = dir.join("pki");
        for d in [&pki_dir, &dir.join("logs"), &dir.join("kwok-workdir")] {
            fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        let write = |name: &str, text: &str| -> Result<PathBuf, Error> {
            let p = dir.join(name);
            pki::write_private(&p, text)?;
            Ok(p)
        };

        let etcd_port = free_port()?;
        let etcd_peer_port = free_port()?;
        let apiserver_port = free_port()?;
        let kcm_port = free_port()?;
        let scheduler_port = free_port()?;
        let kwok_port = free_port()?;
        let server = format!("https://127.0.0.1:{apiserver_port}");

        let ca = Ca::new()?;
        let ca_file = write("pki/ca.crt", &ca.cert_pem)?;
        let serving = ca.serving(
            "kube-apiserver",
            &[
                "127.0.0.1",
                "localhost",
                "10.0.0.1",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ],
        )?;
        let apiserver_crt = write("pki/apiserver.crt", &serving.cert_pem)?;
        let apiserver_key = write("pki/apiserver.key", &serving.key_pem)?;
        let local = ca.serving("localhost", &["127.0.0.1", "localhost"])?;
        let local_crt = write("pki/local-serving.crt", &local.cert_pem)?;
        let local_key = write("pki/local-serving.key", &local.key_pem)?;
        let (sa_private, sa_public) = pki::service_account_key()?;
        let sa_key = write("pki/service-account.key", &sa_private)?;
        let sa_pub = write("pki/service-account.pub", &sa_public)?;

        let kubeconfig = dir.join("kubeconfig");
        pki::write_kubeconfig(
            &kubeconfig,
            &server,
            &ca.cert_pem,
            ADMIN_USER,
            &ca.client(ADMIN_USER, &["system:masters"])?,
        )?;
        let component_kubeconfig = |file: &str, user: &str, groups: &[&str]| {
            let p = dir.join(file);
            pki::write_kubeconfig(&p, &server, &ca.cert_pem, user, &ca.client(user, groups)?)?;
            Ok::<_, Error>(p)
        };
        let kcm_kubeconfig = component_kubeconfig(
            "kube-controller-manager.kubeconfig",
            "system:kube-controller-manager",
            &[],
        )?;
        let scheduler_kubeconfig =
            component_kubeconfig("kube-scheduler.kubeconfig", "system:kube-scheduler", &[])?;
        let kwok_kubeconfig =
            component_kubeconfig("kwok.kubeconfig", "kwok-controller", &["system:masters"])?;

        let audit_policy = write(
            "audit-policy.yaml",
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n",
        )?;
        let audit_log = dir.join("audit.log");
        let ready_ms = u64::try_from(options.pod_ready_delay.as_millis()).unwrap_or(u64::MAX);
        let kwok_config = write(
            "kwok.yaml",
            &stages::kwok_config(ready_ms, &options.extra_stages, options.kwok_parallelism)?,
        )?;
        // kwok renews a Lease every duration/4; keep that well inside the grace period.
        let lease_seconds = (options.node_monitor_grace_period.as_secs() / 2).clamp(2, 600);

        let s = |v: &str| v.to_string();
        let qps_flags: Vec<String> = options
            .client_qps
            .map(|q| {
                vec![
                    format!("--kube-api-qps={q}"),
                    format!("--kube-api-burst={}", (q * 2.0).ceil() as u32),
                ]
            })
            .unwrap_or_default();
        let mut specs = BTreeMap::new();
        specs.insert(
            Component::Etcd,
            Spec {
                program: bins.etcd.clone(),
                args: vec![
                    s("--name=testbed"),
                    format!("--data-dir={}", dir.join("etcd-data").display()),
                    format!("--listen-client-urls=http://127.0.0.1:{etcd_port}"),
                    format!("--advertise-client-urls=http://127.0.0.1:{etcd_port}"),
                    format!("--listen-peer-urls=http://127.0.0.1:{etcd_peer_port}"),
                    format!("--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer_port}"),
                    format!("--initial-cluster=testbed=http://127.0.0.1:{etcd_peer_port}"),
                    s("--unsafe-no-fsync=true"),
                    s("--log-level=warn"),
                ],
                env: vec![],
                probe: Probe::Etcd(etcd_port),
            },
        );
        specs.insert(
            Component::KubeApiserver,
            Spec {
                program: bins.kube_apiserver.clone(),
                args: vec![
                    format!("--etcd-servers=http://127.0.0.1:{etcd_port}"),
                    s("--bind-address=127.0.0.1"),
                    s("--advertise-address=127.0.0.1"),
                    // Loopback addresses can't go into the kubernetes Service's endpoints.
                    s("--endpoint-reconciler-type=none"),
                    format!("--secure-port={apiserver_port}"),
                    format!("--cert-dir={}", pki_dir.display()),
                    format!("--tls-cert-file={}", apiserver_crt.display()),
                    format!("--tls-private-key-file={}", apiserver_key.display()),
                    format!("--client-ca-file={}", ca_file.display()),
                    s("--authorization-mode=RBAC"),
                    s("--service-account-issuer=https://kubernetes.default.svc.cluster.local"),
                    format!("--service-account-key-file={}", sa_pub.display()),
                    format!("--service-account-signing-key-file={}", sa_key.display()),
                    s("--service-cluster-ip-range=10.0.0.0/24"),
                    s("--allow-privileged=true"),
                    s("--enable-priority-and-fairness=false"),
                    s("--profiling=false"),
                    s("--v=1"),
                ]
                .into_iter()
                .chain(
                    options
                        .audit
                        .then(|| {
                            [
                                format!("--audit-policy-file={}", audit_policy.display()),
                                format!("--audit-log-path={}", audit_log.display()),
                                s("--audit-log-format=json"),
                                s("--audit-log-mode=blocking"),
                            ]
                        })
                        .into_iter()
                        .flatten(),
                )
                .chain(options.max_requests_inflight.into_iter().flat_map(|n| {
                    [
                        format!("--max-requests-inflight={n}"),
                        format!("--max-mutating-requests-inflight={n}"),
                    ]
                }))
                .collect(),
                env: vec![],
                probe: Probe::Apiserver,
            },
        );
        let controllers = [
            "daemonset-controller",
            "garbage-collector-controller",
            "node-lifecycle-controller",
            "taint-eviction-controller",
            "namespace-controller",
            "serviceaccount-controller",
            "pod-garbage-collector-controller",
            "root-ca-certificate-publisher-controller",
            "replicaset-controller",
            "deployment-controller",
            "job-controller",
            // Fills the aggregated ClusterRoles (view, edit, admin).
            "clusterrole-aggregation-controller",
        ];
        specs.insert(
            Component::KubeControllerManager,
            Spec {
                program: bins.bin_dir.join("kube-controller-manager"),
                args: vec![
                    format!("--kubeconfig={}", kcm_kubeconfig.display()),
                    s("--leader-elect=false"),
                    format!(
                        "--controllers={}",
                        controllers
                            .iter()
                            .chain(&options.extra_controllers)
                            .copied()
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                    s("--use-service-account-credentials=true"),
                    format!("--root-ca-file={}", ca_file.display()),
                    s("--bind-address=127.0.0.1"),
                    format!("--secure-port={kcm_port}"),
                    format!("--tls-cert-file={}", local_crt.display()),
                    format!("--tls-private-key-file={}", local_key.display()),
                    format!(
                        "--node-monitor-period={}",
                        millis(options.node_monitor_period)
                    ),
                    format!(
                        "--node-monitor-grace-period={}",
                        millis(options.node_monitor_grace_period)
                    ),
                    format!(
                        "--node-startup-grace-period={}",
                        millis(options.node_startup_grace_period)
                    ),
                    format!("--node-eviction-rate={}", options.node_eviction_rate),
                    s("--profiling=false"),
                    s("--v=2"),
                ]
                .into_iter()
                .chain(qps_flags.clone())
                .collect(),
                env: vec![],
                probe: Probe::Https(kcm_port),
            },
        );
        specs.insert(
            Component::KubeScheduler,
            Spec {
                program: bins.bin_dir.join("kube-scheduler"),
                args: vec![
                    format!("--kubeconfig={}", scheduler_kubeconfig.display()),
                    s("--leader-elect=false"),
                    s("--bind-address=127.0.0.1"),
                    format!("--secure-port={scheduler_port}"),
                    format!("--tls-cert-file={}", local_crt.display()),
                    format!("--tls-private-key-file={}", local_key.display()),
                    s("--profiling=false"),
                    s("--v=2"),
                ]
                .into_iter()
                .chain(qps_flags)
                .collect(),
                env: vec![],
                probe: Probe::Https(scheduler_port),
            },
        );
        specs.insert(
            Component::Kwok,
            Spec {
                program: bins.bin_dir.join("kwok"),
                args: vec![
                    format!("--kubeconfig={}", kwok_kubeconfig.display()),
                    format!("--config={}", kwok_config.display()),
                    s("--manage-all-nodes=false"),
                    format!(
                        "--manage-nodes-with-annotation-selector={}=fake",
                        crate::KWOK_NODE_ANNOTATION
                    ),
                    format!("--node-lease-duration-seconds={lease_seconds}"),
                    format!("--server-address=127.0.0.1:{kwok_port}"),
                    // Fake pod IPs from the loopback range: nothing ever routes to them.
                    s("--cidr=127.16.0.0/16"),
                    s("--node-ip=127.0.0.1"),
                ],
                // Keep kwok away from ~/.kwok (its default config and work directory).
                env: vec![(s("KWOK_WORKDIR"), path_str(&dir.join("kwok-workdir")))],
                probe: Probe::Http(kwok_port),
            },
        );

        Ok(Testbed {
            dir,
            bin_dir: bins.bin_dir.clone(),
            server,
            kubeconfig,
            audit_log,
            ca,
            specs,
            procs: BTreeMap::new(),
            startup: Duration::ZERO,
            keep: false,
        })
    }

    async fn start_all(&mut self) -> Result<(), Error> {
        self.spawn(Component::Etcd)?;
        self.wait_ready(Component::Etcd).await?;
        self.spawn(Component::KubeApiserver)?;
        self.wait_ready(Component::KubeApiserver).await?;
        for c in [
            Component::KubeControllerManager,
            Component::KubeScheduler,
            Component::Kwok,
        ] {
            self.spawn(c)?;
        }
        for c in [
            Component::KubeControllerManager,
            Component::KubeScheduler,
            Component::Kwok,
        ] {
            self.wait_ready(c).await?;
        }
        // Pod admission needs the namespace's default ServiceAccount, which the
        // serviceaccount controller creates.
        let client = self.client().await?;
        let sas: Api<ServiceAccount> = Api::namespaced(client, "default");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if matches!(sas.get_opt("default").await, Ok(Some(_))) {
                return Ok(());
            }
            self.check_alive(Component::KubeControllerManager)?;
            if Instant::now() > deadline {
                return Err(Error::Timeout(format!(
                    "the default ServiceAccount (logs in {})",
                    self.dir.display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn spawn(&mut self, c: Component) -> Result<(), Error> {
        let spec = &self.specs[&c];
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args).current_dir(&self.dir);
        for (k, v) in &spec.env {
            cmd.env(k, v);
        }
        let child =
            process::spawn(cmd, &self.log_path(c)).map_err(|e| Error::io(&spec.program, e))?;
        self.procs.insert(c, child);
        Ok(())
    }

    fn check_alive(&mut self, c: Component) -> Result<(), Error> {
        let Some(child) = self.procs.get_mut(&c) else {
            return Err(Error::Component {
                component: c,
                message: "not running".into(),
            });
        };
        match child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => {
                self.procs.remove(&c);
                Err(Error::Component {
                    component: c,
                    message: format!(
                        "exited ({status}); last lines of {}:\n{}",
                        self.log_path(c).display(),
                        process::tail(&self.log_path(c), TAIL_LINES)
                    ),
                })
            }
            Err(e) => Err(Error::io(&self.specs[&c].program, e)),
        }
    }

    async fn probe(&self, c: Component) -> bool {
        match self.specs[&c].probe {
            Probe::Etcd(port) => matches!(http_get(port, "/health").await,
                Some((200, body)) if body.contains("true")),
            Probe::Http(port) => matches!(http_get(port, "/healthz").await, Some((200, _))),
            Probe::Apiserver => {
                let Ok(client) = self.client().await else {
                    return false;
                };
                healthz(&client, "/readyz").await
            }
            Probe::Https(port) => {
                let Ok(uri) = format!("https://127.0.0.1:{port}").parse() else {
                    return false;
                };
                let mut config = Config::new(uri);
                config.root_cert = Some(vec![pem_to_der(&self.ca.cert_pem)]);
                config.default_retry = false;
                let Ok(client) = Client::try_from(config) else {
                    return false;
                };
                healthz(&client, "/healthz").await
            }
        }
    }

    async fn wait_ready(&mut self, c: Component) -> Result<(), Error> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            self.check_alive(c)?;
            if self.probe(c).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Component {
                    component: c,
                    message: format!(
                        "not ready after {READY_TIMEOUT:?}; last lines of {}:\n{}",
                        self.log_path(c).display(),
                        process::tail(&self.log_path(c), TAIL_LINES)
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The admin kubeconfig (user `kubectl-ds-admin`, group `system:masters`; context
    /// `kubectl-ds-testbed`, namespace `default`). Certificates are embedded, so the file can
    /// be copied.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The API server's URL, `https://127.0.0.1:<port>`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The testbed's temporary directory: kubeconfigs, `pki/`, `logs/<component>.log`,
    /// `audit.log`, `kwok.yaml`, etcd's data.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the testbed's binaries are (the build script's cache, or `KUBECTL_DS_TESTBED_BIN`).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The API server's audit log: one JSON `audit.k8s.io/v1` Event per line, every request at
    /// Metadata level, stages ResponseStarted (watches only) and ResponseComplete. Count
    /// `stage == "ResponseComplete"` events and filter on `user.username` (the admin is
    /// `kubectl-ds-admin`; the controllers, scheduler and kwok have their own users).
    pub fn audit_log(&self) -> &Path {
        &self.audit_log
    }

    /// The audit log's events, parsed. The line for a request can land a moment after its
    /// response, so poll (see [`crate::wait_for`]) when counting the very latest requests.
    pub fn audit_events(&self) -> Result<Vec<serde_json::Value>, Error> {
        let text =
            fs::read_to_string(&self.audit_log).map_err(|e| Error::io(&self.audit_log, e))?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(Error::from))
            .collect()
    }

    /// How long [`Testbed::start`] took, binaries already built.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The log file of a component.
    pub fn log_path(&self, c: Component) -> PathBuf {
        self.dir.join("logs").join(format!("{}.log", c.name()))
    }

    /// A client for the admin user.
    pub async fn client(&self) -> Result<Client, Error> {
        client_from_kubeconfig(&self.kubeconfig).await
    }

    /// Writes a kubeconfig for user `name` in `groups` (at most two), with a client
    /// certificate signed by the testbed's CA, and returns its path. The user has no
    /// permissions until the caller binds RBAC roles to it.
    pub fn kubeconfig_for_user(&self, name: &str, groups: &[&str]) -> Result<PathBuf, Error> {
        let dir = self.dir.join("users");
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let file: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{file}.kubeconfig"));
        pki::write_kubeconfig(
            &path,
            &self.server,
            &self.ca.cert_pem,
            name,
            &self.ca.client(name, groups)?,
        )?;
        Ok(path)
    }

    /// Whether a component's process is running.
    pub fn is_running(&mut self, c: Component) -> bool {
        self.procs
            .get_mut(&c)
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Stops one component (SIGTERM, then SIGKILL after 10 s), e.g. to simulate an API server
    /// outage. Its state (etcd's data, the port) is kept for [`Testbed::start_component`].
    pub async fn stop_component(&mut self, c: Component) -> Result<(), Error> {
        if let Some(mut child) = self.procs.remove(&c) {
            tokio::task::spawn_blocking(move || {
                process::terminate(&mut child, Duration::from_secs(10))
            })
            .await
            .map_err(|e| Error::Other(format!("stopping {c}: {e}")))?;
        }
        Ok(())
    }

    /// Starts a stopped component again with the same command line (same ports) and waits
    /// until it is healthy. Does nothing if it is running.
    pub async fn start_component(&mut self, c: Component) -> Result<(), Error> {
        if self.is_running(c) {
            return Ok(());
        }
        self.spawn(c)?;
        self.wait_ready(c).await
    }

    fn report(&self) {
        eprintln!("testbed: keeping {}", self.dir.display());
        for c in Component::ALL {
            let path = self.log_path(c);
            eprintln!(
                "----- {} (last {TAIL_LINES} lines of {}) -----\n{}",
                c,
                path.display(),
                process::tail(&path, TAIL_LINES)
            );
        }
    }
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_default()
}

async fn healthz(client: &Client, path: &str) -> bool {
    let Ok(req) = http::Request::get(path).body(Vec::new()) else {
        return false;
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(5), client.request_text(req)).await,
        Ok(Ok(body)) if body.trim() == "ok"
    )
}

impl Drop for Testbed {
    fn drop(&mut self) {
        for child in self.procs.values() {
            process::signal_group(child, libc::SIGKILL);
        }
        for child in self.procs.values_mut() {
            let _ = child.wait();
        }
        self.procs.clear();
        let keep_env = std::env::var_os("KUBECTL_DS_TESTBED_KEEP").is_some_and(|v| !v.is_empty());
        if std::thread::panicking() || self.keep {
            self.report();
        } else if keep_env {
            eprintln!("testbed: keeping {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_testbed_can_move_between_threads_and_tasks() {
        fn send<T: Send>() {}
        send::<Testbed>();
        send::<Options>();
    }

    #[test]
    fn defaults_are_fast_and_leases_fit_the_grace_period() {
        let o = Options::default();
        assert_eq!(o.pod_ready_delay, Duration::ZERO);
        assert!(o.node_monitor_grace_period > o.node_monitor_period * 4);
    }
}
