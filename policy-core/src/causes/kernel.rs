//! The kernel itself: WSL1 (no namespaces: EINVAL), kernels without user namespaces (CONFIG_USER_NS=n, < 3.8,
//! RHEL/CentOS 7 before 7.4 with `user_namespace.enable=0`, EL6), a chrooted caller (`current_chrooted()` →
//! EPERM in `create_user_ns`), and a multi-threaded caller (EINVAL, unshare(2)). Rules NSD171–NSD174.
//! The rules' detectors for probe reports are at the end of this file.

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
        Some(7) if super::limits::el7_before_74(f) => {
            out.push(Adj::By(40, "RHEL/CentOS 7 before 7.4 boot with user namespaces disabled"))
        }
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
        || f.is("fedora")
        || f.is("opensuse-tumbleweed")
        || f.el().is_some_and(|v| v >= 8)
        || f.is("arch") && f.kernel_version().is_some_and(|v| v >= (4, 15));
    // Arch's stock kernel was built without CONFIG_USER_NS until 4.14.5 (Dec 2017).
    if f.is("arch") || f.is("manjaro") {
        match f.kernel_version() {
            Some(v) if v < (4, 15) => {
                out.push(Adj::By(40, "Arch kernels before 4.14.5 were built without user namespaces"))
            }
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
        Some(true) => {
            out.push(Adj::By(60, "the caller is chrooted; the kernel refuses user namespaces to chrooted processes"))
        }
        Some(false) => out.push(Adj::Impossible("the caller is not chrooted")),
        None if f.hint(Hint::Chroot) => out.push(Adj::By(40, "the text names a chroot")),
        None if f.chroot_inconclusive => {
            out.push(Adj::By(10, "the chroot check was inconclusive (a chroot into a bind mount of / looks like none)"))
        }
        None => out.push(Adj::By(-20, "nothing says the caller is chrooted")),
    }
}

fn threads_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.wsl == Some(1) || f.userns_supported == Some(false) {
        return out.push(Adj::Impossible("the kernel has no user namespaces at all"));
    }
    match f.program {
        Some(p) if p.multithreaded => {
            out.push(Adj::By(35, "this program's runtime is multi-threaded when it calls unshare"))
        }
        Some(p) if p.kind == Kind::Runtime => {
            out.push(Adj::By(15, "a language runtime calling unshare from its own process"))
        }
        Some(_) => out.push(Adj::By(-20, "this program creates namespaces from a single-threaded process")),
        None => {}
    }
    if f.hint(Hint::Threads) {
        out.push(Adj::By(35, "the text says the caller is multi-threaded"));
    }
}

// ---- detectors for probe reports ----

use crate::ctx::{Cand, Ctx, cand, ev};
use crate::diagnosis::{Confidence, Evidence};
use crate::remedy;
use crate::report::StepId;
use crate::symptoms::SymptomKind as K;

/// `6.8.0-45-generic` → (6, 8).
pub(crate) fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

pub(crate) fn wsl1_ev(c: &Ctx) -> Option<Evidence> {
    if c.r.platform.wsl1.is_true() {
        return Some(ev(
            "/platform/wsl1",
            "true",
            "Windows Subsystem for Linux 1: a syscall translation layer without namespaces",
        ));
    }
    let v = c.r.kernel.proc_version.get()?;
    (v.contains("Microsoft") && !v.contains("WSL2") && !v.contains("microsoft-standard"))
        .then(|| ev("/kernel/proc_version", v.clone(), "the WSL1 kernel string"))
}

/// NSD171: WSL1 (EINVAL; microsoft/WSL#2981).
pub(crate) fn wsl1_no_userns(c: &Ctx) -> Option<Cand> {
    let w = wsl1_ev(c)?;
    let einval = c.userns_err() == Some("EINVAL") || c.text_create_errno().is_some_and(|(e, _)| e == "EINVAL");
    Some(
        cand("NSD171", if einval { 98 } else { 88 }, Confidence::High,
            "WSL1 translates Linux syscalls and has no user namespaces: unshare(CLONE_NEWUSER) returns EINVAL and bwrap says the kernel does not support user namespaces. Codex refuses its bwrap sandbox on WSL1.".to_string(),
            "WSL1 cannot create namespaces at all")
            .ev(Some(w))
            .ev(c.step_ev(c.userns_step(), "EINVAL"))
            .fix(remedy::wsl1()),
    )
}

/// NSD172: kernel without user namespaces (CONFIG_USER_NS=n, < 3.8).
pub(crate) fn kernel_without_userns(c: &Ctx) -> Option<Cand> {
    if wsl1_ev(c).is_some() {
        return None;
    }
    let absent = c.r.kernel.userns_supported.is_false();
    if !absent && c.rhel7() && c.r.sysctl.max_user_namespaces.get() == Some(&0) {
        return None; // NSD121
    }
    let einval = c.userns_err() == Some("EINVAL") && c.seccomp_filtered() != Some(true);
    let text = if c.text_only() {
        c.sym(&[K::BwrapKernelNoUserns]).or_else(|| c.sym_errno(&[K::UnshareFailed], "EINVAL"))
    } else {
        None
    };
    if !absent && !einval && text.is_none() {
        return None;
    }
    let score = if absent {
        96
    } else if einval {
        85
    } else if c.rhel7() {
        60
    } else if c.r.platform.wsl1.get().is_none() && c.r.platform.wsl2.get().is_none() {
        55
    } else {
        70
    };
    Some(
        cand("NSD172", score, if absent { Confidence::High } else { Confidence::Medium },
            "This kernel does not provide user namespaces (built without CONFIG_USER_NS, older than 3.8, or disabled on RHEL 7), so creation fails with EINVAL and bwrap suggests a setuid install.".to_string(),
            if absent { "/proc/self/ns/user does not exist" } else { "EINVAL from a single-threaded unshare(CLONE_NEWUSER) without a seccomp filter" })
            .ev(absent.then(|| ev("/kernel/userns_supported", "false", "/proc/self/ns/user is missing")))
            .ev(if einval { c.step_ev(c.userns_step(), "EINVAL") } else { None })
            .ev(text.map(|s| Ctx::sym_ev(s, "kernel without user namespaces")))
            .ev(c.kernel_release().map(|k| ev("/kernel/release", k, "kernel")))
            .fix(remedy::kernel_no_userns()),
    )
}

/// NSD173: chrooted caller (`current_chrooted()` → EPERM in create_user_ns).
pub(crate) fn chrooted_caller(c: &Ctx) -> Option<Cand> {
    if !c.r.process.chrooted.is_true() {
        // Text only, chroot unknown: a low candidate (CI chroots print the same EPERM wording).
        let (e, s) = c.text_create_errno()?;
        if !c.text_only() || e != "EPERM" || !c.r.process.chrooted.is_not_probed() || c.container().is_some() {
            return None;
        }
        return Some(
            cand("NSD173", 20, Confidence::Low,
                "If this ran in a chroot (schroot, a CI build chroot), the kernel refuses user namespaces with EPERM and bwrap blames the sysctl.".to_string(),
                "EPERM at creation is also what a chrooted caller gets; whether it was chrooted is unknown")
                .ev(Some(Ctx::sym_ev(s, "EPERM creating the namespace")))
                .fix(remedy::chroot()),
        );
    }
    let step = c.userns_err() == Some("EPERM");
    let text = c.text_create_errno().is_some_and(|(e, _)| e == "EPERM");
    if c.userns_ok() {
        return None;
    }
    Some(
        cand("NSD173", if step { 97 } else if text { 90 } else { 70 }, if step { Confidence::High } else { Confidence::Medium },
            "The caller runs in a chroot (its root is not its mount namespace's root); the kernel refuses to create user namespaces for chrooted processes with EPERM, and bwrap misleadingly blames the kernel's sysctl.".to_string(),
            if step { "EPERM at creation and the process is chrooted" } else { "the process is chrooted" })
            .ev(Some(ev("/process/chrooted", "true", "root directory differs from the mount namespace's root")))
            .ev(c.step_ev(c.userns_step(), "EPERM at creation"))
            .fix(remedy::chroot()),
    )
}

/// NSD174: EINVAL from a multithreaded caller (unshare(2): CLONE_NEWUSER implies a single-threaded caller).
pub(crate) fn multithreaded_caller(c: &Ctx) -> Option<Cand> {
    let s = c.sym_errno(&[K::UnshareFailed, K::UsernsEinval, K::CannotClone], "EINVAL")?;
    if wsl1_ev(c).is_some() || c.r.kernel.userns_supported.is_false() {
        return None;
    }
    let probe_ok = c.userns_ok();
    let threads = c.r.process.threads.get().filter(|t| **t > 1);
    let score = if probe_ok {
        92
    } else if threads.is_some() {
        88
    } else {
        40
    };
    Some(
        cand("NSD174", score, if probe_ok || threads.is_some() { Confidence::High } else { Confidence::Low },
            "unshare(CLONE_NEWUSER) returns EINVAL when the calling process has more than one thread. The kernel here supports user namespaces, so the program that printed the error is multi-threaded and must fork a single-threaded helper (as bwrap is) first.".to_string(),
            if probe_ok { "the same call from nsdoctor's single-threaded probe succeeds" } else { "EINVAL at creation on a kernel that has user namespaces" })
            .ev(Some(Ctx::sym_ev(s, "EINVAL creating the user namespace")))
            .ev(if probe_ok { c.step_ev(StepId::Userns, "succeeds from a single-threaded process") } else { None })
            .ev(threads.map(|t| ev("/process/threads", t.to_string(), "threads in the calling program")))
            .fix(remedy::multithreaded()),
    )
}
