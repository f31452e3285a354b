//! Static facts: read-only looks at /proc, /sys, /etc and the environment.
//! Every read that fails becomes `Fact::Unavailable` with its errno; nothing here panics on host data.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use policy_core::fact::Fact;
use policy_core::report::{AppArmorFacts, Distro, Identity, Kernel, Lsm, Platform, ProcessState, SelinuxMode, Sysctls};

use super::evidence::{fact_errno, io_errno, unavailable};

/// Reads a small text file.
pub fn read(path: &str) -> Result<String, std::io::Error> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    // /proc and /sys files are small; the cap keeps a weird file from costing memory. The buffer is sized up
    // front so a /proc file comes in one read (`read_to_string` on an empty String probes with 32-byte reads,
    // and each read of a seq_file costs a syscall).
    let mut buf = Vec::with_capacity(8192);
    f.take(1 << 20).read_to_end(&mut buf)?;
    String::from_utf8(buf)
        .map_err(|_| std::io::Error::new(ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
}

fn text_fact(path: &str) -> Fact<String> {
    match read(path) {
        Ok(s) => Fact::Observed(s.trim().to_string()),
        Err(e) => unavailable(path, &e),
    }
}

fn exists_fact(path: &str) -> Fact<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Fact::Observed(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Fact::Observed(false),
        Err(e) => unavailable(path, &e),
    }
}

fn exists(path: &str) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// A field of /proc/self/status, trimmed.
pub fn status_field(key: &str) -> Option<String> {
    let s = read("/proc/self/status").ok()?;
    s.lines().find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')).map(|v| v.trim().to_string()))
}

fn status_fact<T: std::str::FromStr>(status: &Result<String, std::io::Error>, key: &str) -> Fact<T> {
    match status {
        Err(e) => unavailable("/proc/self/status", e),
        Ok(s) => {
            let v = s.lines().find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')).map(str::trim));
            match v.map(str::parse::<T>) {
                Some(Ok(v)) => Fact::Observed(v),
                Some(Err(_)) => Fact::unavailable(&format!("/proc/self/status {key} unparsable"), None),
                None => Fact::unavailable(&format!("/proc/self/status has no {key} (older kernel)"), None),
            }
        }
    }
}

fn selinux_active() -> bool {
    exists("/sys/fs/selinux/enforce")
}

/// The AppArmor label of this process: `/proc/self/attr/apparmor/current` (LSM stacking, 5.8+), else
/// `/proc/self/attr/current` unless SELinux owns it.
pub fn own_apparmor_label() -> Result<String, LabelUnreadable> {
    apparmor_label_at("/proc/self").map_err(|(path, e)| match e {
        Some(e) => LabelUnreadable::Read { path, errno: fact_errno(io_errno(&e)) },
        None => LabelUnreadable::Selinux { path },
    })
}

/// Why our AppArmor label could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelUnreadable {
    /// Reading the procattr file failed.
    Read { path: String, errno: policy_core::fact::Errno },
    /// The only procattr file is SELinux's.
    Selinux { path: String },
}

impl std::fmt::Display for LabelUnreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LabelUnreadable::Read { path, errno } => write!(f, "{path}: {}", errno.name),
            LabelUnreadable::Selinux { path } => write!(f, "{path} belongs to SELinux"),
        }
    }
}

/// Another process's AppArmor label with its mode (`steam (complain)`), read as ours is.
pub fn apparmor_label_of(pid: u32) -> Fact<String> {
    match apparmor_label_at(&format!("/proc/{pid}")) {
        Ok(l) => Fact::Observed(l),
        Err((path, Some(e))) => unavailable(&path, &e),
        Err((path, None)) => Fact::unavailable(&format!("{path} belongs to SELinux"), None),
    }
}

/// A process's AppArmor label: `attr/apparmor/current` (kernels with LSM stacking), else `attr/current` unless
/// SELinux owns that file. Err: the file read and its error (None when it is SELinux's).
fn apparmor_label_at(proc: &str) -> Result<String, (String, Option<std::io::Error>)> {
    let new = format!("{proc}/attr/apparmor/current");
    match read(&new) {
        Ok(s) => return Ok(clean_label(&s)),
        Err(e) if e.kind() != ErrorKind::NotFound => return Err((new, Some(e))),
        Err(_) => {}
    }
    let old = format!("{proc}/attr/current");
    if selinux_active() {
        return Err((old, None));
    }
    read(&old).map(|s| clean_label(&s)).map_err(|e| (old, Some(e)))
}

/// The profile name of a label: `steam (complain)` → `steam`; `unconfined` and stacked or empty labels → None.
pub fn profile_of_label(label: &str) -> Option<String> {
    let name = label.rsplit_once(" (").map(|(n, _)| n).unwrap_or(label).trim();
    (!name.is_empty() && name != "unconfined" && !name.contains("//&")).then(|| name.to_string())
}

/// Snap confinement: `SNAP_NAME` (snapd sets it for every app it runs) or a `snap.NAME.APP` label.
pub fn snap(label: Option<&str>) -> Fact<String> {
    if let Some(l) = label.and_then(|l| l.strip_prefix("snap.")) {
        return Fact::Observed(l.split('.').next().unwrap_or("").to_string());
    }
    Fact::Observed(std::env::var("SNAP_NAME").unwrap_or_default())
}

/// An agent or app sandbox around us, by the variable it sets for the commands it runs: Codex sets
/// `CODEX_SANDBOX_NETWORK_DISABLED=1` (and `CODEX_SANDBOX` under Seatbelt) for its shell tool (openai/codex
/// AGENTS.md); Flatpak sets `FLATPAK_ID` (flatpak-run(1)).
pub fn outer_sandbox() -> Fact<String> {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    let name = if set("CODEX_SANDBOX_NETWORK_DISABLED") || set("CODEX_SANDBOX") {
        "codex"
    } else if set("FLATPAK_ID") {
        "flatpak"
    } else {
        ""
    };
    Fact::Observed(name.to_string())
}

/// The CI service or managed platform, from the markers each documents: GitHub Actions `GITHUB_ACTIONS=true`
/// and `RUNNER_ENVIRONMENT` (`github-hosted` or `self-hosted`), GitLab `GITLAB_CI=true`, Codespaces
/// `CODESPACES=true`, VS Code Dev Containers `REMOTE_CONTAINERS=true`, OrbStack's kernel release
/// (`…-orbstack-…`), GKE (Kubernetes on a node whose DMI product is `Google Compute Engine`), and `CI=true`.
pub fn ci_platform(release: &str, kubernetes: bool) -> Fact<String> {
    let env = |k: &str| std::env::var(k).ok().map(|v| v.trim().to_ascii_lowercase());
    let yes = |k: &str| env(k).is_some_and(|v| v == "true" || v == "1");
    let name = if yes("GITHUB_ACTIONS") {
        if env("RUNNER_ENVIRONMENT").as_deref() == Some("self-hosted") {
            "github-actions-self-hosted"
        } else {
            "github-actions"
        }
    } else if yes("GITLAB_CI") {
        "gitlab-ci"
    } else if yes("CODESPACES") {
        "codespaces"
    } else if yes("REMOTE_CONTAINERS") {
        "devcontainer"
    } else if release.contains("orbstack") {
        "orbstack"
    } else if kubernetes && read("/sys/class/dmi/id/product_name").is_ok_and(|p| p.trim() == "Google Compute Engine") {
        "gke"
    } else if yes("CI") {
        "ci"
    } else {
        ""
    };
    Fact::Observed(name.to_string())
}

fn clean_label(s: &str) -> String {
    s.trim_end_matches(['\0', '\n']).trim().to_string()
}

/// The probed process (in the probe child, after the id change and the unit's filters).
pub fn process_state() -> ProcessState {
    let status = read("/proc/self/status");
    let apparmor_label = match own_apparmor_label() {
        Ok(l) => Fact::Observed(l),
        // EINVAL: no LSM provides a process label.
        Err(e @ LabelUnreadable::Read { errno: policy_core::fact::Errno { number: libc::EINVAL, .. }, .. }) => {
            Fact::Unavailable(policy_core::fact::Unavailable {
                errno: Some(policy_core::fact::Errno::named("EINVAL")),
                reason: format!("{e} (no LSM provides a process label)"),
            })
        }
        Err(e) => Fact::Unavailable(policy_core::fact::Unavailable { errno: None, reason: e.to_string() }),
    };
    let selinux_context = if selinux_active() {
        match read("/proc/self/attr/current") {
            Ok(s) => Fact::Observed(clean_label(&s)),
            Err(e) => unavailable("/proc/self/attr/current", &e),
        }
    } else {
        Fact::unavailable("SELinux not active (/sys/fs/selinux/enforce absent)", None)
    };
    ProcessState {
        no_new_privs: match status_fact::<u8>(&status, "NoNewPrivs") {
            Fact::Observed(v) => Fact::Observed(v != 0),
            Fact::Unavailable(u) => Fact::Unavailable(u),
            Fact::NotProbed => Fact::NotProbed,
        },
        seccomp_mode: status_fact(&status, "Seccomp"),
        seccomp_filters: status_fact(&status, "Seccomp_filters"),
        cap_eff: status_fact(&status, "CapEff"),
        cap_bnd: status_fact(&status, "CapBnd"),
        apparmor_label,
        selinux_context,
        chrooted: Fact::NotProbed,
        uid_map: match read("/proc/self/uid_map") {
            Ok(s) => Fact::Observed(normalize_map(&s)),
            Err(e) => unavailable("/proc/self/uid_map", &e),
        },
        threads: status_fact(&status, "Threads"),
    }
}

/// `/proc/self/uid_map` with runs of spaces collapsed, one line per mapping.
fn normalize_map(s: &str) -> String {
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The probed process's ids.
pub fn identity() -> Identity {
    let mut id = identity_ids();
    if let Fact::Observed(uid) = id.uid {
        id.user = user_name(uid);
    }
    id
}

/// The probed process's ids, without the user name: in a probe child, which sends them to the parent, the
/// passwd lookup (NSS: nscd socket, nsswitch.conf, passwd) would delay the probe; the parent looks the name up
/// with [`user_name`] meanwhile.
pub fn identity_ids() -> Identity {
    let res = nix::unistd::getresuid();
    let resg = nix::unistd::getresgid();
    let mut groups: Vec<u32> =
        nix::unistd::getgroups().map(|g| g.iter().map(|g| g.as_raw()).collect()).unwrap_or_default();
    groups.sort_unstable();
    groups.dedup();
    let uid = nix::unistd::getuid();
    Identity {
        uid: Fact::Observed(uid.as_raw()),
        euid: res
            .map(|r| Fact::Observed(r.effective.as_raw()))
            .unwrap_or_else(|_| Fact::Observed(nix::unistd::geteuid().as_raw())),
        gid: Fact::Observed(nix::unistd::getgid().as_raw()),
        egid: resg
            .map(|r| Fact::Observed(r.effective.as_raw()))
            .unwrap_or_else(|_| Fact::Observed(nix::unistd::getegid().as_raw())),
        groups: Fact::Observed(groups),
        user: Fact::NotProbed,
        probed_as: None,
    }
}

/// The passwd name of a uid.
pub fn user_name(uid: u32) -> Fact<String> {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => Fact::Observed(u.name),
        Ok(None) => Fact::unavailable("no passwd entry for this uid", None),
        Err(e) => Fact::unavailable("passwd lookup failed", Some(fact_errno(e))),
    }
}

pub fn kernel() -> Kernel {
    let uts = nix::sys::utsname::uname();
    let (release, arch) = match &uts {
        Ok(u) => (
            Fact::Observed(u.release().to_string_lossy().into_owned()),
            Fact::Observed(u.machine().to_string_lossy().into_owned()),
        ),
        Err(e) => (
            Fact::unavailable("uname failed", Some(fact_errno(*e))),
            Fact::unavailable("uname failed", Some(fact_errno(*e))),
        ),
    };
    Kernel {
        release,
        arch,
        proc_version: text_fact("/proc/version"),
        userns_supported: exists_fact("/proc/self/ns/user"),
    }
}

pub fn distro() -> Distro {
    let text = read("/etc/os-release").or_else(|_| read("/usr/lib/os-release"));
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            let f: Fact<String> = unavailable("/etc/os-release", &e);
            return Distro {
                id: f.clone(),
                version_id: f.clone(),
                id_like: unavailable("/etc/os-release", &e),
                pretty_name: f,
            };
        }
    };
    let kv = parse_os_release(&text);
    let get = |k: &str| match kv.get(k) {
        Some(v) => Fact::Observed(v.clone()),
        None => Fact::unavailable(&format!("os-release has no {k}"), None),
    };
    Distro {
        id: get("ID"),
        version_id: get("VERSION_ID"),
        id_like: match kv.get("ID_LIKE") {
            Some(v) => Fact::Observed(v.split_whitespace().map(str::to_string).collect()),
            None => Fact::unavailable("os-release has no ID_LIKE", None),
        },
        pretty_name: get("PRETTY_NAME"),
    }
}

pub fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            m.insert(k.trim().to_string(), v.replace("\\\"", "\"").replace("\\$", "$").replace("\\\\", "\\"));
        }
    }
    m
}

pub fn lsm() -> Lsm {
    let active = match read("/sys/kernel/security/lsm") {
        Ok(s) => Fact::Observed(s.trim().split(',').filter(|x| !x.is_empty()).map(str::to_string).collect()),
        Err(e) => unavailable("/sys/kernel/security/lsm", &e),
    };
    let apparmor_enabled = match read("/sys/module/apparmor/parameters/enabled") {
        Ok(s) => Fact::Observed(s.trim() == "Y"),
        // No module directory: AppArmor is not built into this kernel.
        Err(e) if e.kind() == ErrorKind::NotFound => Fact::Observed(false),
        Err(e) => unavailable("/sys/module/apparmor/parameters/enabled", &e),
    };
    let selinux = match read("/sys/fs/selinux/enforce") {
        Ok(s) if s.trim() == "1" => Fact::Observed(SelinuxMode::Enforcing),
        Ok(_) => Fact::Observed(SelinuxMode::Permissive),
        Err(e) if e.kind() == ErrorKind::NotFound => Fact::Observed(SelinuxMode::Disabled),
        Err(e) => unavailable("/sys/fs/selinux/enforce", &e),
    };
    let selinux_userns_class =
        if selinux_active() { exists_fact("/sys/fs/selinux/class/user_namespace") } else { Fact::Observed(false) };
    Lsm { active, apparmor_enabled, selinux, selinux_userns_class, landlock_abi: Fact::NotProbed }
}

fn int_fact(path: &str) -> Fact<i64> {
    match read(path) {
        Ok(s) => match s.trim().parse::<i64>() {
            Ok(v) => Fact::Observed(v),
            Err(_) => Fact::unavailable(&format!("{path} is not an integer"), None),
        },
        Err(e) => unavailable(path, &e),
    }
}

pub fn sysctls() -> Sysctls {
    Sysctls {
        apparmor_restrict_unprivileged_userns: int_fact("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
        apparmor_restrict_unprivileged_userns_complain: int_fact(
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns_complain",
        ),
        apparmor_restrict_unprivileged_userns_force: int_fact(
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns_force",
        ),
        apparmor_restrict_unprivileged_unconfined: int_fact(
            "/proc/sys/kernel/apparmor_restrict_unprivileged_unconfined",
        ),
        apparmor_unconfined_restrictions_userns: int_fact(
            "/sys/kernel/security/apparmor/features/policy/unconfined_restrictions/userns",
        ),
        unprivileged_userns_clone: int_fact("/proc/sys/kernel/unprivileged_userns_clone"),
        max_user_namespaces: int_fact("/proc/sys/user/max_user_namespaces"),
        max_net_namespaces: int_fact("/proc/sys/user/max_net_namespaces"),
        max_mnt_namespaces: int_fact("/proc/sys/user/max_mnt_namespaces"),
        max_pid_namespaces: int_fact("/proc/sys/user/max_pid_namespaces"),
    }
}

/// The AppArmor facts, and the profiles attaching to the parent's executable (`--parent-pid`).
pub fn apparmor(
    bwrap: Option<&str>,
    parent_exe: Option<&str>,
    parent_profile: Option<&str>,
) -> (AppArmorFacts, Fact<BTreeMap<String, String>>) {
    let (loaded_profiles, profile_modes) = match read("/sys/kernel/security/apparmor/profiles") {
        Ok(s) => {
            // Lines are `name (mode)`; names may contain spaces, the mode is the last parenthesised word.
            let mut names = Vec::new();
            let mut modes = BTreeMap::new();
            for l in s.lines().filter(|l| !l.trim().is_empty()) {
                let (name, mode) = match l.rsplit_once(" (") {
                    Some((n, m)) => (n, m.trim_end().trim_end_matches(')')),
                    None => (l, ""),
                };
                names.push(name.to_string());
                modes.insert(name.to_string(), mode.to_string());
            }
            names.sort();
            names.dedup();
            (Fact::Observed(names), Fact::Observed(modes))
        }
        Err(e) => (
            unavailable("/sys/kernel/security/apparmor/profiles", &e),
            unavailable("/sys/kernel/security/apparmor/profiles", &e),
        ),
    };
    let dir = Path::new("/etc/apparmor.d");
    let scan = |exe: Option<&str>, what: &str| match exe {
        Some(path) => super::apparmor_files::scan(dir, path),
        None => Fact::unavailable(what, None),
    };
    let for_bwrap = scan(bwrap, "no bwrap selected");
    // The starter's profile: by its executable (--parent-pid), else by the name probed under (--apparmor-profile).
    let for_parent = match (parent_exe, parent_profile) {
        (Some(_), _) | (None, None) => scan(parent_exe, "no parent process given"),
        (None, Some(name)) => super::apparmor_files::scan_name(dir, name),
    };
    let mut flags = BTreeMap::new();
    let mut attachments = BTreeMap::new();
    for m in [&for_bwrap, &for_parent] {
        for (name, a) in m.get().into_iter().flatten() {
            flags.insert(name.clone(), a.flags.clone());
            attachments.insert(name.clone(), a.attach.clone());
        }
    }
    let files = |f: &Fact<BTreeMap<String, super::apparmor_files::Attaching>>| match f {
        Fact::Observed(m) => Fact::Observed(m.iter().map(|(n, a)| (n.clone(), a.file.clone())).collect()),
        Fact::Unavailable(u) => Fact::Unavailable(u.clone()),
        Fact::NotProbed => Fact::NotProbed,
    };
    let (known, derived) = match &for_bwrap {
        Fact::Unavailable(u) if for_parent.get().is_none() => {
            (Fact::Unavailable(u.clone()), Fact::Unavailable(u.clone()))
        }
        _ => (Fact::Observed(flags), Fact::Observed(attachments)),
    };
    let facts = AppArmorFacts {
        bwrap_userns_restrict_file: exists_fact("/etc/apparmor.d/bwrap-userns-restrict"),
        bwrap_userns_restrict_extra: exists_fact("/usr/share/apparmor/extra-profiles/bwrap-userns-restrict"),
        unprivileged_userns_file: exists_fact("/etc/apparmor.d/unprivileged_userns"),
        loaded_profiles,
        abi_4_0: exists_fact("/etc/apparmor.d/abi/4.0"),
        profiles_for_bwrap: files(&for_bwrap),
        profile_modes,
        profile_flags: known,
        profile_attachments: derived,
    };
    (facts, files(&for_parent))
}

/// Mount table rows we use: mount point (relative to our root) and per-mount options.
pub struct MountRow {
    mount_point: String,
    options: String,
}

/// `/proc/self/mountinfo`, read once for [`chrooted`] and [`platform_scan`].
pub fn mountinfo() -> Result<Vec<MountRow>, std::io::Error> {
    let text = read("/proc/self/mountinfo")?;
    let mut rows = Vec::new();
    for line in text.lines() {
        let Some((left, _)) = line.split_once(" - ") else { continue };
        let l: Vec<&str> = left.split(' ').collect();
        let (Some(mp), Some(opts)) = (l.get(4), l.get(5)) else { continue };
        rows.push(MountRow { mount_point: unescape_mount(mp), options: (*opts).to_string() });
    }
    Ok(rows)
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape_mount(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// Whether the caller is chrooted, as the kernel's `current_chrooted()` sees it: its root is not the root of
/// its mount namespace. Decided by comparing with pid 1's root when both share a mount namespace (mount id +
/// inode, so a chroot into a bind mount of / is caught), else by mountinfo: no mount is shown at `/` when the
/// root is a plain directory.
pub fn chrooted(mountinfo: &Result<Vec<MountRow>, std::io::Error>) -> Fact<bool> {
    let same_mntns = match (std::fs::read_link("/proc/self/ns/mnt"), std::fs::read_link("/proc/1/ns/mnt")) {
        (Ok(a), Ok(b)) => Some(a == b),
        _ => None,
    };
    if same_mntns == Some(true) {
        if let (Some(a), Some(b)) = (root_id("/"), root_id("/proc/1/root/")) {
            return Fact::Observed(a != b);
        }
    }
    match mountinfo {
        Ok(rows) => {
            if !rows.iter().any(|r| r.mount_point == "/") {
                Fact::Observed(true)
            } else {
                let why = match same_mntns {
                    Some(false) => "pid 1 is in another mount namespace and / is a mount point",
                    _ => "pid 1's root is not readable to compare with, and / is a mount point",
                };
                Fact::unavailable(why, None)
            }
        }
        Err(e) => unavailable("/proc/self/mountinfo", e),
    }
}

/// (mount id, dev, inode) of a directory.
fn root_id(path: &str) -> Option<(u64, u64, u64)> {
    let md = std::fs::metadata(path).ok()?;
    Some((mount_id(path).unwrap_or(0), md.dev(), md.ino()))
}

#[expect(unsafe_code, reason = "statx for STATX_MNT_ID has no safe wrapper in nix 0.32")]
fn mount_id(path: &str) -> Option<u64> {
    let c = std::ffi::CString::new(path).ok()?;
    let mut stx = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: valid C string, a zeroed statx buffer of the right type; the kernel fills it.
    let r = unsafe { libc::statx(libc::AT_FDCWD, c.as_ptr(), 0, libc::STATX_MNT_ID, stx.as_mut_ptr()) };
    if r != 0 {
        return None;
    }
    // SAFETY: statx returned 0, so the buffer is initialised (and it was zeroed before).
    let stx = unsafe { stx.assume_init() };
    if stx.stx_mask & libc::STATX_MNT_ID != 0 { Some(stx.stx_mnt_id) } else { None }
}

/// `container=` from our environment or (root only) pid 1's.
fn container_env() -> Option<String> {
    if let Ok(v) = std::env::var("container") {
        return Some(v);
    }
    let raw = std::fs::read("/proc/1/environ").ok()?;
    raw.split(|b| *b == 0)
        .find_map(|kv| kv.strip_prefix(b"container=").map(|v| String::from_utf8_lossy(v).into_owned()))
}

/// The unit from `/proc/self/cgroup` when the process sits directly in a `*.service` cgroup.
fn cgroup_service_unit(cgroup: &Result<String, std::io::Error>) -> Fact<String> {
    match cgroup {
        Ok(s) => {
            let path =
                s.lines().find_map(|l| l.strip_prefix("0::")).or_else(|| s.lines().find_map(|l| l.split(':').nth(2)));
            match path.and_then(|p| p.rsplit('/').next()).filter(|last| last.ends_with(".service")) {
                // nsdoctor's own timer unit (contrib/systemd) is not the sandbox's service.
                Some(u) if u.starts_with("nsdoctor") => {
                    Fact::unavailable("nsdoctor's own check unit, not the sandbox's service", None)
                }
                Some(u) => Fact::Observed(u.to_string()),
                None => Fact::unavailable("not in a .service cgroup", None),
            }
        }
        Err(e) => unavailable("/proc/self/cgroup", e),
    }
}

/// The platform facts read from the host, waiting for the two that come from the probe child (its AppArmor label
/// and uid_map): the reads run while the probe children do.
pub struct PlatformScan {
    platform: Platform,
    /// A flatpak-run marker or a bwrap ancestor: nested in bwrap whatever the label says.
    nested_bwrap_seen: bool,
}

impl PlatformScan {
    pub fn finish(self, label: Option<&str>, uid_map: Option<&str>) -> Platform {
        let mut p = self.platform;
        p.nested_bwrap = Fact::Observed(label.is_some_and(|l| l.contains("bwrap")) || self.nested_bwrap_seen);
        p.in_userns = match uid_map {
            Some(m) => Fact::Observed(m.trim() != "0 0 4294967295"),
            None => Fact::unavailable("/proc/self/uid_map not read", None),
        };
        p
    }
}

pub fn platform_scan(proc_version: &Fact<String>, mountinfo: &Result<Vec<MountRow>, std::io::Error>) -> PlatformScan {
    let cg1 = read("/proc/1/cgroup").unwrap_or_default();
    let cg_self_read = read("/proc/self/cgroup");
    let cg_self = cg_self_read.as_deref().unwrap_or_default();
    let cgroups = format!("{cg1}\n{cg_self}");
    let cenv = container_env();
    let version = proc_version.get().cloned().unwrap_or_default();
    let rows = mountinfo;

    let docker = exists("/.dockerenv") || cgroups.contains("/docker/") || cgroups.contains("docker-");
    let podman = exists("/run/.containerenv") || cenv.as_deref() == Some("podman") || cgroups.contains("/libpod");
    let kubernetes = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() || cgroups.contains("kubepods");
    let lxc = matches!(cenv.as_deref(), Some("lxc") | Some("lxc-libvirt") | Some("incus"));
    // gVisor's /proc/version is a fixed fake (google/gvisor): old builds print this 2016 string.
    let gvisor = version.contains("gvisor")
        || version.contains("gVisor")
        || version.trim() == "Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016";
    let wsl2 = version.contains("microsoft-standard") || version.contains("WSL2");
    let wsl1 = version.contains("Microsoft") && !wsl2;
    let flatpak = exists("/.flatpak-info");
    let nested_bwrap_seen = exists("/run/.flatpak-info") || ancestor_is_bwrap();
    let unit = cgroup_service_unit(&cg_self_read);
    let systemd_service = std::env::var_os("INVOCATION_ID").is_some() || unit.get().is_some();

    let (proc_masks, proc_sys_readonly) = match rows {
        Ok(rows) => {
            let mut masks: Vec<String> = rows
                .iter()
                .filter(|r| r.mount_point.starts_with("/proc/"))
                // binfmt_misc on its permanently empty procfs directory is on every systemd host and does not
                // make /proc "too revealing" (fs/namespace.c mnt_already_visible skips empty dirs).
                .filter(|r| r.mount_point != "/proc/sys/fs/binfmt_misc")
                .map(|r| r.mount_point.clone())
                .collect();
            masks.sort();
            masks.dedup();
            let ro = rows
                .iter()
                .rev()
                .find(|r| r.mount_point == "/proc/sys")
                .map(|r| r.options.split(',').any(|o| o == "ro"))
                .unwrap_or(false);
            (Fact::Observed(masks), Fact::Observed(ro))
        }
        Err(e) => (unavailable("/proc/self/mountinfo", e), unavailable("/proc/self/mountinfo", e)),
    };
    let proc_subset_pid = match std::fs::symlink_metadata("/proc/sys") {
        Ok(_) => Fact::Observed(false),
        Err(e) if e.kind() == ErrorKind::NotFound => Fact::Observed(true),
        Err(e) => unavailable("/proc/sys", &e),
    };
    let platform = Platform {
        docker: Fact::Observed(docker),
        podman: Fact::Observed(podman),
        kubernetes: Fact::Observed(kubernetes),
        lxc: Fact::Observed(lxc),
        gvisor: Fact::Observed(gvisor),
        wsl1: Fact::Observed(wsl1),
        wsl2: Fact::Observed(wsl2),
        flatpak: Fact::Observed(flatpak),
        nested_bwrap: Fact::NotProbed,
        in_userns: Fact::NotProbed,
        systemd_service: Fact::Observed(systemd_service),
        systemd_unit: unit,
        proc_masks,
        proc_sys_readonly,
        proc_subset_pid,
        ci_platform: ci_platform(&version, kubernetes),
    };
    PlatformScan { platform, nested_bwrap_seen }
}

/// An ancestor process is bwrap (we run inside a sandbox). One read per ancestor: `/proc/PID/stat` has both
/// its command name and its parent.
fn ancestor_is_bwrap() -> bool {
    /// (comm, ppid) from `pid (comm) state ppid …`: comm may contain spaces and parentheses, so it ends at the
    /// last ')'.
    fn stat_of(pid: u32) -> Option<(String, u32)> {
        let stat = read(&format!("/proc/{pid}/stat")).ok()?;
        let (head, rest) = stat.rsplit_once(')')?;
        let comm = head.split_once('(').map(|(_, c)| c.to_string())?;
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok())?;
        Some((comm, ppid))
    }
    let Some((_, mut ppid)) = stat_of(std::process::id()) else { return false };
    for _ in 0..32 {
        if ppid <= 1 {
            return false;
        }
        let Some((comm, next)) = stat_of(ppid) else { return false };
        if comm.trim() == "bwrap" {
            return true;
        }
        ppid = next;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quotes() {
        let m =
            parse_os_release("ID=ubuntu\nVERSION_ID=\"24.04\"\nPRETTY_NAME='Ubuntu 24.04 LTS'\n# c\nID_LIKE=debian\n");
        assert_eq!(m.get("ID").map(String::as_str), Some("ubuntu"));
        assert_eq!(m.get("VERSION_ID").map(String::as_str), Some("24.04"));
        assert_eq!(m.get("PRETTY_NAME").map(String::as_str), Some("Ubuntu 24.04 LTS"));
    }
}
