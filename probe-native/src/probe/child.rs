//! Forked children with a deadline. Every namespace syscall runs in a child forked from the
//! single-threaded parent: `unshare(CLONE_NEWUSER)` fails with EINVAL in a multi-threaded caller
//! (unshare(2)) and namespace changes are irreversible for a process. The child reports
//! over a pipe; the parent stops reading at the deadline, SIGKILLs the child's process group and
//! reaps the child, so nothing outlives a run. Any number of children can be in flight: the parent sleeps in
//! one `ppoll` over all their pipes and pidfds with one deadline ([`collect_all`]).

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::signal::{Signal, kill};
use nix::sys::time::TimeSpec;
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

/// A forked child the parent has not finished with: its pipe, what came through it so far, and (once known)
/// how it ended. [`collect_all`] finishes any number of them against one deadline.
#[derive(Debug)]
pub struct Spawned {
    pid: Option<Pid>,
    /// The read end until EOF.
    rd: Option<std::fs::File>,
    /// A pidfd (Linux 5.3+): readable when the child has exited, so the parent sleeps in one `poll` for pipes and
    /// exits alike. `None` (old kernel, filtered syscall): the exit is polled with short naps.
    pidfd: Option<OwnedFd>,
    cap: usize,
    output: Vec<u8>,
    exit: Option<Exit>,
}

impl Spawned {
    pub fn not_started(e: Errno) -> Spawned {
        Spawned { pid: None, rd: None, pidfd: None, cap: 0, output: Vec::new(), exit: Some(Exit::NotStarted(e)) }
    }

    pub fn into_run(self) -> ChildRun {
        ChildRun { output: self.output, exit: self.exit.unwrap_or(Exit::NotStarted(Errno::ECHILD)) }
    }
}

/// The start line for children forked together: each waits at it until the parent has forked them all and
/// [`Gate::open`]s it. A child forked on a busy machine otherwise takes the CPU from the parent before it forks
/// the next one, and the last one forked starts late. One byte per waiting child, so a child's own copy of the
/// write end does not matter.
pub struct Gate {
    rd: OwnedFd,
    wr: OwnedFd,
    waiting: usize,
}

impl Gate {
    pub fn new() -> Option<Gate> {
        pipe2(OFlag::O_CLOEXEC).ok().map(|(rd, wr)| Gate { rd, wr, waiting: 0 })
    }

    /// Lets every child that waits at the gate go.
    pub fn open(&mut self) {
        send(&self.wr, &vec![0u8; self.waiting]);
        self.waiting = 0;
    }

    fn pass(&self) {
        let mut b = [0u8; 1];
        while let Err(Errno::EINTR) = nix::unistd::read(&self.rd, &mut b) {}
    }
}

/// Forks. The child becomes its own process group leader, asks to be SIGKILLed when the parent dies, waits at
/// `gate` if given, runs `body` with the pipe's write end and `_exit`s with its return value. The parent keeps
/// at most `cap` bytes of what the child (and anything that inherited the pipe) writes, in [`collect_all`].
pub fn spawn(cap: usize, gate: Option<&mut Gate>, body: impl FnOnce(OwnedFd) -> i32) -> Spawned {
    let (rd, wr) = match pipe2(OFlag::O_CLOEXEC) {
        Ok(p) => p,
        Err(e) => return Spawned::not_started(e),
    };
    let parent = getpid();
    match fork_raw() {
        Err(e) => Spawned::not_started(e),
        Ok(ForkResult::Child) => {
            drop(rd);
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
            // The parent may have died between fork and prctl: then nobody would reap us.
            if nix::unistd::getppid() != parent {
                exit_now(1);
            }
            if let Some(g) = &gate {
                g.pass();
            }
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(wr))).unwrap_or(101);
            exit_now(code)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(wr);
            if let Some(g) = gate {
                g.waiting += 1;
            }
            // The parent sets the group too (as shells do), so a kill of the group cannot miss a child that has
            // not run yet.
            let _ = nix::unistd::setpgid(child, child);
            Spawned {
                pid: Some(child),
                rd: Some(std::fs::File::from(rd)),
                pidfd: pidfd_open(child),
                cap,
                output: Vec::new(),
                exit: None,
            }
        }
    }
}

#[expect(
    unsafe_code,
    reason = "fork: the parent is single-threaded (no runtime, no helper threads), so the child may allocate"
)]
fn fork_raw() -> Result<ForkResult, Errno> {
    // SAFETY: nsdoctor never starts threads; the child only runs probe code and `_exit`s.
    unsafe { nix::unistd::fork() }
}

#[expect(unsafe_code, reason = "pidfd_open has no wrapper in nix 0.32; the fd it returns is owned by us")]
fn pidfd_open(pid: Pid) -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open(pid, 0) takes no pointers; on success it returns a new fd nobody else owns.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    let fd = i32::try_from(r).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: `fd` was just returned by the kernel and is not owned elsewhere.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `_exit`: no atexit handlers, no flushing of buffers inherited from the parent.
#[expect(unsafe_code, reason = "_exit is the only correct way to leave a forked child")]
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// Finishes children against one deadline, sleeping in a single `ppoll` over every open pipe and, after a
/// pipe's EOF, the child's pidfd. At the deadline, what is already there is still taken (pipes drained, exits
/// picked up: a child that finished while the parent was busy elsewhere has not timed out); a child still
/// writing or running then is SIGKILLed with its process group and reaped (`Exit::TimedOut`). A child that
/// exited has its leftover process group killed and is reaped. On return every child has an exit and none is
/// left running or unreaped.
pub fn collect_all(children: &mut [Spawned], deadline: Instant) {
    let mut buf = [0u8; 8192];
    // Naps for children whose exit cannot be polled (no pidfd): short and growing, as a child usually exits
    // microseconds after its pipe closes.
    let mut nap = Duration::from_micros(20);
    // Passes after the deadline that still found something: bounded, so a child that writes without end is
    // killed all the same.
    let mut late_passes = 0u32;
    loop {
        let mut progress = false;
        // Children whose pipe is closed: have they exited? (WNOWAIT keeps an exited child a zombie, so its pid,
        // which is its process group id, cannot be reused before the group kill.)
        for c in children.iter_mut().filter(|c| c.exit.is_none() && c.rd.is_none()) {
            if let Some(exit) = c.pid.and_then(try_finish) {
                c.exit = Some(exit);
                c.pidfd = None;
                progress = true;
            }
        }
        if children.iter().all(|c| c.exit.is_some()) {
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let napping = children.iter().any(|c| c.exit.is_none() && c.rd.is_none() && c.pidfd.is_none());
        let wait = if napping { left.min(nap) } else { left };
        let mut fds = Vec::with_capacity(children.len());
        let mut owners = Vec::with_capacity(children.len());
        for (i, c) in children.iter().enumerate().filter(|(_, c)| c.exit.is_none()) {
            if let Some(rd) = &c.rd {
                fds.push(PollFd::new(rd.as_fd(), PollFlags::POLLIN));
                owners.push((i, true));
            } else if let Some(pfd) = &c.pidfd {
                fds.push(PollFd::new(pfd.as_fd(), PollFlags::POLLIN));
                owners.push((i, false));
            }
        }
        let ready: Vec<(usize, bool)> = if fds.is_empty() {
            // Only children without a pidfd are left, their pipes closed.
            if !left.is_zero() {
                std::thread::sleep(wait);
            }
            Vec::new()
        } else {
            match ppoll(&mut fds, Some(TimeSpec::from_duration(wait)), None) {
                Ok(0) | Err(Errno::EINTR) => Vec::new(),
                Ok(_) => fds
                    .iter()
                    .zip(&owners)
                    .filter(|(f, _)| f.revents().is_some_and(|r| !r.is_empty()))
                    .map(|(_, o)| *o)
                    .collect(),
                // ppoll itself failing (ENOMEM): stop reading, wait for the exits.
                Err(_) => {
                    drop(fds);
                    for c in children.iter_mut() {
                        c.rd = None;
                    }
                    continue;
                }
            }
        };
        if napping {
            nap = (nap * 2).min(Duration::from_millis(5));
        }
        for (i, is_pipe) in ready {
            progress = true;
            let Some(c) = children.get_mut(i) else { continue };
            // A pidfd that fired: the exit is picked up at the top of the loop.
            let (true, Some(file)) = (is_pipe, c.rd.as_mut()) else { continue };
            match file.read(&mut buf) {
                Ok(0) => c.rd = None,
                Ok(n) => {
                    let room = c.cap.saturating_sub(c.output.len());
                    c.output.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => c.rd = None,
            }
        }
        if left.is_zero() {
            late_passes += 1;
        }
        if left.is_zero() && (!progress || late_passes > 64) {
            for c in children.iter_mut().filter(|c| c.exit.is_none()) {
                if let Some(pid) = c.pid {
                    kill_group(pid);
                    let _ = reap(pid);
                }
                c.rd = None;
                c.pidfd = None;
                c.exit = Some(Exit::TimedOut);
            }
            return;
        }
    }
}

/// The exit of a child whose pipe is closed, if it has exited: its leftover process group is killed and it is
/// reaped. `None` while it runs.
fn try_finish(child: Pid) -> Option<Exit> {
    loop {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(child), flags) {
            Ok(WaitStatus::StillAlive) => return None,
            Ok(_) => {
                // Leftovers in the child's process group die with it.
                let _ = kill(Pid::from_raw(-child.as_raw()), Signal::SIGKILL);
                return Some(reap(child).unwrap_or(Exit::NotStarted(Errno::ECHILD)));
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Some(Exit::NotStarted(e)),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A process of this group that is not a zombie (a killed grandchild waits for init to reap it).
    fn group_running(pgid: Pid) -> bool {
        let Ok(rd) = std::fs::read_dir("/proc") else { return false };
        rd.filter_map(Result::ok).any(|e| {
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { return false };
            let Some((_, rest)) = stat.rsplit_once(')') else { return false };
            let f: Vec<&str> = rest.split_whitespace().collect();
            f.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pgid.as_raw()) && f.first() != Some(&"Z")
        })
    }

    // The children only write, sleep and `_exit` (no allocation), so forking from the test harness is safe. The
    // tests take turns: a child forked by one test thread would inherit another test's pipe write end (nsdoctor
    // itself is single-threaded and drops each write end right after its fork).
    static FORKING: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn turn() -> std::sync::MutexGuard<'static, ()> {
        FORKING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[test]
    fn collect_all_one_deadline_for_many_children() {
        let _turn = turn();
        // A quick child, a hung child, a child that floods its pipe, and a child whose grandchild keeps the pipe
        // open after the child exits.
        let start = Instant::now();
        let mut kids = vec![
            spawn(1024, None, |fd| {
                send(&fd, b"done\n");
                7
            }),
            spawn(1024, None, |fd| {
                send(&fd, b"begin\n");
                std::thread::sleep(Duration::from_secs(60));
                0
            }),
            spawn(16, None, |fd| {
                loop {
                    send(&fd, &[b'x'; 4096]);
                }
            }),
            spawn(1024, None, |fd| {
                if let Ok(ForkResult::Child) = fork_raw() {
                    std::thread::sleep(Duration::from_secs(60));
                    exit_now(0);
                }
                send(&fd, b"parent gone\n");
                0
            }),
        ];
        let pids: Vec<Pid> = kids.iter().filter_map(|k| k.pid).collect();
        collect_all(&mut kids, start + Duration::from_millis(400));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(400) && took < Duration::from_secs(5), "{took:?}");
        let runs: Vec<ChildRun> = kids.into_iter().map(Spawned::into_run).collect();
        assert_eq!(runs[0].exit, Exit::Code(7));
        assert_eq!(runs[0].output, b"done\n");
        assert_eq!(runs[1].exit, Exit::TimedOut);
        assert_eq!(runs[1].output, b"begin\n");
        assert_eq!(runs[2].exit, Exit::TimedOut);
        assert_eq!(runs[2].output.len(), 16, "capped");
        // The grandchild held the pipe: as before, the run counts as timed out and the whole group is killed.
        assert_eq!(runs[3].exit, Exit::TimedOut);
        assert_eq!(runs[3].output, b"parent gone\n");
        // Every child is reaped; nothing of their groups runs on (SIGKILL lands at once, give it a moment).
        for pid in pids {
            assert_eq!(waitpid(pid, Some(WaitPidFlag::WNOHANG)), Err(Errno::ECHILD), "{pid} not reaped");
            let t = Instant::now();
            while group_running(pid) && t.elapsed() < Duration::from_secs(2) {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert!(!group_running(pid), "group {pid} still running");
        }
    }

    #[test]
    fn a_child_that_finished_before_a_late_collect_has_not_timed_out() {
        let _turn = turn();
        let kid = spawn(1024, None, |fd| {
            send(&fd, b"ok\n");
            0
        });
        // The parent was busy past the deadline; the child ended long before.
        std::thread::sleep(Duration::from_millis(150));
        let mut kids = [kid];
        collect_all(&mut kids, Instant::now());
        let [kid] = kids;
        let run = kid.into_run();
        assert_eq!(run.exit, Exit::Code(0));
        assert_eq!(run.output, b"ok\n");
    }

    #[test]
    fn exit_without_pidfd_is_polled() {
        let _turn = turn();
        let mut kid = spawn(1024, None, |fd| {
            send(&fd, b"ok\n");
            std::thread::sleep(Duration::from_millis(30));
            3
        });
        kid.pidfd = None;
        let mut kids = [kid];
        collect_all(&mut kids, Instant::now() + Duration::from_secs(5));
        let [kid] = kids;
        assert_eq!(kid.into_run().exit, Exit::Code(3));
    }

    #[test]
    fn gated_children_start_when_the_gate_opens() {
        let _turn = turn();
        let Some(mut gate) = Gate::new() else { panic!("pipe2") };
        let mut kids: Vec<Spawned> = (0..3)
            .map(|_| {
                spawn(1024, Some(&mut gate), |fd| {
                    send(&fd, b"go");
                    0
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        for k in &kids {
            let Some(rd) = &k.rd else { panic!("no pipe") };
            let mut fds = [PollFd::new(rd.as_fd(), PollFlags::POLLIN)];
            assert_eq!(
                ppoll(&mut fds, Some(TimeSpec::from_duration(Duration::ZERO)), None),
                Ok(0),
                "a child ran before the gate opened"
            );
        }
        gate.open();
        collect_all(&mut kids, Instant::now() + Duration::from_secs(5));
        for k in kids {
            let run = k.into_run();
            assert_eq!((run.exit, run.output), (Exit::Code(0), b"go".to_vec()));
        }
    }
}
