//! Child processes that cannot outlive the test process.
//!
//! Every child runs in its own process group (so a signal reaches whatever it forks) and has
//! `PR_SET_PDEATHSIG=SIGKILL`, so the kernel kills it when its parent goes away, even on a panic
//! that aborts or a SIGKILL of the test process. The death signal fires when the *thread* that
//! forked the child exits, not the process, so all children are forked by one dedicated thread
//! that lives as long as the process (tokio's blocking threads, for one, come and go).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead as _, BufReader, Seek as _, SeekFrom};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

type Reply = mpsc::Sender<io::Result<Child>>;

fn spawner() -> &'static mpsc::Sender<(Command, Reply)> {
    static SPAWNER: OnceLock<mpsc::Sender<(Command, Reply)>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<(Command, Reply)>();
        std::thread::Builder::new()
            .name("testbed-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| eprintln!("testbed: cannot start the spawner thread: {e}"));
        tx
    })
}

/// Spawns `cmd` with stdout and stderr appended to `log`, in a new process group, with a
/// parent-death signal.
pub(crate) fn spawn(mut cmd: Command, log: &Path) -> io::Result<Child> {
    let out = OpenOptions::new().create(true).append(true).open(log)?;
    let err = out.try_clone()?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .process_group(0);
    // SAFETY: getpid is async-signal-safe and has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs between fork and exec and only calls async-signal-safe functions
    // (prctl, getppid) without allocating.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                return Err(io::Error::other("parent exited during spawn"));
            }
            Ok(())
        });
    }
    let (tx, rx) = mpsc::channel();
    spawner()
        .send((cmd, tx))
        .map_err(|_| io::Error::other("the spawner thread is gone"))?;
    rx.recv()
        .map_err(|_| io::Error::other("the spawner thread is gone"))?
}

/// Sends `signal` to the child's whole process group.
pub(crate) fn signal_group(child: &Child, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions; the group id is the child's pid
        // because it was spawned with process_group(0).
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

/// Stops a child: SIGTERM to its group, then SIGKILL after `grace`. Returns once it is reaped.
pub(crate) fn terminate(child: &mut Child, grace: Duration) {
    if !grace.is_zero() && matches!(child.try_wait(), Ok(None)) {
        signal_group(child, libc::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // Kill the group even if the leader is gone: it may have left children behind.
    signal_group(child, libc::SIGKILL);
    let _ = child.wait();
}

/// The last `lines` lines of a text file (or a note saying why there are none).
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut f) = File::open(path) else {
        return format!("({} does not exist)", path.display());
    };
    // Read at most the last 256 KiB: enough for 40 lines of any log.
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(256 * 1024);
    if f.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let all: Vec<String> = BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .skip(usize::from(start > 0))
        .collect();
    let from = all.len().saturating_sub(lines);
    if all.is_empty() {
        return "(empty)".to_string();
    }
    all[from..].join("\n")
}
