//! Kernel switches and counts: Debian's `kernel.unprivileged_userns_clone` (EPERM for unprivileged callers;
//! default 0 on Debian ≤ 10 and linux-hardened), `user.max_*_namespaces` (ENOSPC; 0 by default on RHEL/CentOS
//! 7.4+, where the 3.10 kernel answers EINVAL), and an outer sandbox that forbids nesting. Rules NSD111,
//! NSD121–NSD123.

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
        Some(7) if el7_before_74(f) => out.push(Adj::By(5, "RHEL/CentOS 7 before 7.4 had user namespaces off in the kernel, not by a limit")),
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
