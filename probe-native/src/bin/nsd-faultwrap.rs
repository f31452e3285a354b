//! Test-only fault injection for nsdoctor's integration tests: recreates host policies this machine does not
//! have, then execs the given command. Never changes host state: sysctl limits are written inside a throwaway
//! user namespace (the `user.max_*` limits are per user namespace, kernel/ucount.c), the chroot lives in a private mount namespace, seccomp filters die
//! with the process.
//!
//! ```text
//! nsd-faultwrap [--userns-limit user|net|mnt|pid=N]… [--chroot DIR] [--chroot-bind-root DIR] [--as-uid N]
//!               [--seccomp-ns all|LIST] [--seccomp-deny-af NETLINK] [--seccomp-kill SYSCALL]… -- CMD ARGS…
//! ```
//! * `--userns-limit`: enter a new user namespace mapping ids 0–65535 identically (the parent writes the maps),
//!   become root in it and write `/proc/sys/user/max_<kind>_namespaces` there; the limit binds descendants.
//! * `--chroot DIR`: private mount namespace, bind /usr, /etc, /proc, /dev (and copy the /bin, /lib… symlinks)
//!   into DIR, chroot(DIR). DIR itself stays a plain directory, as in a classic chroot.
//! * `--chroot-bind-root DIR`: private mount namespace, DIR a recursive bind mount of `/`, chroot(DIR). The
//!   chroot then looks like the host (a mount at `/`, the same files), so only the kernel's
//!   `current_chrooted()` still tells it apart.
//! * `--as-uid N`: setgroups([]), setresgid(N), setresuid(N).
//! * `--seccomp-ns`: unshare/clone/setns with the listed (or all) namespace flags → EPERM, clone3 → ENOSYS, as
//!   systemd `RestrictNamespaces=` and Docker's default profile.
//! * `--seccomp-deny-af NETLINK`: socket(AF_NETLINK) → EAFNOSUPPORT, as `RestrictAddressFamilies=` without it.
//! * `--seccomp-kill SYSCALL`: the syscall kills the process with SIGSYS, as `SystemCallFilter=~…` without
//!   `SystemCallErrorNumber=`.

#[path = "../probe/syscalls.rs"]
mod syscalls;

#[expect(dead_code, reason = "the probe's filters, of which the fault tool uses a few")]
#[path = "../probe/filter.rs"]
mod filter;

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Gid, Uid, chdir, chroot, setgroups, setresgid, setresuid};

#[derive(Default)]
struct Plan {
    limits: Vec<(String, String)>,
    chroot: Option<PathBuf>,
    chroot_bind_root: Option<PathBuf>,
    as_uid: Option<u32>,
    seccomp_ns: Option<String>,
    deny_af: Vec<String>,
    kill: Vec<String>,
    cmd: Vec<String>,
}

fn parse() -> Result<Plan, String> {
    let mut p = Plan::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--userns-limit" => {
                let v = val()?;
                let (k, n) = v.split_once('=').ok_or("--userns-limit KIND=N")?;
                p.limits.push((k.to_string(), n.to_string()));
            }
            "--chroot" => p.chroot = Some(PathBuf::from(val()?)),
            "--chroot-bind-root" => p.chroot_bind_root = Some(PathBuf::from(val()?)),
            "--as-uid" => p.as_uid = Some(val()?.parse().map_err(|_| "--as-uid N")?),
            "--seccomp-ns" => p.seccomp_ns = Some(val()?),
            "--seccomp-deny-af" => p.deny_af.push(val()?),
            "--seccomp-kill" => p.kill.push(val()?),
            "--" => {
                p.cmd = args.collect();
                break;
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if p.cmd.is_empty() {
        return Err("usage: nsd-faultwrap [options] -- CMD ARGS…".to_string());
    }
    Ok(p)
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("nsd-faultwrap: {e}");
            ExitCode::from(125)
        }
    }
}

fn run() -> Result<u8, String> {
    let plan = parse()?;
    if !plan.limits.is_empty() {
        if let Some(code) = enter_limited_userns(&plan.limits)? {
            return Ok(code);
        }
    }
    if let Some(dir) = &plan.chroot {
        enter_chroot(dir)?;
    }
    if let Some(dir) = &plan.chroot_bind_root {
        enter_bind_root_chroot(dir)?;
    }
    if let Some(n) = plan.as_uid {
        setgroups(&[]).map_err(|e| format!("setgroups: {e}"))?;
        setresgid(Gid::from_raw(n), Gid::from_raw(n), Gid::from_raw(n)).map_err(|e| format!("setresgid: {e}"))?;
        setresuid(Uid::from_raw(n), Uid::from_raw(n), Uid::from_raw(n)).map_err(|e| format!("setresuid: {e}"))?;
    }
    let mut progs = Vec::new();
    if let Some(list) = &plan.seccomp_ns {
        let blocked = if list == "all" {
            filter::ns_all()
        } else {
            let mut m = 0;
            for name in list.split(',') {
                m |= filter::NS_FLAGS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, f)| *f)
                    .ok_or(format!("unknown namespace {name}"))?;
            }
            m
        };
        progs.extend(filter::restrict_namespaces(filter::ns_all() & !blocked)?);
    }
    if !plan.deny_af.is_empty() {
        let fams: Vec<u64> = plan
            .deny_af
            .iter()
            .map(|f| match f.as_str() {
                "NETLINK" | "AF_NETLINK" => Ok(libc::AF_NETLINK as u64),
                other => Err(format!("unsupported family {other}")),
            })
            .collect::<Result<_, _>>()?;
        progs.push(filter::address_families(false, &fams)?);
    }
    if !plan.kill.is_empty() {
        let nrs = plan
            .kill
            .iter()
            .map(|n| syscalls::number(n).ok_or(format!("unknown syscall {n}")))
            .collect::<Result<Vec<_>, _>>()?;
        progs.push(filter::syscall_filter(false, &nrs, filter::Refuse::Kill)?);
    }
    for p in &progs {
        seccompiler::apply_filter(p).map_err(|e| format!("seccomp: {e}"))?;
    }
    let cargs: Vec<CString> =
        plan.cmd.iter().map(|a| CString::new(a.as_str())).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let first = cargs.first().ok_or("no command")?;
    let e = nix::unistd::execvp(first, &cargs).err();
    Err(format!("exec {}: {e:?}", plan.cmd.join(" ")))
}

#[expect(unsafe_code, reason = "fork: this helper is single-threaded")]
fn fork() -> Result<ForkResult, String> {
    // SAFETY: no threads exist; the child continues as a normal program.
    unsafe { nix::unistd::fork() }.map_err(|e| format!("fork: {e}"))
}

/// Returns `Some(exit code)` in the parent (which only writes the maps and waits), `None` in the child that
/// goes on inside the limited namespace.
fn enter_limited_userns(limits: &[(String, String)]) -> Result<Option<u8>, String> {
    let (to_child_r, to_child_w) = nix::unistd::pipe().map_err(|e| e.to_string())?;
    let (to_parent_r, to_parent_w) = nix::unistd::pipe().map_err(|e| e.to_string())?;
    match fork()? {
        ForkResult::Child => {
            drop(to_child_w);
            drop(to_parent_r);
            unshare(CloneFlags::CLONE_NEWUSER).map_err(|e| format!("unshare(CLONE_NEWUSER): {e}"))?;
            std::fs::File::from(to_parent_w).write_all(b"x").map_err(|e| e.to_string())?;
            let mut b = [0u8; 1];
            std::fs::File::from(to_child_r).read_exact(&mut b).map_err(|e| format!("waiting for maps: {e}"))?;
            setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0)).map_err(|e| format!("setresgid: {e}"))?;
            setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0)).map_err(|e| format!("setresuid: {e}"))?;
            for (kind, n) in limits {
                let path = format!("/proc/sys/user/max_{kind}_namespaces");
                std::fs::write(&path, n).map_err(|e| format!("{path}: {e}"))?;
            }
            Ok(None)
        }
        ForkResult::Parent { child } => {
            drop(to_child_r);
            drop(to_parent_w);
            let mut b = [0u8; 1];
            let mut r = std::fs::File::from(to_parent_r);
            if r.read_exact(&mut b).is_ok() {
                for m in ["uid_map", "gid_map"] {
                    let path = format!("/proc/{child}/{m}");
                    std::fs::write(&path, "0 0 65536\n").map_err(|e| format!("{path}: {e}"))?;
                }
                std::fs::File::from(to_child_w).write_all(b"x").map_err(|e| e.to_string())?;
            } else {
                drop(to_child_w);
            }
            loop {
                match waitpid(child, None) {
                    Ok(WaitStatus::Exited(_, c)) => return Ok(Some(u8::try_from(c).unwrap_or(1))),
                    Ok(WaitStatus::Signaled(_, s, _)) => return Ok(Some(128u8.saturating_add(s as u8))),
                    Ok(_) => continue,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(format!("waitpid: {e}")),
                }
            }
        }
    }
}

fn enter_bind_root_chroot(dir: &Path) -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| format!("make / private: {e}"))?;
    mount(Some("/"), dir, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
        .map_err(|e| format!("bind / on {}: {e}", dir.display()))?;
    chroot(dir).map_err(|e| format!("chroot: {e}"))?;
    chdir("/").map_err(|e| format!("chdir: {e}"))?;
    Ok(())
}

fn enter_chroot(dir: &Path) -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| format!("make / private: {e}"))?;
    for name in ["bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "proc", "dev"] {
        let src = Path::new("/").join(name);
        let dst = dir.join(name);
        let Ok(md) = std::fs::symlink_metadata(&src) else { continue };
        if md.file_type().is_symlink() {
            let target = std::fs::read_link(&src).map_err(|e| format!("{}: {e}", src.display()))?;
            if std::fs::symlink_metadata(&dst).is_err() {
                symlink(&target, &dst).map_err(|e| format!("{}: {e}", dst.display()))?;
            }
        } else if md.is_dir() {
            std::fs::create_dir_all(&dst).map_err(|e| format!("{}: {e}", dst.display()))?;
            mount(Some(&src), &dst, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
                .map_err(|e| format!("bind {}: {e}", src.display()))?;
        }
    }
    chroot(dir).map_err(|e| format!("chroot: {e}"))?;
    chdir("/").map_err(|e| format!("chdir: {e}"))?;
    Ok(())
}
