//! systemd unit hardening: `RestrictNamespaces=` (seccomp on clone/unshare flags: EPERM, clone3 ENOSYS),
//! `SystemCallFilter=` (SIGSYS or an errno), `RestrictAddressFamilies=` (no AF_NETLINK: EAFNOSUPPORT),
//! `ProtectKernelTunables=`/`ProcSubset=pid` (no /proc/sys), `PrivateUsers=` and NoNewPrivileges. Rules
//! NSD141–NSD145.
//! The rules' detectors for probe reports are at the end of this file.

use super::observe::{Hint, Op};
use super::{Adj, Facts, Knowledge, Ranked, sign};
use crate::diagnosis::Cause;

pub(crate) const KNOWLEDGE: &[Knowledge] = &[Knowledge {
    cause: Cause::SystemdUnitHardening,
    prior: 0,
    signs: &[
        sign(Op::UnitNamespace, &[], 45),
        sign(Op::SandboxUnavailable, &[], 15),
        sign(Op::CreateUserns, &["EPERM"], 20),
        sign(Op::CreateUserns, &["ENOSYS"], 25),
        sign(Op::CreateNs, &["EPERM", "ENOSYS"], 20),
        sign(Op::SeccompKill, &[], 30),
        sign(Op::NetlinkSocket, &["EAFNOSUPPORT"], 40),
        sign(Op::ProcSys, &[], 40),
        sign(Op::ProcMount, &["EPERM", "ENOENT", "EACCES", "ENOSYS"], 15),
        sign(Op::Mount, &["EPERM"], 8),
        sign(Op::Mount, &["ENOSYS"], 25),
        sign(Op::SetuidHelper, &[], 10),
    ],
    context: unit_context,
    code: unit_code,
}];

fn unit_context(f: &Facts, out: &mut Vec<Adj>) {
    match f.systemd {
        Some(true) => out.push(Adj::By(45, "the sandbox runs inside a systemd service, whose hardening applies to it")),
        Some(false) => return out.push(Adj::Impossible("not run by a systemd unit")),
        None if f.hint(Hint::Systemd) => out.push(Adj::By(25, "the text names a systemd unit")),
        None => out.push(Adj::By(-25, "nothing says a systemd unit runs this")),
    }
    if f.in_container() == Some(true) {
        // Docker's default profile allows namespace calls when CAP_SYS_ADMIN is in the bounding set: a filter
        // that still refuses them is the unit's.
        if f.bnd_sys_admin == Some(true) {
            out.push(Adj::By(
                15,
                "CAP_SYS_ADMIN is in the bounding set, where a container's default profile would allow the call",
            ));
        } else {
            out.push(Adj::By(-10, "a container's profile may be the filter"));
        }
    }
}

fn unit_code(r: &Ranked) -> &'static str {
    if r.has(Op::SeccompKill) {
        "NSD143"
    } else if r.has(Op::NetlinkSocket) {
        "NSD142"
    } else if r.has(Op::ProcSys) || r.has(Op::ProcMount) && !r.has(Op::CreateUserns) {
        "NSD144"
    } else if r.explains.iter().any(|o| o.errno == Some("ENOSYS")) {
        "NSD145"
    } else {
        "NSD141"
    }
}

// ---- detectors for probe reports ----

use super::container::{proc_hardening_ev, seccomp_rule};
use super::kernel::kernel_version;
use crate::ctx::{Cand, Ctx, cand, ev};
use crate::diagnosis::{Confidence, Severity};
use crate::remedy;
use crate::report::{ReplayExit, StepId, StepResult};
use crate::symptoms::SymptomKind as K;

/// NSD141: systemd `RestrictNamespaces=` (seccomp on clone/unshare flags; clone3 → ENOSYS).
pub(crate) fn unit_restrict_namespaces(c: &Ctx) -> Option<Cand> {
    seccomp_rule(c, "NSD141")
}

/// NSD142: `RestrictAddressFamilies=` without AF_NETLINK → socket(AF_NETLINK) EAFNOSUPPORT.
pub(crate) fn unit_address_families(c: &Ctx) -> Option<Cand> {
    let step = c.err(StepId::NetlinkSocket) == Some("EAFNOSUPPORT");
    let text = if c.text_only() { c.sym_errno(&[K::NetlinkSocket], "EAFNOSUPPORT") } else { None };
    if !step && text.is_none() {
        return None;
    }
    let needed = c.needs_netns();
    let sys = c.systemd_ev();
    Some(
        cand(
            "NSD142",
            if needed { if sys.is_some() { 93 } else { 85 } } else { 15 },
            if step && sys.is_some() { Confidence::High } else { Confidence::Medium },
            "Opening a netlink socket fails with EAFNOSUPPORT: the service's `RestrictAddressFamilies=` does not list AF_NETLINK, so bwrap cannot bring up loopback in the sandbox's network namespace (`loopback: Failed to create NETLINK_ROUTE socket`).".to_string(),
            "EAFNOSUPPORT for AF_NETLINK on Linux comes from systemd's address-family filter",
        )
        .sev(if needed { Severity::Error } else { Severity::Info })
        .ev(if step { c.step_ev(StepId::NetlinkSocket, "socket(AF_NETLINK) refused") } else { None })
        .ev(text.map(|s| Ctx::sym_ev(s, "bwrap's netlink socket refused")))
        .ev(c.r.unit.restrict_address_families.get().map(|v| ev("/unit/restrict_address_families", v.clone(), "the unit's allowed families")))
        .ev(sys)
        .fix(if needed { remedy::unit_address_families(c) } else { Vec::new() }),
    )
}

/// NSD143: a seccomp filter that kills (SIGSYS) — systemd `SystemCallFilter=` without `SystemCallErrorNumber=`.
pub(crate) fn unit_syscall_filter_kill(c: &Ctx) -> Option<Cand> {
    let step = c.r.steps.iter().position(|s| matches!(&s.result, StepResult::Killed { signal } if signal == "SIGSYS"));
    let killed = |r: &crate::report::Replay| {
        matches!(&r.exit, ReplayExit::Signaled { signal } if signal == "SIGSYS")
            || matches!(r.exit, ReplayExit::Exited { code: 159 })
    };
    // The sandbox's own run first, whatever the order of the replays (its evidence ranks the finding higher).
    let replay =
        c.sandbox_replay().filter(|(_, r)| killed(r)).map(|(i, _)| i).or_else(|| c.r.replays.iter().position(killed));
    let text = c.sym(&[K::SeccompKill]);
    if step.is_none() && replay.is_none() && text.is_none() {
        return None;
    }
    let sys = c.systemd_ev();
    let behav = step.is_some() || replay.is_some();
    let score = match (behav, sys.is_some()) {
        (true, true) => 94,
        (true, false) => 82,
        (false, true) => 85,
        (false, false) => 65,
    };
    Some(
        cand(
            "NSD143",
            score,
            if behav && sys.is_some() { Confidence::High } else { Confidence::Medium },
            "A seccomp filter kills the sandbox with SIGSYS (exit status 159, audit `type=1326`) when it calls a forbidden syscall — typically mount/umount2/pivot_root under systemd's `SystemCallFilter=@system-service`, which lacks `@mount`. bwrap dies without a message.".to_string(),
            "death by SIGSYS is a seccomp kill action",
        )
        .ev(step.and_then(|i| c.r.steps.get(i)).and_then(|s| c.step_ev(s.id, "killed by SIGSYS")))
        .ev(replay.map(|i| ev(format!("/replays/{i}/exit"), "SIGSYS / exit 159", "bwrap was killed by a seccomp filter")))
        .ev(text.map(|s| Ctx::sym_ev(s, "seccomp kill")))
        .ev(c.r.unit.system_call_filter.get().map(|v| ev("/unit/system_call_filter", v.clone(), "the unit's syscall filter")))
        .ev(sys)
        .fix(remedy::unit_syscall_kill(c)),
    )
}

/// NSD145: the unit's seccomp filter answers a syscall bwrap needs with ENOSYS (the kernel never says ENOSYS
/// for a syscall it has): e.g. `RestrictSUIDSGID=` filtering openat2 (containers/bubblewrap#774).
pub(crate) fn unit_syscall_filter_errno(c: &Ctx) -> Option<Cand> {
    let s = c.syms.iter().find(|s| {
        s.s.errno == Some("ENOSYS") && matches!(s.s.kind, K::BwrapOther | K::MountSlave | K::MountTmpfs | K::ProcMount)
    })?;
    let systemd = c.systemd_ev();
    let filtered = c.seccomp_filtered();
    if filtered == Some(false) || (systemd.is_none() && filtered.is_none()) || c.container() == Some("gvisor") {
        return None; // gVisor lacks some syscalls for real (google/gvisor#14451)
    }
    // openat2 arrived in 5.6: an older kernel's ENOSYS is genuine.
    if c.kernel_release().and_then(kernel_version).is_some_and(|v| v < (5, 6)) {
        return None;
    }
    Some(
        cand("NSD145", if systemd.is_some() { 90 } else { 60 }, if systemd.is_some() { Confidence::Medium } else { Confidence::Low },
            "bwrap failed with ENOSYS (Function not implemented) on a kernel that implements the call: a seccomp filter answered for it. In a systemd service that is the unit's syscall filtering — e.g. `RestrictSUIDSGID=yes` makes openat2 return ENOSYS, which bubblewrap 0.12 needs (containers/bubblewrap#774).".to_string(),
            "ENOSYS from a present syscall comes from a seccomp filter; the systemd unit installed it")
            .ev(Some(Ctx::sym_ev(s, "ENOSYS from inside bwrap")))
            .evs(c.seccomp_evs())
            .ev(systemd)
            .fix(remedy::unit_syscall_errno(c)),
    )
}

/// NSD144: systemd `ProcSubset=pid` (no /proc/sys) or `ProtectKernelTunables=` (locked /proc over-mounts).
pub(crate) fn unit_proc_hardening(c: &Ctx) -> Option<Cand> {
    let subset_fact = c.r.platform.proc_subset_pid.is_true() || c.r.unit.proc_subset.get().is_some_and(|v| v == "pid");
    let subset_text = c.sym(&[K::ProcSysMissing]);
    if subset_fact || subset_text.is_some() {
        return Some(
            cand("NSD144", if subset_fact { 92 } else { 82 }, if subset_fact { Confidence::High } else { Confidence::Medium },
                "The service sees a pid-only procfs (`ProcSubset=pid`): /proc/sys is missing, so bwrap stops at `Can't read /proc/sys/kernel/overflowuid: No such file or directory`.".to_string(),
                "/proc/sys missing is what ProcSubset=pid does")
                .ev(c.r.platform.proc_subset_pid.is_true().then(|| ev("/platform/proc_subset_pid", "true", "/proc/sys is absent")))
                .ev(c.r.unit.proc_subset.get().map(|v| ev("/unit/proc_subset", v.clone(), "the unit's ProcSubset=")))
                .ev(subset_text.map(|s| Ctx::sym_ev(s, "bwrap cannot read /proc/sys")))
                .ev(c.systemd_ev())
                .fix(remedy::unit_proc(c, true)),
        );
    }
    if !c.cfg.namespaces.proc || !c.systemd() {
        return None;
    }
    let hard = proc_hardening_ev(c);
    let step = c.err(StepId::ProcMount) == Some("EPERM");
    let text = if c.text_only() { c.sym(&[K::ProcMount]) } else { None };
    if hard.is_empty() || (!step && text.is_none()) {
        return None;
    }
    Some(
        cand("NSD144", if step { 90 } else { 80 }, if step { Confidence::High } else { Confidence::Medium },
            "The unit's `ProtectKernelTunables=` (or `ProtectKernelLogs=`/`InaccessiblePaths=` under /proc) over-mounts parts of /proc; those mounts are locked in a new user namespace, so the kernel refuses the sandbox's fresh procfs (`Can't mount proc on /newroot/proc: Operation not permitted`).".to_string(),
            "proc mount EPERM in a systemd service whose /proc is over-mounted")
            .ev(if step { c.step_ev(StepId::ProcMount, "EPERM mounting procfs") } else { None })
            .ev(text.map(|s| Ctx::sym_ev(s, "proc mount refused")))
            .evs(hard)
            .ev(c.systemd_ev())
            .fix(remedy::unit_proc(c, false)),
    )
}
