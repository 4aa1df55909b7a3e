//! `testbed`: a local control plane for people (the tests use the library directly).
//!
//! Usually run through `tests/testbed/run`:
//!
//! * `testbed exec [--nodes N] -- CMD [ARGS...]`: start a testbed with N fake nodes, run CMD with
//!   `KUBECONFIG` set and the testbed's binaries first on `PATH`, tear down, exit with CMD's code.
//! * `testbed up [--nodes N]`: start one in the background and print `export KUBECONFIG=...`.
//! * `testbed down`: stop it.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use kubectl_ds_testbed::{FakeNode, Options, Testbed, add_node};
use tokio::signal::unix::{SignalKind, signal};

#[derive(Parser)]
#[command(
    name = "testbed",
    about = "A local Kubernetes control plane with kwok fake nodes"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start a testbed, run a command against it, tear it down.
    Exec {
        /// Number of fake nodes (node-1..node-N).
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// The command and its arguments.
        #[arg(trailing_var_arg = true, required = true, allow_hyphen_values = true)]
        command: Vec<OsString>,
    },
    /// Start a testbed in the background and print an `export KUBECONFIG=...` line.
    Up {
        /// Number of fake nodes (node-1..node-N).
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Where the background testbed's pid and environment are kept.
        #[arg(long, default_value_os_t = default_state_dir())]
        state_dir: PathBuf,
    },
    /// Stop the background testbed.
    Down {
        /// Where the background testbed's pid and environment are kept.
        #[arg(long, default_value_os_t = default_state_dir())]
        state_dir: PathBuf,
    },
    /// The background half of `up` (not for direct use).
    #[command(hide = true)]
    Serve {
        #[arg(long)]
        nodes: usize,
        #[arg(long)]
        state_dir: PathBuf,
    },
}

fn default_state_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/testbed-up")
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn start(nodes: usize) -> Result<Testbed, BoxError> {
    let tb = Testbed::start(Options::default()).await?;
    let client = tb.client().await?;
    for i in 1..=nodes {
        add_node(&client, &FakeNode::new(format!("node-{i}"))).await?;
    }
    eprintln!(
        "testbed: {} up in {:.1} s with {nodes} nodes (binaries in {})",
        tb.server(),
        tb.startup_time().as_secs_f64(),
        tb.bin_dir().display()
    );
    Ok(tb)
}

fn path_with(bin_dir: &Path) -> OsString {
    let mut parts = vec![bin_dir.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        parts.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(parts).unwrap_or_default()
}

async fn exec(nodes: usize, command: Vec<OsString>) -> Result<u8, BoxError> {
    let tb = start(nodes).await?;
    let (program, args) = command.split_first().ok_or("no command given")?;
    let mut child = match tokio::process::Command::new(program)
        .args(args)
        .env("KUBECONFIG", tb.kubeconfig())
        .env("PATH", path_with(tb.bin_dir()))
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("testbed: cannot run {}: {e}", program.to_string_lossy());
            return Ok(127);
        }
    };
    // The command shares our terminal: Ctrl-C reaches it directly, so an interrupt only means
    // "wait for it to finish"; SIGTERM is passed on.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status?,
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {
                if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
                    // SAFETY: kill has no memory-safety preconditions.
                    unsafe { libc::kill(pid, libc::SIGTERM) };
                }
            }
        }
    };
    drop(tb);
    use std::os::unix::process::ExitStatusExt as _;
    let code = match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 1,
    };
    Ok(u8::try_from(code).unwrap_or(1))
}

fn read_pid(state_dir: &Path) -> Option<i32> {
    let pid: i32 = fs::read_to_string(state_dir.join("pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: signal 0 only checks that the process exists.
    (unsafe { libc::kill(pid, 0) } == 0).then_some(pid)
}

fn up(nodes: usize, state_dir: &Path) -> Result<u8, BoxError> {
    let env_file = state_dir.join("env");
    if read_pid(state_dir).is_some() {
        let env = fs::read_to_string(&env_file).unwrap_or_default();
        eprintln!("testbed: already running (tests/testbed/run down stops it)");
        print!("{env}");
        return Ok(0);
    }
    fs::create_dir_all(state_dir)?;
    for f in ["pid", "env"] {
        let _ = fs::remove_file(state_dir.join(f));
    }
    let log_path = state_dir.join("serve.log");
    let log = fs::File::create(&log_path)?;
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("serve")
        .arg("--nodes")
        .arg(nodes.to_string())
        .arg("--state-dir")
        .arg(state_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log));
    // A session of its own: the shell's Ctrl-C and hang-up don't reach it.
    use std::os::unix::process::CommandExt as _;
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Ok(env) = fs::read_to_string(&env_file)
            && !env.is_empty()
        {
            eprintln!("testbed: running in the background (tests/testbed/run down stops it)");
            print!("{env}");
            return Ok(0);
        }
        if let Some(status) = child.try_wait()? {
            eprintln!(
                "testbed: failed to start ({status}); its log:\n{}",
                fs::read_to_string(&log_path).unwrap_or_default()
            );
            return Ok(1);
        }
        if Instant::now() > deadline {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(i32::try_from(child.id())?, libc::SIGTERM) };
            return Err(format!("not up after 300 s; see {}", log_path.display()).into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

async fn serve(nodes: usize, state_dir: &Path) -> Result<u8, BoxError> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let tb = start(nodes).await?;
    fs::write(state_dir.join("pid"), std::process::id().to_string())?;
    let env = format!("export KUBECONFIG={}\n", tb.kubeconfig().to_string_lossy());
    let tmp = state_dir.join("env.tmp");
    fs::write(&tmp, env)?;
    fs::rename(&tmp, state_dir.join("env"))?;
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
        _ = hangup.recv() => {}
    }
    eprintln!("testbed: stopping");
    for f in ["pid", "env"] {
        let _ = fs::remove_file(state_dir.join(f));
    }
    drop(tb);
    Ok(0)
}

fn down(state_dir: &Path) -> Result<u8, BoxError> {
    let Some(pid) = read_pid(state_dir) else {
        eprintln!("testbed: none running");
        return Ok(0);
    };
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(30);
    // SAFETY: as above; signal 0 only probes.
    while unsafe { libc::kill(pid, 0) } == 0 {
        if Instant::now() > deadline {
            return Err(format!("process {pid} did not stop within 30 s").into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("testbed: stopped");
    Ok(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Up { nodes, state_dir } => up(nodes, &state_dir),
        Cmd::Down { state_dir } => down(&state_dir),
        Cmd::Exec { nodes, command } => runtime().and_then(|rt| rt.block_on(exec(nodes, command))),
        Cmd::Serve { nodes, state_dir } => {
            runtime().and_then(|rt| rt.block_on(serve(nodes, &state_dir)))
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("testbed: {e}");
            ExitCode::from(1)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
