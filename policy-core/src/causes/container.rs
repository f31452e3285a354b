//! Containers: the runtime's seccomp profile (Docker/containerd/Kubernetes default: clone/unshare with
//! namespace flags → EPERM without CAP_SYS_ADMIN, clone3 → ENOSYS; moby/profiles `seccomp/default.json`), root
//! without CAP_SYS_ADMIN, the runtime's AppArmor profile (`docker-default`: `deny mount`, no `userns,`), and a
//! masked `/proc` that forbids mounting a new procfs. Rules NSD131–NSD134.
//! The rules' detectors for probe reports are at the end of this file.

use super::observe::Op;
use super::{Adj, Facts, Knowledge, sign};
use crate::diagnosis::Cause;

pub(crate) const KNOWLEDGE: &[Knowledge] = &[
    Knowledge {
        cause: Cause::ContainerSeccomp,
        prior: 4,
        signs: &[
            sign(Op::CreateUserns, &["EPERM"], 28),
            sign(Op::CreateUserns, &["ENOSYS"], 30),
            sign(Op::CreateNs, &["EPERM"], 20),
            sign(Op::CreateNs, &["ENOSYS"], 25),
            sign(Op::SeccompKill, &[], 15),
            sign(Op::SandboxUnavailable, &[], 12),
            sign(Op::Mount, &["EPERM"], 5),
        ],
        context: seccomp_context,
        code: |_| "NSD131",
    },
    Knowledge {
        cause: Cause::ContainerNoCaps,
        prior: 0,
        signs: &[
            sign(Op::CreateNs, &["EPERM"], 30),
            sign(Op::CreateUserns, &["EPERM"], 14),
            sign(Op::Mount, &["EPERM"], 18),
            sign(Op::ProcMount, &["EPERM"], 10),
            sign(Op::SetuidHelper, &[], 15),
            sign(Op::SandboxUnavailable, &[], 8),
        ],
        context: no_caps_context,
        code: |_| "NSD132",
    },
    Knowledge {
        cause: Cause::ContainerApparmorProfile,
        prior: 0,
        signs: &[
            sign(Op::Mount, &["EACCES"], 30),
            sign(Op::AuditApparmorMount, &[], 45),
            sign(Op::AuditApparmorUsernsContainer, &[], 70),
            sign(Op::CreateUserns, &["EACCES"], 15),
            sign(Op::ProcMount, &["EACCES"], 20),
            sign(Op::UnitNamespace, &["EACCES"], 45),
        ],
        context: apparmor_context,
        code: |_| "NSD133",
    },
    Knowledge {
        cause: Cause::ProcMountRestricted,
        prior: 0,
        signs: &[sign(Op::ProcMount, &["EPERM", "EACCES", "EBUSY", "EINVAL"], 35), sign(Op::Mount, &["EPERM"], 4)],
        context: proc_context,
        code: |_| "NSD134",
    },
];

fn seccomp_context(f: &Facts, out: &mut Vec<Adj>) {
    match f.container {
        Some("none" | "flatpak" | "bwrap" | "gvisor") => {
            return out.push(Adj::Impossible("not inside a container runtime's seccomp profile"));
        }
        Some("lxc") => out.push(Adj::By(10, "LXC's seccomp policy can refuse namespace calls")),
        Some(_) => out.push(Adj::By(
            35,
            "container runtimes' default seccomp profiles refuse namespace creation without CAP_SYS_ADMIN",
        )),
        None if f.in_container() == Some(true) => out.push(Adj::By(20, "the text says this ran in a container")),
        None => {}
    }
    if f.seccomp == Some(false) {
        return out.push(Adj::Impossible("no seccomp filter is installed"));
    }
    if f.container.is_none() && f.hint(super::observe::Hint::NosuidHelper) {
        out.push(Adj::By(-15, "a desktop AppImage, not a container"));
    }
    if f.systemd == Some(true) {
        out.push(Adj::By(-20, "a systemd unit's filter is the nearer seccomp source"));
    }
    if f.cap_sys_admin == Some(true) && f.bnd_sys_admin == Some(true) {
        out.push(Adj::By(-25, "with CAP_SYS_ADMIN Docker's default profile allows namespace calls"));
    }
    if f.wsl.is_some() {
        out.push(Adj::By(-20, "WSL"));
    }
    if f.root == Some(true) && f.in_container() == Some(true) {
        out.push(Adj::By(
            -20,
            "root in a container lacks CAP_SYS_ADMIN, whose grant also lifts the default profile's block",
        ));
    }
}

fn no_caps_context(f: &Facts, out: &mut Vec<Adj>) {
    match f.in_container() {
        Some(false) => return out.push(Adj::Impossible("not inside a container")),
        Some(true) => {}
        None => out.push(Adj::By(-25, "nothing says this ran in a container")),
    }
    if f.cap_sys_admin == Some(true) {
        return out.push(Adj::Impossible("CAP_SYS_ADMIN is effective"));
    }
    match f.root {
        Some(true) => out
            .push(Adj::By(35, "root in a container without CAP_SYS_ADMIN creates namespaces directly and gets EPERM")),
        Some(false) => out.push(Adj::By(-30, "an unprivileged caller would create a user namespace first")),
        None if f.in_container() == Some(true) => out.push(Adj::By(12, "container processes usually run as root")),
        None => {}
    }
}

fn apparmor_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.apparmor == Some(false) {
        return out.push(Adj::Impossible("AppArmor is not active"));
    }
    match f.container {
        Some("none" | "flatpak" | "bwrap" | "gvisor") => return out.push(Adj::Impossible("not inside a container")),
        Some("lxc") => {
            out.push(Adj::By(35, "LXC/LXD's container profile denies mounts and (AppArmor 4) user namespaces"))
        }
        Some(_) => out.push(Adj::By(25, "the runtime's default AppArmor profile (docker-default) denies mounts")),
        None if f.in_container() == Some(true) => out.push(Adj::By(15, "the text says this ran in a container")),
        None => out.push(Adj::By(-20, "nothing says this ran in a container")),
    }
    if matches!(f.selinux, Some(crate::report::SelinuxMode::Enforcing)) {
        out.push(Adj::By(-25, "SELinux is the active LSM"));
    }
    if matches!(f.distro.as_deref(), Some("fedora" | "rhel" | "centos" | "rocky" | "almalinux")) {
        out.push(Adj::By(-25, "this distro uses SELinux, not AppArmor"));
    }
}

fn proc_context(f: &Facts, out: &mut Vec<Adj>) {
    match f.in_container() {
        Some(true) => out.push(Adj::By(20, "container runtimes mask and overmount parts of /proc")),
        Some(false) if f.nested() => out.push(Adj::By(5, "the outer sandbox's /proc")),
        Some(false) => out.push(Adj::By(-5, "not inside a container")),
        None => {}
    }
    if f.systemd == Some(true) {
        out.push(Adj::By(-15, "a unit's ProtectProc=/ProcSubset= is the nearer cause"));
    }
}

// ---- detectors for probe reports ----

use crate::ctx::{CAP_SYS_ADMIN_BIT, Cand, Ctx, Sym, cand, container_profile, ev, has_cap};
use crate::diagnosis::{Confidence, Evidence};
use crate::remedy;
use crate::report::StepId;
use crate::symptoms::SymptomKind as K;

/// EPERM on a namespace creation that a seccomp filter (not the kernel) would explain.
pub(crate) fn seccomp_ns_eperm(c: &Ctx) -> Vec<Evidence> {
    let mut v = Vec::new();
    if c.r.process.chrooted.is_true()
        || c.r.sysctl.unprivileged_userns_clone.get() == Some(&0) && c.privileged() != Some(true)
    {
        return v;
    }
    if c.userns_err() == Some("EPERM") || c.userns_err() == Some("ENOSYS") {
        v.extend(c.step_ev(c.userns_step(), "EPERM creating the user namespace"));
    }
    // Inside our own user namespace we hold CAP_SYS_ADMIN; EPERM on a further flag is a filter.
    if c.ok(StepId::UidMap) {
        for (id, n) in [(StepId::Netns, "net"), (StepId::Mountns, "mount"), (StepId::Pidns, "pid")] {
            if c.err(id) == Some("EPERM") {
                v.extend(c.step_ev(id, &format!("EPERM creating a {n} namespace while holding CAP_SYS_ADMIN in the new user namespace: a filter on that flag")));
            }
        }
    }
    v
}

pub(crate) fn seccomp_text<'a>(c: &'a Ctx<'a>) -> Option<&'a Sym> {
    if !c.text_only() {
        return None;
    }
    c.sym(&[K::BwrapNoPermissions]).or_else(|| c.sym_errno(&[K::UnshareFailed, K::CannotClone], "EPERM"))
}

/// NSD131: a container's seccomp profile (Docker default: clone/unshare with namespace flags → EPERM,
/// clone3 → ENOSYS; moby profiles `seccomp/default.json`).
pub(crate) fn container_seccomp_namespaces(c: &Ctx) -> Option<Cand> {
    seccomp_rule(c, "NSD131")
}

/// Shared by NSD131/NSD141: the same seccomp evidence, attributed by context. With neither context, both
/// are ranked candidates.
pub(crate) fn seccomp_rule(c: &Ctx, code: &'static str) -> Option<Cand> {
    let container = c.container().is_some() && c.container() != Some("gvisor");
    let systemd = c.systemd();
    let unit_ev = c.unit_restricts_ns();
    let steps = seccomp_ns_eperm(c);
    let text = if steps.is_empty() { seccomp_text(c) } else { None };
    if steps.is_empty() && text.is_none() {
        return None;
    }
    let filtered = c.seccomp_filtered();
    if filtered == Some(false) && unit_ev.is_none() {
        return None; // no filter: the kernel said EPERM (NSD111/NSD173/NSD199)
    }
    let is_container_rule = code == "NSD131";
    let ctx_match = if is_container_rule { container } else { systemd || unit_ev.is_some() };
    let other = if is_container_rule { systemd || unit_ev.is_some() } else { container };
    if !ctx_match && other {
        return None;
    }
    let behav = !steps.is_empty();
    let mut score: u32 = match (ctx_match, behav, filtered) {
        (true, true, Some(true)) => 92,
        (true, true, _) => 85,
        (true, false, _) => 75,
        (false, true, Some(true)) => 60,
        (false, true, _) => 45,
        (false, false, _) => 40,
    };
    // Docker's default profile allows namespace calls when CAP_SYS_ADMIN is in the container's bounding set
    // (moby/profiles seccomp/default.json): a filter that still refuses them under a unit is the unit's.
    let bnd_admin = c.r.process.cap_bnd.get().and_then(|h| has_cap(h, CAP_SYS_ADMIN_BIT)) == Some(true);
    if container && systemd && bnd_admin {
        if is_container_rule {
            score = 40;
        } else {
            score = score.max(90);
        }
    } else if ctx_match && other {
        score = if !is_container_rule && unit_ev.is_some() { 93 } else { score.saturating_sub(5) };
    }
    if !is_container_rule && unit_ev.is_some() {
        score = score.max(94);
    }
    let conf = if ctx_match && behav {
        Confidence::High
    } else if ctx_match || behav {
        Confidence::Medium
    } else {
        Confidence::Low
    };
    let (summary, fixes) = if is_container_rule {
        (
            "A seccomp filter refuses to create the namespaces: Docker's and containerd's default profiles allow clone/unshare with namespace flags only with CAP_SYS_ADMIN and answer clone3 with ENOSYS. bwrap reports `No permissions to create new namespace`, which wrongly suggests a kernel sysctl.".to_string(),
            remedy::container_seccomp(c),
        )
    } else {
        (
            "A seccomp filter refuses to create the namespaces: the systemd unit's `RestrictNamespaces=` turns clone/unshare with a forbidden namespace flag into EPERM (clone3 into ENOSYS). bwrap's single clone carries every flag, so even a missing `net` makes it print `No permissions to create new namespace`.".to_string(),
            remedy::unit_restrict_namespaces(c),
        )
    };
    let why = match (ctx_match, behav) {
        (true, true) => "the namespace steps fail with EPERM under a seccomp filter, in this context",
        (true, false) => "the text shows EPERM creating namespaces, in this context",
        (false, true) => {
            "EPERM under a seccomp filter; nothing says whether a container or a systemd unit installed it"
        }
        (false, false) => "EPERM creating namespaces is often a seccomp filter; no context facts",
    };
    let ctx_ev = if is_container_rule { c.container_ev() } else { unit_ev.clone().or_else(|| c.systemd_ev()) };
    Some(
        cand(code, score, conf, summary, why)
            .evs(steps)
            .ev(text.map(|s| Ctx::sym_ev(s, "EPERM creating the namespace")))
            .evs(c.seccomp_evs())
            .ev(ctx_ev)
            .fix(fixes),
    )
}

/// NSD132: root in a container without CAP_SYS_ADMIN asks for namespaces without a user namespace
/// (openai/codex#13624: `Creating new namespace failed: Operation not permitted`).
pub(crate) fn container_without_sys_admin(c: &Ctx) -> Option<Cand> {
    if c.container().is_none() && c.text_only() {
        return None;
    }
    let root = c.root();
    let no_admin = c.r.process.cap_eff.get().and_then(|h| has_cap(h, CAP_SYS_ADMIN_BIT)).map(|h| !h);
    let flag_fail: Vec<Evidence> = [StepId::FlagNet, StepId::FlagMnt, StepId::FlagPid]
        .into_iter()
        .filter(|id| c.err(*id) == Some("EPERM"))
        .filter_map(|id| c.step_ev(id, "EPERM creating this namespace without a user namespace"))
        .collect();
    let text = c.sym_errno(&[K::BwrapCreateFailed], "EPERM");
    if root == Some(false) || no_admin == Some(false) {
        return None;
    }
    if flag_fail.is_empty() && text.is_none() {
        return None;
    }
    if c.container().is_none() && c.r.platform.in_userns.get() != Some(&true) {
        return None;
    }
    let behav = !flag_fail.is_empty();
    let score = match (behav, root, no_admin) {
        (true, Some(true), Some(true)) => 88,
        (true, _, _) => 75,
        (false, Some(true), _) => 82,
        _ => 60,
    };
    Some(
        cand(
            "NSD132",
            score,
            if behav && no_admin == Some(true) { Confidence::High } else { Confidence::Medium },
            "Root inside this container lacks CAP_SYS_ADMIN, so creating mount/pid/net namespaces directly fails with EPERM; bwrap run as root without `--unshare-user` then prints `Creating new namespace failed: Operation not permitted`. Creating a user namespace first gives root the capabilities inside it.".to_string(),
            "the direct namespace steps fail for a root caller without CAP_SYS_ADMIN",
        )
        .evs(flag_fail)
        .ev(text.map(|s| Ctx::sym_ev(s, "bwrap's clone without a user namespace")))
        .ev(c.r.process.cap_eff.get().map(|h| ev("/process/cap_eff", h.clone(), "CAP_SYS_ADMIN (bit 21) is not effective")))
        .ev(c.container_ev())
        .fix(remedy::container_no_caps(c)),
    )
}

/// NSD133: container AppArmor profile (docker-default `deny mount`) → mount EACCES.
pub(crate) fn container_apparmor_mount(c: &Ctx) -> Option<Cand> {
    if c.selinux_enforcing() {
        return None;
    }
    let step = [StepId::MountSlave, StepId::MountTmpfs].into_iter().find(|id| c.err(*id) == Some("EACCES"));
    let label = c.label().unwrap_or("");
    let container_label = container_profile(label);
    // AppArmor 4 mediates userns creation for confined profiles; docker-default has no `userns,` rule.
    let userns_audit = c.sym(&[K::AuditUsernsCreateDenied]).filter(|s| container_profile(&s.s.line));
    if (c.userns_err() == Some("EACCES") && container_label) || userns_audit.is_some() {
        return Some(
            cand("NSD133", if userns_audit.is_some() || c.has_steps() { 94 } else { 80 }, Confidence::High,
                "The container's AppArmor profile (`docker-default` or a runtime copy) confines this process and has no `userns,` rule, so AppArmor 4's user-namespace mediation refuses creation with EACCES.".to_string(),
                "the denial names the container runtime's AppArmor profile")
                .ev(if c.userns_err() == Some("EACCES") { c.step_ev(c.userns_step(), "EACCES from AppArmor's userns mediation") } else { None })
                .ev(userns_audit.map(|s| Ctx::sym_ev(s, "AppArmor denial naming the container profile")))
                .ev((!label.is_empty()).then(|| ev("/process/apparmor_label", label, "the container's AppArmor profile")))
                .ev(c.container_ev())
                .fix(remedy::container_apparmor(c)),
        );
    }
    if let Some(id) = step {
        if !container_label && c.container().is_none() {
            return None;
        }
        return Some(
            cand("NSD133", if container_label { 93 } else { 80 }, if container_label { Confidence::High } else { Confidence::Medium },
                "The container's AppArmor profile (`docker-default` and its containerd/podman copies) has `deny mount`, which applies even inside a new user namespace, so bwrap stops at `Failed to make / slave: Permission denied`.".to_string(),
                "mount fails with EACCES (an LSM) while the caller is confined by a container profile")
                .ev(c.step_ev(id, "EACCES from AppArmor's mount mediation"))
                .ev((!label.is_empty()).then(|| ev("/process/apparmor_label", label, "the container's AppArmor profile")))
                .ev(c.container_ev())
                .fix(remedy::container_apparmor(c)),
        );
    }
    if !c.text_only() {
        return None;
    }
    let s = c.sym(&[K::AuditApparmorMount]).or_else(|| c.sym_errno(&[K::MountSlave, K::MountTmpfs], "EACCES"))?;
    let score = if c.container().is_some() { 78 } else { 50 };
    Some(
        cand("NSD133", score, Confidence::Medium, "A mount inside the sandbox was denied with EACCES: the signature of a container AppArmor profile with `deny mount` (docker-default).".to_string(), "mount EACCES is an LSM denial; in containers that is the runtime's AppArmor profile")
            .ev(Some(Ctx::sym_ev(s, "mount denied")))
            .ev(c.container_ev())
            .fix(remedy::container_apparmor(c)),
    )
}

pub(crate) fn proc_hardening_ev(c: &Ctx) -> Vec<Evidence> {
    let mut v = Vec::new();
    if c.r.platform.proc_sys_readonly.is_true() {
        v.push(ev(
            "/platform/proc_sys_readonly",
            "true",
            "/proc/sys is over-mounted read-only (ProtectKernelTunables=)",
        ));
    }
    if let Some(p) = c.r.unit.protect_kernel_tunables.get() {
        if p == "yes" || p == "true" {
            v.push(ev("/unit/protect_kernel_tunables", p.clone(), "the unit over-mounts /proc/sys and friends"));
        }
    }
    v
}

/// NSD134: locked over-mounts on /proc (container masked paths) make a fresh procfs "too revealing".
pub(crate) fn proc_masked(c: &Ctx) -> Option<Cand> {
    if !c.cfg.namespaces.proc {
        return None;
    }
    let step = c.err(StepId::ProcMount) == Some("EPERM");
    let text = if c.text_only() { c.sym(&[K::ProcMount]) } else { None };
    if !step && text.is_none() {
        return None;
    }
    let unit_side = c.systemd() && !proc_hardening_ev(c).is_empty();
    let masks = c.r.platform.proc_masks.get().filter(|m| !m.is_empty());
    let score = match (step, masks.is_some() || c.container().is_some(), unit_side) {
        (_, _, true) => 55,
        (true, true, _) => 92,
        (true, false, _) => 75,
        (false, true, _) => 80,
        (false, false, _) => 62,
    };
    Some(
        cand(
            "NSD134",
            score,
            if step && masks.is_some() { Confidence::High } else { Confidence::Medium },
            "Mounting a new procfs in the sandbox fails with EPERM: paths under /proc are over-mounted (container masked paths such as /proc/kcore, /proc/keys, a read-only /proc/sys), and the kernel refuses a fresh procfs that would reveal them (`VFS: Mount too revealing`). bwrap prints `Can't mount proc on /newroot/proc: Operation not permitted`.".to_string(),
            if step { "the proc mount step fails with EPERM after every namespace step succeeded" } else { "the text shows the proc mount failure" },
        )
        .ev(if step { c.step_ev(StepId::ProcMount, "EPERM mounting procfs") } else { None })
        .ev(text.map(|s| Ctx::sym_ev(s, "proc mount refused")))
        .ev(masks.map(|m| {
            // Sorted as the schema documents, so the evidence does not depend on the report's order.
            let mut m = m.clone();
            m.sort();
            ev("/platform/proc_masks", m.join(" "), "over-mounted /proc paths")
        }))
        .ev(c.container_ev())
        .fix(remedy::proc_masked(c)),
    )
}
