//! The kernel itself: WSL1 (no namespaces: EINVAL), kernels without user namespaces (CONFIG_USER_NS=n, < 3.8,
//! RHEL/CentOS 7 before 7.4 with `user_namespace.enable=0`, EL6), a chrooted caller (`current_chrooted()` →
//! EPERM in `create_user_ns`), and a multi-threaded caller (EINVAL, unshare(2)). Rules NSD171–NSD174.

use super::observe::{Hint, Op};
use super::programs::Kind;
use super::{Adj, Facts, Knowledge, sign};
use crate::diagnosis::Cause;

pub(crate) const KNOWLEDGE: &[Knowledge] = &[
    Knowledge {
        cause: Cause::Wsl1NoUserns,
        prior: 0,
        signs: &[
            sign(Op::CreateUserns, &["EINVAL"], 30),
            sign(Op::CreateNs, &["EINVAL"], 25),
            sign(Op::Mount, &["EINVAL"], 10),
            sign(Op::SandboxUnavailable, &[], 10),
        ],
        context: wsl1_context,
        code: |_| "NSD171",
    },
    Knowledge {
        cause: Cause::KernelNoUserns,
        prior: 0,
        signs: &[
            sign(Op::CreateUserns, &["EINVAL", "ENOENT", "EOPNOTSUPP"], 28),
            sign(Op::CreateUserns, &["EPERM"], 10),
            sign(Op::CreateNs, &["EINVAL"], 20),
            sign(Op::SandboxUnavailable, &[], 8),
            sign(Op::SetuidHelper, &[], 4),
        ],
        context: kernel_context,
        code: |_| "NSD172",
    },
    Knowledge {
        cause: Cause::Chroot,
        prior: 0,
        signs: &[sign(Op::CreateUserns, &["EPERM"], 25), sign(Op::CreateNs, &["EPERM"], 8)],
        context: chroot_context,
        code: |_| "NSD173",
    },
    Knowledge {
        cause: Cause::MultithreadedCaller,
        prior: 0,
        signs: &[sign(Op::CreateUserns, &["EINVAL"], 25)],
        context: threads_context,
        code: |_| "NSD174",
    },
];

fn wsl1_context(f: &Facts, out: &mut Vec<Adj>) {
    match f.wsl {
        Some(1) => out.push(Adj::By(60, "WSL1 translates syscalls and has no namespaces")),
        Some(_) => out.push(Adj::Impossible("WSL2 runs a real Linux kernel")),
        None if f.kernel.is_some() => out.push(Adj::Impossible("the kernel string is not WSL1's")),
        None => out.push(Adj::By(-20, "nothing says this is WSL1")),
    }
}

fn kernel_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.wsl == Some(1) {
        return out.push(Adj::Impossible("WSL1 is its own cause"));
    }
    if f.userns_supported == Some(false) {
        out.push(Adj::By(60, "/proc/self/ns/user does not exist"));
    } else if f.userns_supported == Some(true) {
        return out.push(Adj::Impossible("the kernel has user namespaces"));
    }
    if f.hint(Hint::NoUsernsSupport) {
        out.push(Adj::By(40, "the text says the kernel lacks user namespace support"));
    }
    match f.el() {
        Some(6) => out.push(Adj::By(45, "EL6 kernels have no usable user namespaces")),
        Some(7) if super::limits::el7_before_74(f) => out.push(Adj::By(40, "RHEL/CentOS 7 before 7.4 boot with user namespaces disabled")),
        Some(7) => out.push(Adj::By(5, "RHEL/CentOS 7 kernels")),
        _ => match f.kernel_version() {
            Some(v) if v < (3, 8) => out.push(Adj::By(45, "kernels before 3.8 have no unprivileged user namespaces")),
            Some(v) if v < (4, 0) => out.push(Adj::By(15, "an old kernel")),
            Some(_) => out.push(Adj::By(-10, "a modern kernel usually has user namespaces")),
            None => {}
        },
    }
    // Current releases of the mainstream distros build their kernels with CONFIG_USER_NS.
    let modern = f.ubuntu_base().is_some_and(|v| v >= 1604)
        || f.is("debian") && f.major().is_some_and(|v| v >= 9)
        || f.is("fedora") || f.is("opensuse-tumbleweed") || f.el().is_some_and(|v| v >= 8)
        || f.is("arch") && f.kernel_version().is_some_and(|v| v >= (4, 15));
    // Arch's stock kernel was built without CONFIG_USER_NS until 4.14.5 (Dec 2017).
    if f.is("arch") || f.is("manjaro") {
        match f.kernel_version() {
            Some(v) if v < (4, 15) => out.push(Adj::By(40, "Arch kernels before 4.14.5 were built without user namespaces")),
            None => out.push(Adj::By(10, "Arch kernels before 4.14.5 were built without user namespaces")),
            Some(_) => {}
        }
    }
    if modern {
        out.push(Adj::By(-25, "this distro release's kernels have user namespaces"));
    }
    if f.program.is_some_and(|p| p.multithreaded) || f.hint(Hint::Threads) {
        out.push(Adj::By(-15, "a multi-threaded caller gets the same EINVAL"));
    }
    if f.hint(Hint::LimitZero) {
        out.push(Adj::By(-20, "a namespace limit is 0"));
    }
}

fn chroot_context(f: &Facts, out: &mut Vec<Adj>) {
    match f.chroot {
        Some(true) => out.push(Adj::By(60, "the caller is chrooted; the kernel refuses user namespaces to chrooted processes")),
        Some(false) => out.push(Adj::Impossible("the caller is not chrooted")),
        None if f.hint(Hint::Chroot) => out.push(Adj::By(40, "the text names a chroot")),
        None if f.chroot_inconclusive => out.push(Adj::By(10, "the chroot check was inconclusive (a chroot into a bind mount of / looks like none)")),
        None => out.push(Adj::By(-20, "nothing says the caller is chrooted")),
    }
}

fn threads_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.wsl == Some(1) || f.userns_supported == Some(false) {
        return out.push(Adj::Impossible("the kernel has no user namespaces at all"));
    }
    match f.program {
        Some(p) if p.multithreaded => out.push(Adj::By(35, "this program's runtime is multi-threaded when it calls unshare")),
        Some(p) if p.kind == Kind::Runtime => out.push(Adj::By(15, "a language runtime calling unshare from its own process")),
        Some(_) => out.push(Adj::By(-20, "this program creates namespaces from a single-threaded process")),
        None => {}
    }
    if f.hint(Hint::Threads) {
        out.push(Adj::By(35, "the text says the caller is multi-threaded"));
    }
}
