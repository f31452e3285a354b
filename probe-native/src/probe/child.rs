//! Forked children with a deadline. Every namespace syscall runs in a child forked from the
//! single-threaded parent: `unshare(CLONE_NEWUSER)` fails with EINVAL in a multi-threaded caller
//! (host-policies.md §0.6) and namespace changes are irreversible for a process. The child reports
//! over a pipe; the parent stops reading at the deadline, SIGKILLs the child's process group and
//! reaps the child, so nothing outlives a run.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::{ForkResult, Pid, getpid, pipe2};

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(Signal),
    /// Still running at the deadline: killed with SIGKILL and reaped.
    TimedOut,
    /// `fork` or `pipe` failed.
    NotStarted(Errno),
}

/// What a child wrote to the pipe (truncated to the cap) and how it ended.
#[derive(Debug)]
pub struct ChildRun {
    pub output: Vec<u8>,
    pub exit: Exit,
}

/// Forks. The child becomes its own process group leader, asks to be SIGKILLed when the parent dies,
/// runs `body` with the pipe's write end and `_exit`s with its return value. The parent keeps at most
/// `cap` bytes of what the child (and anything that inherited the pipe) writes until EOF or `timeout`.
pub fn run(timeout: Duration, cap: usize, body: impl FnOnce(OwnedFd) -> i32) -> ChildRun {
    let (rd, wr) = match pipe2(OFlag::O_CLOEXEC) {
        Ok(p) => p,
        Err(e) => return ChildRun { output: Vec::new(), exit: Exit::NotStarted(e) },
    };
    let parent = getpid();
    match fork_raw() {
        Err(e) => ChildRun { output: Vec::new(), exit: Exit::NotStarted(e) },
        Ok(ForkResult::Child) => {
            drop(rd);
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
            // The parent may have died between fork and prctl: then nobody would reap us.
            if nix::unistd::getppid() != parent {
                exit_now(1);
            }
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(wr))).unwrap_or(101);
            exit_now(code)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(wr);
            collect(child, rd, timeout, cap)
        }
    }
}

#[expect(unsafe_code, reason = "fork: the parent is single-threaded (no runtime, no helper threads), so the child may allocate")]
fn fork_raw() -> Result<ForkResult, Errno> {
    // SAFETY: nsdoctor never starts threads; the child only runs probe code and `_exit`s.
    unsafe { nix::unistd::fork() }
}

/// `_exit`: no atexit handlers, no flushing of buffers inherited from the parent.
#[expect(unsafe_code, reason = "_exit is the only correct way to leave a forked child")]
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

fn collect(child: Pid, rd: OwnedFd, timeout: Duration, cap: usize) -> ChildRun {
    let deadline = Instant::now() + timeout;
    let mut output = Vec::new();
    let mut file = std::fs::File::from(rd);
    let mut timed_out = false;
    let mut buf = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            timed_out = true;
            break;
        }
        let ms = u16::try_from(left.as_millis().min(u128::from(u16::MAX))).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        }
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let room = cap.saturating_sub(output.len());
                output.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    drop(file);
    // EOF does not mean the child is gone: give it until the deadline to exit. WNOWAIT keeps the
    // exited child a zombie, so its pid (= the process group id) cannot be reused before the group kill.
    // The child usually exits microseconds after its pipe closes: poll with a short, growing sleep.
    let mut nap = Duration::from_micros(20);
    let exit = loop {
        if timed_out {
            kill_group(child);
            let _ = reap(child);
            break Exit::TimedOut;
        }
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(child), flags) {
            Ok(WaitStatus::StillAlive) => {
                if Instant::now() >= deadline {
                    timed_out = true;
                    continue;
                }
                std::thread::sleep(nap);
                nap = (nap * 2).min(Duration::from_millis(5));
            }
            Ok(_) => {
                // Leftovers in the child's process group die with it.
                let _ = kill(Pid::from_raw(-child.as_raw()), Signal::SIGKILL);
                break reap(child).unwrap_or(Exit::NotStarted(Errno::ECHILD));
            }
            Err(Errno::EINTR) => continue,
            Err(e) => break Exit::NotStarted(e),
        }
    };
    ChildRun { output, exit }
}

fn kill_group(child: Pid) {
    let _ = kill(Pid::from_raw(-child.as_raw()), Signal::SIGKILL);
    let _ = kill(child, Signal::SIGKILL);
}

fn reap(child: Pid) -> Option<Exit> {
    loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, c)) => return Some(Exit::Code(c)),
            Ok(WaitStatus::Signaled(_, s, _)) => return Some(Exit::Signal(s)),
            Ok(_) => continue,
            Err(Errno::EINTR) => continue,
            Err(_) => return None,
        }
    }
}

/// Writes all of `bytes` to the pipe (the child side). Errors are ignored: the parent notices a short report.
pub fn send(fd: &OwnedFd, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        match nix::unistd::write(fd, rest) {
            Ok(0) => return,
            Ok(n) => rest = rest.get(n..).unwrap_or_default(),
            Err(Errno::EINTR) => continue,
            Err(_) => return,
        }
    }
}
