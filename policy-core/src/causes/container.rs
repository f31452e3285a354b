//! Containers: the runtime's seccomp profile (Docker/containerd/Kubernetes default: clone/unshare with
//! namespace flags → EPERM without CAP_SYS_ADMIN, clone3 → ENOSYS; moby/profiles `seccomp/default.json`), root
//! without CAP_SYS_ADMIN, the runtime's AppArmor profile (`docker-default`: `deny mount`, no `userns,`), and a
//! masked `/proc` that forbids mounting a new procfs. Rules NSD131–NSD134.

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
        Some("none" | "flatpak" | "bwrap" | "gvisor") => return out.push(Adj::Impossible("not inside a container runtime's seccomp profile")),
        Some("lxc") => out.push(Adj::By(10, "LXC's seccomp policy can refuse namespace calls")),
        Some(_) => out.push(Adj::By(35, "container runtimes' default seccomp profiles refuse namespace creation without CAP_SYS_ADMIN")),
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
        out.push(Adj::By(-20, "root in a container lacks CAP_SYS_ADMIN, whose grant also lifts the default profile's block"));
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
        Some(true) => out.push(Adj::By(35, "root in a container without CAP_SYS_ADMIN creates namespaces directly and gets EPERM")),
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
        Some("lxc") => out.push(Adj::By(35, "LXC/LXD's container profile denies mounts and (AppArmor 4) user namespaces")),
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
