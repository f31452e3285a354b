//! Kernel switches and counts: Debian's `kernel.unprivileged_userns_clone` (EPERM for unprivileged callers;
//! default 0 on Debian ≤ 10 and linux-hardened), `user.max_*_namespaces` (ENOSPC; 0 by default on RHEL/CentOS
//! 7.4+, where the 3.10 kernel answers EINVAL), and an outer sandbox that forbids nesting. Rules NSD111,
//! NSD121–NSD123.
//! The rules' detectors for probe reports are at the end of this file.

use super::observe::{Hint, Op};
use super::{Adj, Facts, Knowledge, Ranked, root_outside_container, sign};
use crate::diagnosis::Cause;

pub(crate) const KNOWLEDGE: &[Knowledge] = &[
    Knowledge {
        cause: Cause::UnprivilegedUsernsCloneDisabled,
        prior: 2,
        signs: &[
            sign(Op::CreateUserns, &["EPERM"], 30),
            sign(Op::CreateNs, &["EPERM"], 5),
            sign(Op::SandboxUnavailable, &[], 12),
            sign(Op::SetuidHelper, &[], 10),
        ],
        context: clone_context,
        code: |_| "NSD111",
    },
    Knowledge {
        cause: Cause::UsernsLimitZero,
        prior: 1,
        signs: &[
            sign(Op::CreateUserns, &["ENOSPC"], 40),
            sign(Op::CreateUserns, &["EINVAL"], 12),
            sign(Op::CreateNs, &["ENOSPC"], 35),
            sign(Op::IdHelper, &["ENOSPC"], 20),
            sign(Op::UnitNamespace, &[], 10),
            sign(Op::SetuidHelper, &[], 4),
        ],
        context: limit_context,
        code: limit_code,
    },
    Knowledge {
        cause: Cause::NestedUsernsLimit,
        prior: 0,
        signs: &[
            sign(Op::CreateUserns, &["ENOSPC"], 30),
            sign(Op::CreateUserns, &["EPERM"], 20),
            sign(Op::CreateUserns, &["EACCES"], 10),
            sign(Op::Setgroups, &["EPERM", "EACCES"], 20),
            sign(Op::IdMap, &["EPERM", "EACCES"], 20),
            sign(Op::SetuidHelper, &[], 15),
            sign(Op::SandboxUnavailable, &[], 15),
            sign(Op::Loopback, &[], 10),
            sign(Op::Mount, &["EPERM"], 8),
            sign(Op::ProcMount, &["EPERM"], 8),
        ],
        context: nested_context,
        code: |_| "NSD123",
    },
];

fn clone_context(f: &Facts, out: &mut Vec<Adj>) {
    match f.clone_sysctl {
        Some(Some(0)) => out.push(Adj::By(60, "kernel.unprivileged_userns_clone is 0")),
        Some(Some(_)) => return out.push(Adj::Impossible("kernel.unprivileged_userns_clone is not 0")),
        Some(None) => return out.push(Adj::Impossible("this kernel has no unprivileged_userns_clone switch")),
        None => {}
    }
    if f.hint(Hint::CloneSysctlZero) {
        out.push(Adj::By(60, "the text shows kernel.unprivileged_userns_clone = 0"));
    }
    if root_outside_container(f) {
        return out.push(Adj::Impossible("root is exempt from kernel.unprivileged_userns_clone"));
    }
    if f.wsl.is_some() {
        return out.push(Adj::Impossible("WSL kernels have no unprivileged_userns_clone switch"));
    }
    let hardened = f.kernel.as_deref().is_some_and(|k| k.contains("hardened"));
    if hardened {
        out.push(Adj::By(40, "linux-hardened kernels default kernel.unprivileged_userns_clone to 0"));
    }
    match (f.distro.as_deref(), f.major()) {
        (Some("debian" | "raspbian" | "devuan" | "mx"), Some(v)) if v <= 10 => {
            out.push(Adj::By(45, "Debian 10 and older default kernel.unprivileged_userns_clone to 0"))
        }
        (Some("debian" | "raspbian" | "devuan" | "kali" | "mx" | "pureos" | "parrot"), _)
            if f.in_container() != Some(true) =>
        {
            out.push(Adj::By(10, "Debian kernels carry the switch, and it may have been set to 0"))
        }
        (Some("debian" | "raspbian" | "devuan" | "kali" | "mx" | "pureos" | "parrot"), _) => {}
        (Some("arch" | "manjaro" | "endeavouros" | "artix"), _) if f.kernel_version().is_some_and(|v| v < (5, 1)) => {
            out.push(Adj::By(25, "Arch kernels before 5.1 shipped unprivileged user namespaces off"))
        }
        (Some("arch" | "manjaro" | "endeavouros" | "artix"), _) => {}
        (Some(_), _) if f.ubuntu_family() => out.push(Adj::By(-20, "Ubuntu kernels default the switch to 1")),
        (Some(_), _) if !hardened => out.push(Adj::By(-40, "this distro's kernels do not have the Debian switch")),
        _ => {}
    }
    if f.in_container() == Some(true) {
        out.push(Adj::By(-10, "inside a container a seccomp filter is the commoner EPERM"));
    }
    if f.nested() {
        out.push(Adj::By(-20, "inside an outer sandbox"));
    }
    if f.chroot == Some(true) {
        out.push(Adj::By(-30, "the caller is chrooted"));
    }
}

fn limit_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.wsl == Some(1) {
        return out.push(Adj::Impossible("WSL1 has no namespaces at all"));
    }
    if f.max_userns_zero == Some(true) || f.hint(Hint::LimitZero) {
        out.push(Adj::By(55, "a user.max_*_namespaces limit is 0"));
    } else if f.max_userns_zero == Some(false) {
        out.push(Adj::By(-20, "the visible limits are not 0 (only exhaustion or an ancestor's limit remain)"));
    }
    match f.el() {
        Some(7) if el7_before_74(f) => {
            out.push(Adj::By(5, "RHEL/CentOS 7 before 7.4 had user namespaces off in the kernel, not by a limit"))
        }
        Some(7) => out.push(Adj::By(45, "RHEL/CentOS 7.4+ ship user.max_user_namespaces=0")),
        Some(6) => out.push(Adj::By(-20, "EL6 kernels have no usable user namespaces")),
        _ => {}
    }
    if f.nested() {
        out.push(Adj::By(-15, "inside an outer sandbox, whose limit is the nesting one"));
    }
}

/// RHEL/CentOS 7.0–7.3 (kernel builds before 3.10.0-693) had no `max_user_namespaces`; the
/// `user_namespace.enable` boot flag was off.
pub(crate) fn el7_before_74(f: &Facts) -> bool {
    if let Some(k) = f.kernel.as_deref() {
        if let Some(rest) = k.strip_prefix("3.10.0-") {
            let build: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(b) = build.parse::<u32>() {
                return b < 693;
            }
        }
    }
    f.version_minor && f.version.is_some_and(|v| (700..704).contains(&v))
}

fn limit_code(r: &Ranked) -> &'static str {
    let net_only = r.explains.iter().all(|o| o.op == Op::CreateNs && o.line.to_ascii_lowercase().contains("net"));
    if net_only { "NSD122" } else { "NSD121" }
}

fn nested_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.nested() {
        out.push(Adj::By(55, "already inside a Flatpak/bwrap sandbox, which forbids further user namespaces"));
    } else if matches!(f.container, Some("none")) {
        out.push(Adj::By(-35, "not inside another sandbox"));
    } else {
        out.push(Adj::By(-25, "nothing says this ran inside another sandbox"));
    }
}

// ---- detectors for probe reports ----

use crate::ctx::{Cand, Ctx, cand, ev};
use crate::diagnosis::{Confidence, Evidence, Severity};
use crate::remedy;
use crate::report::StepId;
use crate::symptoms::SymptomKind as K;

/// NSD111: Debian/Arch `kernel.unprivileged_userns_clone=0` (EPERM for callers without CAP_SYS_ADMIN).
pub(crate) fn userns_clone_sysctl_disabled(c: &Ctx) -> Option<Cand> {
    if c.privileged() == Some(true) {
        // capable(CAP_SYS_ADMIN) passes the check, but every unprivileged user (a service user) is blocked.
        let v = c.r.sysctl.unprivileged_userns_clone.get().filter(|v| **v == 0)?;
        return Some(
            cand("NSD111", 30, Confidence::High,
                "The probe ran as root, which `kernel.unprivileged_userns_clone=0` does not stop; any unprivileged user, such as a service user, is blocked. Probe as that user: `sudo nsdoctor check --as-user <user>`.".to_string(),
                "informational for root; blocking for every other user")
                .sev(Severity::Info)
                .ev(Some(ev("/sysctl/unprivileged_userns_clone", v.to_string(), "0 = only CAP_SYS_ADMIN may create user namespaces")))
                .ev(c.r.identity.euid.get().map(|u| ev("/identity/euid", u.to_string(), "the probe ran as root")))
                .fix(remedy::userns_clone_sysctl(c)),
        );
    }
    let sys = c.r.sysctl.unprivileged_userns_clone.get().copied();
    let sys_ev = sys.map(|v| {
        ev("/sysctl/unprivileged_userns_clone", v.to_string(), "0 = only CAP_SYS_ADMIN may create user namespaces")
    });
    let step = c.userns_err();
    if sys == Some(0) {
        if step.is_some_and(|e| e != "EPERM") || c.userns_ok() {
            return None;
        }
        let behav = step == Some("EPERM");
        let (score, conf) = if behav { (97, Confidence::High) } else { (75, Confidence::Medium) };
        return Some(
            cand(
                "NSD111",
                score,
                conf,
                "The kernel's `kernel.unprivileged_userns_clone` switch (a Debian/Arch patch, default 0 on Debian ≤ 10 and linux-hardened) is 0, so only root may create user namespaces. bwrap reports `No permissions to create new namespace`.".to_string(),
                if behav { "unshare(CLONE_NEWUSER) fails with EPERM and the sysctl that causes exactly that is 0" } else { "the sysctl is 0; no behavioural step confirms it" },
            )
            .ev(c.step_ev(c.userns_step(), "EPERM at creation"))
            .ev(sys_ev)
            .ev(c.distro_ev())
            .fix(remedy::userns_clone_sysctl(c)),
        );
    }
    if sys.is_some() || !c.text_only() {
        return None;
    }
    // Chromium/Electron fall back to their setuid helper only when user namespaces are unavailable: on a
    // distro whose kernel defaults the switch to 0, that is the first cause to look at.
    let hardened = c.kernel_release().is_some_and(|k| k.contains("hardened"));
    let default_off = hardened || (c.distro_id() == Some("debian") && c.version_major().is_some_and(|v| v <= 10));
    if let Some(s) = c.sym(&[K::SuidHelperMisconfigured, K::NoUsableSandbox]).filter(|_| default_off) {
        return Some(
            cand("NSD111", 60, Confidence::Low,
                "The program fell back to its setuid sandbox helper, which it only does when user namespaces are unavailable; this distro's kernel forbids unprivileged user namespaces by default (`kernel.unprivileged_userns_clone=0`).".to_string(),
                "the setuid fallback ran on a kernel whose switch defaults to 0")
                .ev(Some(Ctx::sym_ev(s, "the namespace sandbox was unavailable")))
                .ev(c.distro_ev())
                .fix(remedy::userns_clone_sysctl(c)),
        );
    }
    // Text only: EPERM at creation. Which distros default the switch to 0 decides the score.
    let (e, s) = c.text_create_errno()?;
    if e != "EPERM" || c.r.process.chrooted.is_true() {
        return None;
    }
    let (score, why): (u32, &str) = match (c.distro_id(), c.version_major()) {
        _ if hardened => (85, "linux-hardened kernels default the switch to 0"),
        (Some("debian"), Some(v)) if v <= 10 => (82, "Debian 10 and older default the switch to 0"),
        (Some("debian"), _) => (45, "Debian 11+ default it to 1, but it may have been set to 0"),
        (Some("arch"), _) => (45, "Arch's linux-hardened defaults it to 0"),
        (None, _) => (45, "EPERM at creation is most often this switch or a seccomp filter"),
        _ => (25, "this distro's kernels usually lack the switch"),
    };
    let context_penalty = if c.container().is_some() || c.systemd() { 20 } else { 0 };
    Some(
        cand(
            "NSD111",
            score.saturating_sub(context_penalty),
            Confidence::Low,
            "bwrap/unshare got EPERM creating the user namespace. Without other facts the usual cause is `kernel.unprivileged_userns_clone=0`.".to_string(),
            why,
        )
        .ev(Some(Ctx::sym_ev(s, "EPERM creating the namespace")))
        .ev(c.distro_ev())
        .fix(remedy::userns_clone_sysctl(c)),
    )
}

pub(crate) fn zero_limits(c: &Ctx, keys: &[&'static str]) -> Vec<(&'static str, Evidence)> {
    let s = &c.r.sysctl;
    let mut v = Vec::new();
    for k in keys {
        let f = match *k {
            "max_user_namespaces" => &s.max_user_namespaces,
            "max_net_namespaces" => &s.max_net_namespaces,
            "max_mnt_namespaces" => &s.max_mnt_namespaces,
            _ => &s.max_pid_namespaces,
        };
        if f.get() == Some(&0) {
            v.push((*k, ev(format!("/sysctl/{k}"), "0", format!("user.{k} = 0 forbids creating that namespace"))));
        }
    }
    v
}

/// NSD121: ENOSPC creating a user/mount/pid namespace, or a limit at 0 (not net alone: NSD122).
pub(crate) fn userns_limit_reached(c: &Ctx) -> Option<Cand> {
    let zero = zero_limits(c, &["max_user_namespaces", "max_mnt_namespaces", "max_pid_namespaces"]);
    let enospc: Vec<StepId> = [StepId::Userns, StepId::FlagUserNet, StepId::Mountns, StepId::Pidns]
        .into_iter()
        .filter(|id| c.err(*id) == Some("ENOSPC"))
        .filter(|id| {
            *id != StepId::FlagUserNet || c.err(StepId::Userns) == Some("ENOSPC") || c.r.step(StepId::Userns).is_none()
        })
        .collect();
    let nested = c.nested_ctx();
    // RHEL/CentOS 7 kernels answer EINVAL, not ENOSPC, when max_user_namespaces is 0 (containers/bubblewrap#216).
    if c.userns_err() == Some("EINVAL") && c.rhel7() && zero.iter().any(|(k, _)| *k == "max_user_namespaces") {
        return Some(
            cand("NSD121", 96, Confidence::High,
                "`user.max_user_namespaces` is 0, the RHEL/CentOS 7.4+ default; this kernel reports it as EINVAL (bwrap: `kernel does not support user namespaces`), although CONFIG_USER_NS is on.".to_string(),
                "EINVAL at creation on a RHEL 7 kernel whose user-namespace limit is 0")
                .ev(c.step_ev(c.userns_step(), "EINVAL: RHEL 7's answer when the limit is 0"))
                .evs(zero.into_iter().map(|(_, e)| e))
                .ev(c.kernel_release().map(|k| ev("/kernel/release", k, "a RHEL 7 kernel")))
                .fix(remedy::userns_limits(c, &["max_user_namespaces"])),
        );
    }
    let keys: Vec<&str> = if zero.is_empty() {
        vec!["max_user_namespaces", "max_mnt_namespaces", "max_pid_namespaces"]
    } else {
        zero.iter().map(|(k, _)| *k).collect()
    };
    if !enospc.is_empty() {
        if zero.is_empty() && nested.is_some() {
            return None; // NSD123: an ancestor's limit or the nesting depth.
        }
        let (score, conf, why) = if zero.is_empty() {
            (
                80,
                Confidence::Medium,
                "ENOSPC at creation means a namespace count limit; the visible limits are not 0, so an ancestor namespace's limit or the count is exhausted",
            )
        } else {
            (98, Confidence::High, "ENOSPC at creation and the limit that causes it is 0")
        };
        let mut cd = cand(
            "NSD121",
            score,
            conf,
            "Creating the namespace failed with ENOSPC: a `user.max_*_namespaces` limit is 0 or used up (limits count in every ancestor user namespace). bwrap reports `Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)`.".to_string(),
            why,
        );
        for id in enospc {
            cd = cd.ev(c.step_ev(id, "ENOSPC: a namespace count limit"));
        }
        return Some(cd.evs(zero.into_iter().map(|(_, e)| e)).ev(c.distro_ev()).fix(remedy::userns_limits(c, &keys)));
    }
    if !zero.is_empty() {
        if c.userns_ok() && zero.iter().all(|(k, _)| *k == "max_user_namespaces") {
            return None; // contradicts the behaviour (e.g. root); trust behaviour.
        }
        let behav = c.has_steps();
        return Some(
            cand(
                "NSD121",
                if behav { 70 } else { 78 },
                Confidence::Medium,
                "A `user.max_*_namespaces` limit is 0, so that namespace cannot be created by anyone (RHEL/CentOS 7.4+ default; STIG/CIS hardening).".to_string(),
                "the limit is 0; no behavioural step shows the failure",
            )
            .evs(zero.into_iter().map(|(_, e)| e))
            .ev(c.distro_ev())
            .fix(remedy::userns_limits(c, &keys)),
        );
    }
    if !c.text_only() {
        return None;
    }
    // Text: ENOSPC, or RHEL 7's EINVAL with user namespaces off.
    if let Some(s) =
        c.sym(&[K::BwrapCreateEnospc]).or_else(|| c.sym_errno(&[K::UnshareFailed, K::CannotClone], "ENOSPC"))
    {
        let score = if c.nested_ctx().is_some() { 55 } else { 85 };
        return Some(
            cand("NSD121", score, Confidence::Medium, "The text reports ENOSPC creating a namespace: a `user.max_*_namespaces` limit is 0 or exhausted (possibly in an ancestor namespace).".to_string(), "ENOSPC at creation has one mechanism: namespace count limits")
                .ev(Some(Ctx::sym_ev(s, "ENOSPC creating the namespace")))
                .ev(c.distro_ev())
                .fix(remedy::userns_limits(c, &keys)),
        );
    }
    if c.rhel7() {
        if let Some((_, s)) = c.text_create_errno().filter(|(e, _)| *e == "EINVAL") {
            return Some(
                cand("NSD121", 75, Confidence::Medium, "On RHEL/CentOS 7 user namespaces are off by default (`user.max_user_namespaces=0` since 7.4, `user_namespace.enable=0` before); bwrap then reports the EINVAL wording (containers/bubblewrap#216).".to_string(), "RHEL 7 ships user namespaces disabled")
                    .ev(Some(Ctx::sym_ev(s, "EINVAL creating the namespace")))
                    .ev(c.distro_ev())
                    .fix(remedy::userns_limits(c, &["max_user_namespaces"])),
            );
        }
    }
    None
}

/// NSD122: the net namespace alone hits ENOSPC / `max_net_namespaces=0`. Blocking only with network `none`.
pub(crate) fn netns_limit_reached(c: &Ctx) -> Option<Cand> {
    let zero = zero_limits(c, &["max_net_namespaces"]);
    let step = [StepId::Netns, StepId::FlagUserNet].into_iter().find(|id| c.err(*id) == Some("ENOSPC"));
    if step == Some(StepId::FlagUserNet) && c.err(StepId::Userns) == Some("ENOSPC") {
        return None; // the user namespace itself, NSD121
    }
    if step.is_none() && zero.is_empty() {
        return None;
    }
    let needed = c.needs_netns();
    let (score, sev) = if needed {
        (if step.is_some() && !zero.is_empty() { 95 } else { 85 }, Severity::Error)
    } else {
        (15, Severity::Info)
    };
    let conf = if step.is_some() && !zero.is_empty() { Confidence::High } else { Confidence::Medium };
    let summary = if needed {
        "Creating the network namespace fails with ENOSPC: `user.max_net_namespaces` is 0 or exhausted. With network access off the sandbox needs its own net namespace (`--unshare-net`), so it cannot start.".to_string()
    } else {
        "Network namespaces cannot be created (`user.max_net_namespaces` is 0 or exhausted), but this sandbox's network mode does not create one, so it is not affected.".to_string()
    };
    let mut cd = cand(
        "NSD122",
        score,
        conf,
        summary,
        if needed {
            "the net namespace step fails with ENOSPC and the sandbox needs it"
        } else {
            "not blocking: the sandbox keeps the container/host network"
        },
    )
    .sev(sev)
    .evs(zero.into_iter().map(|(_, e)| e))
    .ev(Some(ev(
        "/config/network",
        if needed { "none" } else { "not none" },
        "whether the sandbox creates a net namespace",
    )));
    if let Some(id) = step {
        cd = cd.ev(c.step_ev(id, "ENOSPC creating the net namespace"));
    }
    let mut fixes = remedy::userns_limits(c, &["max_net_namespaces"]);
    if needed {
        fixes.push(remedy::network_not_needed(c));
        Some(cd.fix(fixes))
    } else {
        Some(cd)
    }
}

/// NSD123: already inside a sandbox or user namespace that allows no further nesting.
pub(crate) fn nested_sandbox_limit(c: &Ctx) -> Option<Cand> {
    let nested = c.nested_ctx()?;
    let enospc = c.userns_err() == Some("ENOSPC");
    let zero = !zero_limits(c, &["max_user_namespaces"]).is_empty();
    let lost = c.caps_lost();
    let eperm_in_bwrap = c.userns_err() == Some("EPERM")
        && (c.r.platform.nested_bwrap.is_true() || c.label().is_some_and(|l| l.contains("unpriv_bwrap")));
    if (enospc && !zero) || !lost.is_empty() || eperm_in_bwrap {
        let mut cd = cand(
            "NSD123",
            if enospc { 92 } else { 94 },
            Confidence::High,
            "This process already runs inside a sandbox (an outer bwrap/Flatpak or user namespace) that forbids a further user namespace: Flatpak's `--disable-userns` sets an ancestor `max_user_namespaces` (the file here still reads non-zero), and Ubuntu's `unpriv_bwrap` strips every capability from bwrap's children.".to_string(),
            "the failing step matches what the outer sandbox imposes, and the markers show the outer sandbox",
        )
        .ev(Some(nested))
        .ev(c.step_ev(c.userns_step(), "creation inside the outer sandbox"))
        .evs(lost);
        if let Some(v) = c.r.sysctl.max_user_namespaces.get() {
            cd = cd.ev(Some(ev(
                "/sysctl/max_user_namespaces",
                v.to_string(),
                "the limit visible here; an ancestor's limit is not visible",
            )));
        }
        return Some(cd.fix(remedy::nested(c)));
    }
    if !c.text_only() {
        return None;
    }
    let s = c
        .sym(&[K::BwrapCreateEnospc])
        .or_else(|| c.sym_errno(&[K::UnshareFailed], "ENOSPC"))
        .or_else(|| c.caps_lost_text())?;
    Some(
        cand(
            "NSD123",
            80,
            Confidence::Medium,
            "The error comes from inside an outer sandbox that forbids nested user namespaces.".to_string(),
            "the text's failure is what the outer sandbox imposes",
        )
        .ev(Some(nested))
        .ev(Some(Ctx::sym_ev(s, "the nested creation failed")))
        .fix(remedy::nested(c)),
    )
}
