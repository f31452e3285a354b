//! The probe ladder. Each part runs in its own forked child, after the child took on
//! the probed user's identity and the unit's restrictions:
//! * `main`: userns → setgroups → uid-map → gid-map → netns → mountns → mount-slave → mount-tmpfs → pidns →
//!   proc-mount, one process, each step in the namespaces the earlier steps made (bwrap's order).
//! * `usernet`: flag-user-net = `unshare(CLONE_NEWUSER|CLONE_NEWNET)` in one call as bwrap's single clone
//!   does, then the netlink steps in that net namespace. Under Ubuntu's AppArmor transition the combined call
//!   succeeds and the loopback setup is what fails (-EPERM), while a later `unshare(CLONE_NEWNET)` inside the
//!   already-restricted user namespace would fail first: so loopback is probed where bwrap does it.
//! * `syscalls`: clone3 (seccomp tell-tale) and the Landlock ABI.
//! * `flags` (root only): each of CLONE_NEWNET/NEWNS/NEWPID alone without a user namespace. As root it runs in
//!   the `syscalls` child, after clone3 and Landlock (`SyscallsFlags`); in a child of its own when that child
//!   died before reaching it.
//!
//! The parts run concurrently: the parent forks all of them, reads the static facts, then collects every child
//! against one deadline (`child::collect_all`). Each part makes its own namespaces from the same starting
//! point, so none sees another's; the context (identity, process state) comes from the `syscalls` child.
//!
//! The child streams `Begin`/`Done` messages, one JSON line each, so a hang or a seccomp kill is pinned
//! on the step that was running.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{Gid, Uid, getegid, geteuid};
use policy_core::report::{Identity, ProcessState, Step, StepId, StepResult};
use serde::{Deserialize, Serialize};

use super::child::{self, Exit};
use super::evidence::{fact_errno, io_errno};
use super::facts;
use super::netlink;
use super::sys;
use super::user::{Fault, Setup, SetupError, drop_all_caps};

/// Messages from a probe child, one JSON line each.
#[derive(Debug, Serialize, Deserialize)]
enum Msg {
    /// The probed process as it starts probing (after the id change and filters).
    Context(Box<Context>),
    /// The child could not become what it should probe as.
    SetupFailed(SetupError),
    Begin(StepId, String),
    Done(Step),
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Context {
    pub identity: Identity,
    pub process: ProcessState,
}

/// Every step a report holds, in report order: the main ladder, the user+net part, the syscall probes, then the
/// root-only flags. The parts below are slices of it.
pub const STEPS: [StepId; 19] = [
    StepId::Userns,
    StepId::Setgroups,
    StepId::UidMap,
    StepId::GidMap,
    StepId::Netns,
    StepId::Mountns,
    StepId::MountSlave,
    StepId::MountTmpfs,
    StepId::Pidns,
    StepId::ProcMount,
    StepId::FlagUserNet,
    StepId::NetlinkSocket,
    StepId::NetlinkNewaddr,
    StepId::NetlinkNewlink,
    StepId::Clone3,
    StepId::Landlock,
    StepId::FlagNet,
    StepId::FlagMnt,
    StepId::FlagPid,
];

/// The parts of the ladder, each a separate child. The children run concurrently (see [`spawn`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Main,
    UserNet,
    Syscalls,
    Flags,
    /// Root: the syscall probes, then the flags, in one child (neither changes what the other sees: clone3 with
    /// size 0 and the Landlock version query create nothing, and the flags come last).
    SyscallsFlags,
    /// The fast path: the sandbox's own setup in one process, as bwrap makes it (one `unshare` with every
    /// namespace the config asks for, the id maps, the mounts, pid 1 mounting proc, loopback up), then the
    /// syscall probes. Reports every step but the flags; a step the config does not need is skipped.
    Combined {
        net: bool,
    },
}

impl Part {
    /// The steps a part reports, in order.
    pub fn steps(self) -> &'static [StepId] {
        let (main, rest) = STEPS.split_at(10);
        let (user_net, rest) = rest.split_at(4);
        let (syscalls, flags) = rest.split_at(2);
        match self {
            Part::Main => main,
            Part::UserNet => user_net,
            Part::Syscalls => syscalls,
            Part::Flags => flags,
            Part::SyscallsFlags => rest,
            Part::Combined { .. } => STEPS.split_at(16).0,
        }
    }
}

/// The full ladder's parts: as root the flags run in the syscalls child.
pub fn full_parts(root: bool) -> &'static [Part] {
    if root { &[Part::Main, Part::UserNet, Part::SyscallsFlags] } else { &[Part::Main, Part::UserNet, Part::Syscalls] }
}

/// What one part produced.
#[derive(Debug, Default)]
pub struct PartResult {
    pub steps: Vec<Step>,
    pub context: Option<Context>,
    pub setup_failed: Option<SetupError>,
}

/// Forks the child for one part; it takes on the probed identity and restrictions, sends the context when asked,
/// and streams its steps. The parent collects it ([`child::collect_all`]) and hands the run to [`decode`].
/// `timing`: the parent's `NSDOCTOR_TIMING` start, to print when each step is done. `gate`: see [`child::Gate`].
pub fn spawn(
    part: Part,
    setup: &Setup,
    fault: &Fault,
    want_context: bool,
    timing: Option<Instant>,
    gate: Option<&mut child::Gate>,
) -> child::Spawned {
    child::spawn(1 << 20, gate, |fd| {
        // The fast path sends everything at its end, in one write: the parent wakes once, not twice a step. A
        // child that dies on the way sends nothing, and the parent runs the full ladder, which streams.
        let held = matches!(part, Part::Combined { .. }).then(Vec::new);
        let mut l = Ladder { fd, fault: fault.clone(), timing, held };
        if let Err(e) = setup.apply() {
            l.send(&Msg::SetupFailed(e));
            l.flush();
            return 3;
        }
        if want_context {
            let ctx = Context { identity: facts::identity_ids(), process: facts::process_state() };
            l.send(&Msg::Context(Box::new(ctx)));
        }
        match part {
            Part::Main => main_ladder(&mut l),
            Part::UserNet => user_net(&mut l),
            Part::Syscalls => syscalls(&mut l),
            Part::Flags => flags(&mut l),
            Part::SyscallsFlags => {
                syscalls(&mut l);
                flags(&mut l);
            }
            Part::Combined { net } => {
                combined(&mut l, net);
                syscalls(&mut l);
                l.flush();
            }
        }
        0
    })
}

/// Turns what a part's child sent into steps: every step of the part is in the result, run or skipped with the
/// reason (a step running when the child was killed at the deadline is `killed`, with `timed_out_after_secs`).
pub fn decode(part: Part, output: &[u8], exit: Exit, timeout: Duration) -> PartResult {
    let mut res = PartResult::default();
    let mut pending: Option<(StepId, String)> = None;
    for line in output.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        match serde_json::from_slice::<Msg>(line) {
            Ok(Msg::Context(c)) => res.context = Some(*c),
            Ok(Msg::SetupFailed(e)) => res.setup_failed = Some(e),
            Ok(Msg::Begin(id, call)) => pending = Some((id, call)),
            Ok(Msg::Done(step)) => {
                pending = None;
                res.steps.push(step);
            }
            Err(_) => {}
        }
    }
    let mut why_rest = None;
    if let Some((id, call)) = pending {
        let mut data = BTreeMap::new();
        let result = match exit {
            Exit::TimedOut => {
                data.insert("timed_out_after_secs".to_string(), timeout.as_secs().to_string());
                StepResult::Killed { signal: "SIGKILL".to_string() }
            }
            Exit::Signal(s) => StepResult::Killed { signal: s.as_str().to_string() },
            Exit::Code(c) => {
                StepResult::Skipped { reason: format!("probe child exited with status {c} during this step") }
            }
            Exit::NotStarted(e) => StepResult::Failed { errno: fact_errno(e) },
        };
        why_rest = Some(match exit {
            Exit::TimedOut => format!("{} hung and was killed at the {}s timeout", id.as_str(), timeout.as_secs()),
            Exit::Signal(s) => format!("the probe child was killed by {} during {}", s.as_str(), id.as_str()),
            _ => format!("the probe child stopped during {}", id.as_str()),
        });
        res.steps.push(Step { id, syscall: call, result, data });
    }
    let reason = why_rest.unwrap_or_else(|| match (&res.setup_failed, exit) {
        (Some(e), _) => format!("could not switch to the probed user: {e}"),
        (None, Exit::NotStarted(e)) => format!("could not start the probe child: {}", e.desc()),
        (None, Exit::Signal(s)) => format!("the probe child was killed by {}", s.as_str()),
        (None, Exit::TimedOut) => format!("the probe child timed out after {}s", timeout.as_secs()),
        (None, Exit::Code(c)) => format!("the probe child exited with status {c} before this step"),
    });
    for id in part.steps() {
        if !res.steps.iter().any(|s| s.id == *id) {
            res.steps.push(Step {
                id: *id,
                syscall: default_call(*id).to_string(),
                result: StepResult::Skipped { reason: reason.clone() },
                data: BTreeMap::new(),
            });
        }
    }
    res
}

/// The call each step makes (also used when a step never started).
pub fn default_call(id: StepId) -> &'static str {
    match id {
        StepId::Userns => "unshare(CLONE_NEWUSER)",
        StepId::Setgroups => "open(\"/proc/self/setgroups\", O_WRONLY) + write(\"deny\")",
        StepId::UidMap => "write(\"/proc/self/uid_map\")",
        StepId::GidMap => "write(\"/proc/self/gid_map\")",
        StepId::Netns => "unshare(CLONE_NEWNET)",
        StepId::NetlinkSocket => "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) + bind",
        StepId::NetlinkNewaddr => "RTM_NEWADDR 127.0.0.1/8 dev lo (NLM_F_ACK)",
        StepId::NetlinkNewlink => "RTM_NEWLINK lo IFF_UP (NLM_F_ACK)",
        StepId::Mountns => "unshare(CLONE_NEWNS)",
        StepId::MountSlave => "mount(NULL, \"/\", NULL, MS_REC|MS_SLAVE)",
        StepId::MountTmpfs => "mount(\"tmpfs\", \"/tmp\", \"tmpfs\", MS_NODEV|MS_NOSUID)",
        StepId::Pidns => "unshare(CLONE_NEWPID) + fork",
        StepId::ProcMount => "mount(\"proc\", …, \"proc\", MS_NOSUID|MS_NOEXEC|MS_NODEV)",
        StepId::Clone3 => "clone3(NULL, 0)",
        StepId::Landlock => "landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)",
        StepId::FlagNet => "unshare(CLONE_NEWNET)",
        StepId::FlagMnt => "unshare(CLONE_NEWNS)",
        StepId::FlagPid => "unshare(CLONE_NEWPID)",
        StepId::FlagUserNet => "unshare(CLONE_NEWUSER|CLONE_NEWNET)",
    }
}

type Data = BTreeMap<String, String>;

/// The child side: runs steps and streams them to the parent.
struct Ladder {
    fd: OwnedFd,
    fault: Fault,
    timing: Option<Instant>,
    /// Messages held back until [`Ladder::flush`] (the fast path); `None` streams each at once.
    held: Option<Vec<u8>>,
}

impl Ladder {
    fn send(&mut self, msg: &Msg) {
        if let Ok(mut line) = serde_json::to_vec(msg) {
            line.push(b'\n');
            match &mut self.held {
                Some(held) => held.extend_from_slice(&line),
                None => child::send(&self.fd, &line),
            }
        }
    }

    fn flush(&mut self) {
        if let Some(held) = self.held.take() {
            child::send(&self.fd, &held);
        }
    }

    /// Runs a step; true when it succeeded.
    fn step(&mut self, id: StepId, f: impl FnOnce(&mut Data) -> Result<(), Errno>) -> bool {
        let call = default_call(id).to_string();
        self.step_as(id, call, f)
    }

    fn step_as(&mut self, id: StepId, call: String, f: impl FnOnce(&mut Data) -> Result<(), Errno>) -> bool {
        self.send(&Msg::Begin(id, call.clone()));
        if self.fault.hang.as_deref() == Some(id.as_str()) {
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        let mut data = Data::new();
        let result = match f(&mut data) {
            Ok(()) => StepResult::Ok,
            Err(e) => StepResult::Failed { errno: fact_errno(e) },
        };
        let ok = result == StepResult::Ok;
        self.send(&Msg::Done(Step { id, syscall: call, result, data }));
        if let Some(t0) = self.timing {
            eprintln!(
                "nsdoctor timing: {:<12}          at {:>6} µs (child {})",
                id.as_str(),
                t0.elapsed().as_micros(),
                std::process::id()
            );
        }
        ok
    }

    fn skip(&mut self, id: StepId, reason: &str) {
        let step = Step {
            id,
            syscall: default_call(id).to_string(),
            result: StepResult::Skipped { reason: reason.to_string() },
            data: Data::new(),
        };
        self.send(&Msg::Done(step));
    }
}

/// The label and CapEff of the calling process, as seen right after it entered a new user namespace: Ubuntu's
/// restriction shows up here as label `unprivileged_userns` and CapEff 0.
fn record_userns_view(d: &mut Data) {
    match facts::own_apparmor_label() {
        Ok(l) => {
            d.insert("label".to_string(), l);
        }
        Err(e) => {
            d.insert("label_unavailable".to_string(), e.to_string());
        }
    }
    if let Some(cap) = facts::status_field("CapEff") {
        d.insert("cap_eff".to_string(), cap);
    }
}

fn write_proc_self(file: &str, content: &str, d: &mut Data) -> Result<(), Errno> {
    use std::io::Write;
    let path = format!("/proc/self/{file}");
    let mut f = match std::fs::OpenOptions::new().write(true).open(&path) {
        Ok(f) => f,
        Err(e) => {
            d.insert("failed_call".to_string(), "open".to_string());
            return Err(io_errno(&e));
        }
    };
    d.insert("content".to_string(), content.trim_end().to_string());
    f.write_all(content.as_bytes()).map_err(|e| {
        d.insert("failed_call".to_string(), "write".to_string());
        io_errno(&e)
    })
}

/// The first step of a user namespace part: `unshare` with `flags` (CLONE_NEWUSER and any others), then what
/// the process looks like inside.
fn enter_userns(l: &mut Ladder, id: StepId, flags: CloneFlags, call: String) -> bool {
    let drop_caps = l.fault.drop_caps_after_userns;
    l.step_as(id, call, |d| {
        unshare(flags)?;
        if drop_caps {
            let _ = drop_all_caps();
        }
        record_userns_view(d);
        Ok(())
    })
}

/// setgroups=deny, then map our own uid and gid (as they were outside: inside they read as the overflow id
/// until mapped) into the new user namespace (bwrap's order).
fn id_maps(l: &mut Ladder, (uid, gid): (Uid, Gid)) {
    let sg = l.step(StepId::Setgroups, |d| write_proc_self("setgroups", "deny", d));
    l.step_as(StepId::UidMap, format!("write(\"/proc/self/uid_map\", \"{uid} {uid} 1\")"), |d| {
        write_proc_self("uid_map", &format!("{uid} {uid} 1\n"), d)
    });
    l.step_as(StepId::GidMap, format!("write(\"/proc/self/gid_map\", \"{gid} {gid} 1\")"), |d| {
        if !sg {
            // Unprivileged gid_map writes need setgroups=deny first; the attempt still shows the errno.
            d.insert("after".to_string(), "setgroups failed".to_string());
        }
        write_proc_self("gid_map", &format!("{gid} {gid} 1\n"), d)
    });
}

fn main_ladder(l: &mut Ladder) {
    let ids = (geteuid(), getegid());
    let ok_user = enter_userns(l, StepId::Userns, CloneFlags::CLONE_NEWUSER, default_call(StepId::Userns).to_string());
    if !ok_user {
        for id in Part::Main.steps().iter().skip(1) {
            l.skip(*id, "userns failed");
        }
        return;
    }
    id_maps(l, ids);
    l.step(StepId::Netns, |_| unshare(CloneFlags::CLONE_NEWNET));
    let ok_mnt = l.step(StepId::Mountns, |_| unshare(CloneFlags::CLONE_NEWNS));
    mounts_and_proc(l, ok_mnt, None);
}

/// mount-slave, mount-tmpfs, pidns and proc-mount in the mount namespace the caller made (`ok_mnt`). The pid
/// namespace: `unshare(CLONE_NEWPID)` in the pidns step, or, with `pid_made_by`, already made by that call (the
/// step then only forks its pid 1).
fn mounts_and_proc(l: &mut Ladder, ok_mnt: bool, pid_made_by: Option<&str>) {
    let ok_slave = if ok_mnt {
        l.step(StepId::MountSlave, |_| {
            mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_SLAVE, None::<&str>)
        })
    } else {
        l.skip(StepId::MountSlave, "mountns failed");
        false
    };
    // Never mount before "/" is a slave: a shared mount would propagate to the host.
    let ok_tmpfs = if ok_slave {
        l.step(StepId::MountTmpfs, |d| {
            d.insert("target".to_string(), "/tmp".to_string());
            mount(Some("tmpfs"), "/tmp", Some("tmpfs"), MsFlags::MS_NODEV | MsFlags::MS_NOSUID, Some("mode=0755"))
        })
    } else {
        l.skip(StepId::MountTmpfs, if ok_mnt { "mount-slave failed" } else { "mountns failed" });
        false
    };
    let proc_target = if ok_tmpfs {
        match std::fs::create_dir("/tmp/proc") {
            Ok(()) => Some("/tmp/proc"),
            Err(_) => Some("/proc"),
        }
    } else if ok_slave {
        // Over-mounting /proc in this private mount namespace is as telling as bwrap's /newroot/proc.
        Some("/proc")
    } else {
        None
    };
    let mut proc_result: Option<(Result<(), Errno>, Data)> = None;
    let call = match pid_made_by {
        Some(by) => format!("{by} + fork"),
        None => default_call(StepId::Pidns).to_string(),
    };
    let ok_pid = l.step_as(StepId::Pidns, call, |d| {
        if pid_made_by.is_none() {
            unshare(CloneFlags::CLONE_NEWPID)?;
        }
        // The unshare only moves future children: pid 1 of the new namespace mounts proc.
        if let Some(target) = proc_target {
            let (res, pd) = proc_mount_in_child(target);
            if let Err(("fork", e)) = &res {
                d.insert("failed_call".to_string(), "fork".to_string());
                return Err(*e);
            }
            proc_result = Some((res.map_err(|(_, e)| e), pd));
        }
        Ok(())
    });
    match (ok_pid, proc_target, proc_result) {
        (false, _, _) => l.skip(StepId::ProcMount, "pidns failed"),
        (true, None, _) => l.skip(StepId::ProcMount, if ok_mnt { "mount-slave failed" } else { "mountns failed" }),
        (true, Some(target), Some((res, pd))) => {
            let call = format!("mount(\"proc\", \"{target}\", \"proc\", MS_NOSUID|MS_NOEXEC|MS_NODEV)");
            l.step_as(StepId::ProcMount, call, |d| {
                d.extend(pd);
                res
            });
        }
        (true, Some(_), None) => l.skip(StepId::ProcMount, "pidns failed"),
    }
}

/// The fast path ([`Part::Combined`]): one `unshare` with every namespace the sandbox makes, as bwrap's single
/// clone does, then the id maps, the mounts, pid 1 mounting proc and the loopback setup in that process. A step
/// whose namespace that call made records the call, with `made_by` = `userns`. When a step fails the parent
/// runs the full ladder ([`fast_path_held`]).
fn combined(l: &mut Ladder, net: bool) {
    let mut flags = CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWPID;
    let mut call = "unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID)";
    if net {
        flags |= CloneFlags::CLONE_NEWNET;
        call = "unshare(CLONE_NEWUSER|CLONE_NEWNET|CLONE_NEWNS|CLONE_NEWPID)";
    }
    let ids = (geteuid(), getegid());
    if !enter_userns(l, StepId::Userns, flags, call.to_string()) {
        return;
    }
    id_maps(l, ids);
    let made = |l: &mut Ladder, id: StepId| {
        l.step_as(id, call.to_string(), |d| {
            d.insert("made_by".to_string(), StepId::Userns.as_str().to_string());
            Ok(())
        })
    };
    if net {
        made(l, StepId::Netns);
        made(l, StepId::FlagUserNet);
        loopback(l, "combined");
    } else {
        for id in
            [StepId::Netns, StepId::FlagUserNet, StepId::NetlinkSocket, StepId::NetlinkNewaddr, StepId::NetlinkNewlink]
        {
            l.skip(id, NOT_NEEDED);
        }
    }
    made(l, StepId::Mountns);
    mounts_and_proc(l, true, Some(call));
}

/// The reason the fast path gives a network step the sandbox config does not need.
const NOT_NEEDED: &str = "the sandbox config needs no network namespace (nsdoctor check --full probes it)";

/// Whether a [`Part::Combined`] run shows a healthy host: every step succeeded, apart from the Landlock query
/// (an LSM that is off says nothing about namespaces) and the network steps a config without one skips.
pub fn fast_path_held(r: &PartResult) -> bool {
    r.setup_failed.is_none()
        && r.steps.iter().all(|s| match &s.result {
            StepResult::Ok => true,
            _ if s.id == StepId::Landlock => true,
            StepResult::Skipped { reason } => reason == NOT_NEEDED,
            _ => false,
        })
}

/// Starts pid 1 of the new pid namespace, which mounts proc and exits with 0 or the errno.
fn proc_mount_in_child(target: &str) -> (Result<(), (&'static str, Errno)>, Data) {
    use nix::sys::wait::{WaitStatus, waitpid};
    let mut d = Data::new();
    d.insert("target".to_string(), target.to_string());
    let Ok(path) = std::ffi::CString::new(target) else { return (Err(("fork", Errno::EINVAL)), d) };
    let pid = match sys::spawn_pid1_mounting_proc(&path) {
        Ok(pid) => pid,
        Err(e) => return (Err(("fork", e)), d),
    };
    d.insert("pid1".to_string(), "forked".to_string());
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, 0)) => return (Ok(()), d),
            Ok(WaitStatus::Exited(_, c)) => return (Err(("mount", Errno::from_raw(c))), d),
            Ok(WaitStatus::Signaled(_, s, _)) => {
                d.insert("killed_by".to_string(), s.as_str().to_string());
                return (Err(("mount", Errno::EINTR)), d);
            }
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(e) => return (Err(("wait", e)), d),
        }
    }
}

fn user_net(l: &mut Ladder) {
    let flags = CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET;
    if !enter_userns(l, StepId::FlagUserNet, flags, default_call(StepId::FlagUserNet).to_string()) {
        for id in [StepId::NetlinkSocket, StepId::NetlinkNewaddr, StepId::NetlinkNewlink] {
            l.skip(id, "flag-user-net failed");
        }
        return;
    }
    loopback(l, "flag-user-net");
}

/// Brings up loopback in the current network namespace (`netns` names it in the data) as bwrap does: netlink
/// socket, 127.0.0.1/8 on lo, lo up.
fn loopback(l: &mut Ladder, netns: &str) {
    let mut sock = None;
    let ok_sock = l.step(StepId::NetlinkSocket, |d| {
        d.insert("netns".to_string(), netns.to_string());
        match netlink::open() {
            Ok(fd) => {
                sock = Some(fd);
                Ok(())
            }
            Err((call, e)) => {
                d.insert("failed_call".to_string(), call.to_string());
                Err(e)
            }
        }
    });
    let (true, Some(fd)) = (ok_sock, sock) else {
        l.skip(StepId::NetlinkNewaddr, "netlink-socket failed");
        l.skip(StepId::NetlinkNewlink, "netlink-socket failed");
        return;
    };
    let index = netlink::lo_index();
    l.step(StepId::NetlinkNewaddr, |d| ack_step(d, index.and_then(|i| netlink::new_addr(&fd, i))));
    l.step(StepId::NetlinkNewlink, |d| ack_step(d, index.and_then(|i| netlink::link_up(&fd, i))));
}

/// Netlink steps: the step's errno is the negated `nlmsgerr.error`; the raw value is in `nlmsg_error`.
fn ack_step(d: &mut Data, r: Result<netlink::Ack, netlink::Failure>) -> Result<(), Errno> {
    match r {
        Ok(0) => {
            d.insert("nlmsg_error".to_string(), "0".to_string());
            Ok(())
        }
        Ok(err) => {
            d.insert("nlmsg_error".to_string(), err.to_string());
            Err(Errno::from_raw(err.saturating_neg()))
        }
        Err((call, e)) => {
            d.insert("failed_call".to_string(), call.to_string());
            Err(e)
        }
    }
}

fn syscalls(l: &mut Ladder) {
    l.step(StepId::Clone3, |d| {
        // size 0 is below CLONE_ARGS_SIZE_VER0: the kernel answers EINVAL before reading anything and no
        // process is created; a seccomp filter answers first (ENOSYS: Docker, systemd RestrictNamespaces=).
        let e = sys::clone3_null_size0();
        d.insert("errno".to_string(), fact_errno(e).name);
        let reached = matches!(e, Errno::EINVAL | Errno::E2BIG | Errno::EFAULT);
        d.insert("reached_kernel".to_string(), reached.to_string());
        if reached { Ok(()) } else { Err(e) }
    });
    l.step(StepId::Landlock, |d| match sys::landlock_abi_version() {
        Ok(abi) => {
            d.insert("abi".to_string(), abi.to_string());
            Ok(())
        }
        Err(e) => Err(e),
    });
}

fn flags(l: &mut Ladder) {
    // Without a user namespace: attributes a block to one flag (seccomp per-flag rules, container without
    // CAP_SYS_ADMIN). Each namespace is dropped with the child.
    l.step(StepId::FlagNet, |_| unshare(CloneFlags::CLONE_NEWNET));
    l.step(StepId::FlagMnt, |_| unshare(CloneFlags::CLONE_NEWNS));
    l.step(StepId::FlagPid, |_| unshare(CloneFlags::CLONE_NEWPID));
}
