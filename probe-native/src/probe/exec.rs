//! Running a program (bwrap, systemctl) in a probe child with a deadline, capturing one output stream.

use std::ffi::CString;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::Signal;

use super::child::{self, Exit};
use super::user::Setup;

const EXEC_FAILED: &[u8] = b"\0nsdoctor-exec-failed ";
const SETUP_FAILED: &[u8] = b"\0nsdoctor-setup-failed ";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    Signaled(Signal),
    TimedOut,
    /// exec (or fork) failed with this errno.
    SpawnFailed(Errno),
    /// The child could not take on the probed identity.
    SetupFailed(String),
}

impl Ended {
    pub fn describe(&self) -> String {
        match self {
            Ended::Exited(c) => format!("exit status {c}"),
            Ended::Signaled(s) => format!("killed by {}", s.as_str()),
            Ended::TimedOut => "timed out".to_string(),
            Ended::SpawnFailed(e) => format!("could not start: {}", e.desc()),
            Ended::SetupFailed(m) => format!("could not switch user: {m}"),
        }
    }
}

pub struct Output {
    pub output: Vec<u8>,
    pub exit: Ended,
}

/// Runs `argv` (PATH lookup for a bare name) in a child that first applies `setup`; stdin and the other
/// stream are /dev/null; at most 64 KiB of the captured stream are kept.
pub fn run_capture(argv: &[String], timeout: Duration, capture: Capture, setup: Option<&Setup>) -> Output {
    let deadline = std::time::Instant::now() + timeout;
    let mut c = spawn_capture(argv, capture, setup, None);
    child::collect_all(std::slice::from_mut(&mut c), deadline);
    finish_capture(c.into_run())
}

/// [`run_capture`] without the wait: the child is collected with others by [`child::collect_all`], then
/// [`finish_capture`] reads its run.
pub fn spawn_capture(
    argv: &[String],
    capture: Capture,
    setup: Option<&Setup>,
    gate: Option<&mut child::Gate>,
) -> child::Spawned {
    let cargs: Vec<CString> = argv.iter().filter_map(|a| CString::new(a.as_bytes()).ok()).collect();
    if cargs.len() != argv.len() || cargs.is_empty() {
        return child::Spawned::not_started(Errno::EINVAL);
    }
    child::spawn(64 * 1024, gate, |fd| {
        if let Some(s) = setup {
            if let Err(e) = s.apply() {
                child::send(&fd, &[SETUP_FAILED, e.to_string().as_bytes()].concat());
                return 126;
            }
        }
        let null = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null").ok();
        if let Some(n) = &null {
            let _ = nix::unistd::dup2_stdin(n);
            let _ = match capture {
                Capture::Stdout => nix::unistd::dup2_stderr(n),
                Capture::Stderr => nix::unistd::dup2_stdout(n),
            };
        }
        let _ = match capture {
            Capture::Stdout => nix::unistd::dup2_stdout(&fd),
            Capture::Stderr => nix::unistd::dup2_stderr(&fd),
        };
        let Some(prog) = cargs.first() else { return 127 };
        let e = nix::unistd::execvp(prog, &cargs).err().unwrap_or(Errno::UnknownErrno);
        child::send(&fd, &[EXEC_FAILED, (e as i32).to_string().as_bytes()].concat());
        127
    })
}

/// How a [`spawn_capture`] child ended and what it printed.
pub fn finish_capture(run: child::ChildRun) -> Output {
    let exit = if let Some(rest) = run.output.strip_prefix(SETUP_FAILED) {
        Ended::SetupFailed(String::from_utf8_lossy(rest).into_owned())
    } else if let Some(rest) = run.output.strip_prefix(EXEC_FAILED) {
        let n = String::from_utf8_lossy(rest).trim().parse::<i32>().unwrap_or(0);
        Ended::SpawnFailed(Errno::from_raw(n))
    } else {
        match run.exit {
            Exit::Code(c) => Ended::Exited(c),
            Exit::Signal(s) => Ended::Signaled(s),
            Exit::TimedOut => Ended::TimedOut,
            Exit::NotStarted(e) => Ended::SpawnFailed(e),
        }
    };
    let output = match exit {
        Ended::SpawnFailed(_) | Ended::SetupFailed(_) => Vec::new(),
        _ => run.output,
    };
    Output { output, exit }
}
