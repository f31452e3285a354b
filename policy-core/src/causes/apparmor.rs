//! AppArmor on the host: Ubuntu's restriction of unprivileged user namespaces (23.10+, on by default from
//! 24.04: creation is denied with EACCES or the namespace is moved into `unprivileged_userns`, which has no
//! capabilities, so setgroups, the id maps, loopback and mounts fail next), and host profiles without
//! `userns,`. Rules NSD101–NSD103; their detectors for probe reports live in `engine.rs`.

use super::observe::Op;
use super::{Adj, Facts, Knowledge, Ranked, root_outside_container, sign};
use crate::diagnosis::Cause;

pub(crate) const KNOWLEDGE: &[Knowledge] = &[Knowledge {
    cause: Cause::ApparmorUsernsRestriction,
    prior: 6,
    signs: &[
        sign(Op::CreateUserns, &["EACCES"], 30),
        sign(Op::CreateUserns, &["EPERM"], 12),
        sign(Op::CreateNs, &["EPERM", "EACCES"], 8),
        sign(Op::Setgroups, &["EACCES", "EPERM"], 30),
        sign(Op::IdMap, &["EPERM", "EACCES"], 30),
        sign(Op::IdHelper, &["EPERM", "EACCES"], 10),
        sign(Op::Loopback, &[], 30),
        sign(Op::NetlinkSocket, &["EACCES", "EPERM"], 8),
        sign(Op::Mount, &["EPERM", "EACCES"], 18),
        sign(Op::ProcMount, &["EPERM", "EACCES"], 12),
        sign(Op::SetuidHelper, &[], 12),
        sign(Op::SandboxUnavailable, &[], 15),
        sign(Op::AuditApparmorUserns, &[], 60),
        sign(Op::AuditApparmorTransition, &[], 60),
        sign(Op::AuditApparmorMount, &[], 25),
    ],
    context: restriction_context,
    code: restriction_code,
}];

fn restriction_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.apparmor == Some(false) {
        out.push(Adj::Impossible("AppArmor is not active"));
        return;
    }
    if f.wsl == Some(2) || f.wsl == Some(1) {
        out.push(Adj::Impossible("WSL kernels run without AppArmor"));
        return;
    }
    match (f.ubuntu_base(), f.ubuntu_family()) {
        (Some(v), _) if v >= 2400 => out.push(Adj::By(45, "Ubuntu 24.04 and later restrict unprivileged user namespaces with AppArmor by default")),
        (Some(2310), _) => out.push(Adj::By(15, "Ubuntu 23.10 ships the AppArmor restriction (opt-in on that release)")),
        (Some(_), _) => out.push(Adj::By(-40, "this Ubuntu release predates AppArmor's user-namespace mediation")),
        (None, true) => out.push(Adj::By(25, "Ubuntu-based distros from 24.04 on restrict user namespaces with AppArmor")),
        (None, false) => match f.distro.as_deref() {
            None => {
                if f.kernel.as_deref().is_some_and(|k| k.ends_with("-generic")) && f.kernel_version().is_some_and(|v| v >= (6, 7)) {
                    out.push(Adj::By(15, "an Ubuntu -generic kernel of the 24.04 era"));
                }
            }
            Some("debian" | "opensuse-tumbleweed" | "opensuse-leap" | "arch" | "manjaro" | "void" | "kali" | "endeavouros") => {
                out.push(Adj::By(-20, "this distro does not restrict user namespaces by default; only a profile without `userns,` would"))
            }
            Some(_) => out.push(Adj::By(-40, "this distro does not use AppArmor for user namespaces")),
        },
    }
    match f.restriction {
        Some(true) => out.push(Adj::By(40, "kernel.apparmor_restrict_unprivileged_userns is 1")),
        Some(false) => out.push(Adj::By(-30, "the restriction sysctl is 0; only a confining profile could deny")),
        None => {}
    }
    if f.hint(super::observe::Hint::RestrictionOn) {
        out.push(Adj::By(40, "the text shows kernel.apparmor_restrict_unprivileged_userns = 1"));
    }
    if root_outside_container(f) {
        out.push(Adj::By(-40, "root is exempt from the restriction"));
    }
    if f.in_container() == Some(true) {
        out.push(Adj::By(-20, "inside a container the container's own profile applies"));
    }
    if f.nested() {
        out.push(Adj::By(-15, "inside an outer sandbox"));
    }
    if matches!(f.selinux, Some(crate::report::SelinuxMode::Enforcing)) {
        out.push(Adj::By(-25, "SELinux, not AppArmor, is the active LSM"));
    }
    if f.chroot == Some(true) {
        out.push(Adj::By(-20, "the caller is chrooted"));
    }
}

fn restriction_code(r: &Ranked) -> &'static str {
    let later = [Op::Setgroups, Op::IdMap, Op::Loopback, Op::AuditApparmorTransition, Op::Mount].iter().any(|op| r.has(*op));
    let denied = r.errno_of(Op::CreateUserns) == Some("EACCES") || r.has(Op::AuditApparmorUserns);
    if denied && !later { "NSD102" } else { "NSD101" }
}
