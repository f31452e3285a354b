//! Symptom classifier: real-world error text (bwrap, util-linux, podman, Chromium, audit lines) → symptoms.
//!
//! Matching is by substring on each line, so a translated or tool-specific prefix (`codex: `, a localized
//! `Fehler: `) does not hide the English tail. Errnos come from the strerror tail when it is English; bwrap's
//! errno after `loopback: Failed RTM_*` is stale (bubblewrap `network.c` `rtnl_read_reply` does not set errno)
//! and is dropped.

use serde::Serialize;

use crate::errno;

/// What a line says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SymptomKind {
    /// bwrap `Unknown option --argv0`: the bwrap is older than the tool's command line.
    BwrapUnknownOption,
    /// bwrap `No permissions to creat… new namespace` (clone EPERM with --unshare-user, all wordings).
    BwrapNoPermissions,
    /// bwrap `Creating new namespace failed: <strerror>`.
    BwrapCreateFailed,
    /// bwrap `…max_*_namespaces exceeded (ENOSPC)`.
    BwrapCreateEnospc,
    /// bwrap `…kernel does not support user namespaces` (clone EINVAL).
    BwrapKernelNoUserns,
    /// `setting up uid map`, `write failed /proc/self/uid_map`.
    UidMap,
    /// `setting up gid map`, `write failed /proc/self/gid_map`.
    GidMap,
    /// `error writing to setgroups`, `write /proc/self/setgroups`.
    Setgroups,
    /// bwrap `loopback: Failed RTM_NEWADDR|RTM_NEWLINK` (errno stale).
    LoopbackRtm,
    /// `Failed to create NETLINK_ROUTE socket`.
    NetlinkSocket,
    /// `Failed to make / slave`.
    MountSlave,
    /// `Failed to mount tmpfs`, `pivot_root`.
    MountTmpfs,
    /// `Can't mount proc`, `mount /proc failed`.
    ProcMount,
    /// `Can't read /proc/sys/kernel/overflowuid` (procfs subset=pid).
    ProcSysMissing,
    /// util-linux `unshare: unshare failed: <strerror>`.
    UnshareFailed,
    /// rootless podman/buildah `cannot clone: <strerror>`.
    CannotClone,
    /// newuidmap/newgidmap failures.
    Newuidmap,
    /// Chromium/Electron `No usable sandbox!`.
    NoUsableSandbox,
    /// Chromium `The SUID sandbox helper binary was found, but is not configured correctly`.
    SuidHelperMisconfigured,
    /// setuid bwrap `capset failed`, `Unexpected capabilities but not setuid`.
    SetuidCapset,
    /// AppArmor audit `operation="userns_create"` DENIED.
    AuditUsernsCreateDenied,
    /// AppArmor audit `Userns create - transitioning profile` or a denial inside `unprivileged_userns`.
    AuditUnprivilegedUserns,
    /// AppArmor audit `failed to find unprivileged_userns profile`.
    AuditUnprivilegedMissing,
    /// AppArmor audit DENIED `operation="mount"` (container profiles).
    AuditApparmorMount,
    /// SELinux `avc: denied { create } … tclass=user_namespace`.
    AuditSelinuxUserns,
    /// SELinux AVC denial of a mount in a container domain.
    AuditSelinuxMount,
    /// Seccomp audit `type=1326` / `Bad system call` / exit status 159.
    SeccompKill,
    /// bwrap `--disable-userns` failures.
    DisableUserns,
    /// `EINVAL` from a user-namespace unshare/clone outside bwrap wording.
    UsernsEinval,
    /// Any other `bwrap: …: <strerror>` line (e.g. `Can't mkdir parents for /tmp: Function not implemented`).
    BwrapOther,
}

/// One classified line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Symptom {
    pub kind: SymptomKind,
    /// The errno the text names, when it is trustworthy.
    pub errno: Option<&'static str>,
    /// 1-based line number in the text.
    pub line_no: usize,
    /// The line, trimmed and cut to 300 characters.
    pub line: String,
}

/// Most symptoms kept per text (first occurrence of each kind+errno wins).
const MAX_SYMPTOMS: usize = 64;

fn tail_errno(line: &str, marker: &str) -> Option<&'static str> {
    let idx = line.find(marker)?;
    let rest = line.get(idx.checked_add(marker.len())?..)?;
    errno_in(rest)
}

/// Finds an English strerror or a `(ENAME)` token in `s`.
fn errno_in(s: &str) -> Option<&'static str> {
    if let Some(open) = s.find("(E") {
        if let Some(tok) = s.get(open.saturating_add(1)..) {
            let name: String = tok.chars().take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit()).collect();
            if let Some(n) = errno::number_of(&name) {
                return errno::name_of(n);
            }
        }
    }
    errno::all().find(|(_, text)| s.contains(text)).map(|(name, _)| name)
}

fn cut(line: &str) -> String {
    crate::render::ellipsize(line.trim(), 300)
}

fn classify_line(line: &str) -> Vec<(SymptomKind, Option<&'static str>)> {
    use SymptomKind as K;
    let mut out = Vec::new();
    if line.contains("bwrap") && line.contains("Unknown option") {
        out.push((K::BwrapUnknownOption, None));
    }
    // bwrap clone failures.
    if line.contains("No permissions to creat") {
        out.push((K::BwrapNoPermissions, Some("EPERM")));
    }
    if line.contains("Creating new namespace failed") {
        if line.contains("max_") && line.contains("ENOSPC") || line.contains("nesting depth") {
            out.push((K::BwrapCreateEnospc, Some("ENOSPC")));
        } else if line.contains("does not support user namespaces") {
            out.push((K::BwrapKernelNoUserns, Some("EINVAL")));
        } else {
            out.push((K::BwrapCreateFailed, tail_errno(line, "Creating new namespace failed")));
        }
    }
    // id maps.
    if line.contains("setting up uid map") || line.contains("/proc/self/uid_map") || line.contains("write uid_map") {
        out.push((K::UidMap, tail_errno(line, "uid").or_else(|| errno_in(line))));
    } else if line.contains("setting up gid map") || line.contains("/proc/self/gid_map") {
        out.push((K::GidMap, errno_in(line)));
    }
    if line.contains("error writing to setgroups") || line.contains("/proc/self/setgroups") {
        out.push((K::Setgroups, errno_in(line)));
    }
    if line.contains("newuidmap") || line.contains("newgidmap") {
        out.push((K::Newuidmap, errno_in(line)));
    }
    // network.
    if line.contains("Failed RTM_NEWADDR") || line.contains("Failed RTM_NEWLINK") {
        out.push((K::LoopbackRtm, None));
    }
    if line.contains("NETLINK_ROUTE socket") {
        out.push((K::NetlinkSocket, errno_in(line)));
    }
    // mounts and proc.
    if line.contains("Failed to make / slave") {
        out.push((K::MountSlave, errno_in(line)));
    }
    if line.contains("Failed to mount tmpfs") || line.contains("pivot_root:") {
        out.push((K::MountTmpfs, errno_in(line)));
    }
    if line.contains("Can't mount proc") || line.contains("mount /proc failed") || line.contains("Mount too revealing")
    {
        out.push((K::ProcMount, errno_in(line).or(Some("EPERM"))));
    }
    if line.contains("/proc/sys/kernel/overflowuid") {
        out.push((K::ProcSysMissing, Some("ENOENT")));
    }
    if line.contains("max_user_namespaces")
        && (line.contains("cannot open") || line.contains("sysctl user.max_user_namespaces"))
        || line.contains("creation of new user namespaces was not disabled")
    {
        out.push((K::DisableUserns, errno_in(line)));
    }
    // util-linux and container tools.
    if line.contains("unshare failed") {
        out.push((K::UnshareFailed, tail_errno(line, "unshare failed")));
    }
    if line.contains("cannot clone:") {
        out.push((K::CannotClone, tail_errno(line, "cannot clone:")));
    }
    // Chromium / Electron.
    if line.contains("No usable sandbox!") {
        out.push((K::NoUsableSandbox, None));
    }
    if line.contains("SUID sandbox helper binary was found, but is not configured correctly")
        || line.contains("SUID sandbox helper binary was not found")
    {
        out.push((K::SuidHelperMisconfigured, None));
    }
    if line.contains("capset failed") || line.contains("Unexpected capabilities but not setuid") {
        out.push((K::SetuidCapset, errno_in(line)));
    }
    // Audit lines.
    // apparmor.d's `aa-log` prints denials without the kernel's `apparmor=` key.
    if !line.contains("apparmor=") && line.contains("DENIED") && line.contains("userns_create") {
        out.push((K::AuditUsernsCreateDenied, Some("EACCES")));
    }
    if line.contains("apparmor=") {
        let denied = line.contains("DENIED");
        if line.contains("failed to find unprivileged_userns profile") {
            out.push((K::AuditUnprivilegedMissing, Some("EACCES")));
        } else if line.contains("transitioning profile")
            || line.contains("profile=\"unprivileged_userns\"")
            || line.contains("unpriv_bwrap")
        {
            out.push((K::AuditUnprivilegedUserns, None));
        } else if denied && line.contains("operation=\"userns_create\"") {
            out.push((K::AuditUsernsCreateDenied, Some("EACCES")));
        } else if denied && line.contains("operation=\"mount\"") {
            out.push((K::AuditApparmorMount, Some("EACCES")));
        }
    }
    if line.contains("avc:") && line.contains("denied") {
        if line.contains("tclass=user_namespace") {
            out.push((K::AuditSelinuxUserns, Some("EACCES")));
        } else if line.contains("{ mount }") || line.contains("tclass=filesystem") {
            out.push((K::AuditSelinuxMount, Some("EACCES")));
        }
    }
    if line.contains("type=1326")
        || line.contains("type=SECCOMP")
        || line.contains("Bad system call")
        || line.contains("exit status 159")
        || line.contains("exit code 159")
    {
        out.push((K::SeccompKill, None));
    }
    if out.is_empty() && line.contains("bwrap: ") {
        if let Some(e) = tail_errno(line, "bwrap: ") {
            out.push((K::BwrapOther, Some(e)));
        }
    }
    if out.is_empty()
        && (line.contains("CLONE_NEWUSER") || line.contains("unshare(") || line.contains("clone("))
        && line.contains("Invalid argument")
    {
        out.push((K::UsernsEinval, Some("EINVAL")));
    }
    out
}

/// Every `classify_line` match needs at least one of these substrings on the line. Scanning the whole text for
/// each needle once (SIMD `contains` on x86_64) and then testing lines only against the needles present keeps a
/// multi-MiB log linear and fast: most log lines are then rejected with one or two cheap checks.
const NEEDLES: &[&str] = &[
    "No permissions to creat",
    "Creating new namespace failed",
    "uid map",
    "uid_map",
    "gid map",
    "gid_map",
    "setgroups",
    "newuidmap",
    "newgidmap",
    "Failed RTM_NEW",
    "NETLINK_ROUTE",
    "Failed to make / slave",
    "Failed to mount tmpfs",
    "pivot_root:",
    "Can't mount proc",
    "mount /proc failed",
    "Mount too revealing",
    "overflowuid",
    "max_user_namespaces",
    "creation of new user namespaces",
    "unshare failed",
    "cannot clone:",
    "No usable sandbox!",
    "SUID sandbox helper",
    "capset failed",
    "Unexpected capabilities",
    "apparmor=",
    "userns_create",
    "avc:",
    "type=1326",
    "type=SECCOMP",
    "Bad system call",
    "exit status 159",
    "exit code 159",
    "bwrap: ",
    "CLONE_NEWUSER",
    "unshare(",
    "clone(",
];

/// Classifies every line of `text`. Linear in the text length; bounded output.
pub fn classify(text: &str) -> Vec<Symptom> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let present: Vec<&str> = NEEDLES.iter().copied().filter(|n| text.contains(n)).collect();
    let mut out: Vec<Symptom> = Vec::new();
    if present.is_empty() {
        return out;
    }
    for (i, line) in text.lines().enumerate() {
        if out.len() >= MAX_SYMPTOMS {
            break;
        }
        if !present.iter().any(|n| line.contains(n)) {
            continue;
        }
        for (kind, errno) in classify_line(line) {
            if out.len() < MAX_SYMPTOMS && !out.iter().any(|s| s.kind == kind && s.errno == errno) {
                out.push(Symptom { kind, errno, line_no: i.saturating_add(1), line: cut(line) });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> (SymptomKind, Option<&'static str>) {
        let v = classify(line);
        assert!(!v.is_empty(), "no symptom in {line:?}");
        (v[0].kind, v[0].errno)
    }

    #[test]
    fn every_bwrap_clone_wording() {
        use SymptomKind as K;
        // ≤ 0.11.0 (bubblewrap v0.8.0 bubblewrap.c), ≥ 0.11.1 (commit e023f36), Debian's patched wording.
        for l in [
            "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces. On e.g. debian this can be enabled with 'sysctl kernel.unprivileged_userns_clone=1'.",
            "bwrap: No permissions to create a new namespace, likely because the kernel does not allow non-privileged user namespaces.",
            "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces. See <https://deb.li/bubblewrap> or <file:///usr/share/doc/bubblewrap/README.Debian.gz>.",
        ] {
            assert_eq!(one(l), (K::BwrapNoPermissions, Some("EPERM")), "{l}");
        }
        assert_eq!(
            one(
                "bwrap: Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)"
            ),
            (K::BwrapCreateEnospc, Some("ENOSPC"))
        );
        assert_eq!(
            one("bwrap: Creating new namespace failed: Permission denied"),
            (K::BwrapCreateFailed, Some("EACCES"))
        );
        assert_eq!(
            one("bwrap: Creating new namespace failed: Operation not permitted"),
            (K::BwrapCreateFailed, Some("EPERM"))
        );
        assert_eq!(
            one(
                "bwrap: Creating new namespace failed, likely because the kernel does not support user namespaces.  bwrap must be installed setuid on such systems."
            ),
            (K::BwrapKernelNoUserns, Some("EINVAL"))
        );
    }

    #[test]
    fn later_stage_wordings() {
        use SymptomKind as K;
        assert_eq!(one("bwrap: setting up uid map: Permission denied"), (K::UidMap, Some("EACCES")));
        assert_eq!(
            one("unshare: write failed /proc/self/uid_map: Operation not permitted"),
            (K::UidMap, Some("EPERM"))
        );
        assert_eq!(one("bwrap: setting up gid map: Operation not permitted"), (K::GidMap, Some("EPERM")));
        // The errno after RTM_NEWADDR is stale (bubblewrap network.c): it must not be trusted.
        assert_eq!(one("bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted"), (K::LoopbackRtm, None));
        assert_eq!(one("bwrap: loopback: Failed RTM_NEWLINK: No child processes"), (K::LoopbackRtm, None));
        assert_eq!(
            one("bwrap: loopback: Failed to create NETLINK_ROUTE socket: Address family not supported by protocol"),
            (K::NetlinkSocket, Some("EAFNOSUPPORT"))
        );
        assert_eq!(one("bwrap: Failed to make / slave: Permission denied"), (K::MountSlave, Some("EACCES")));
        assert_eq!(
            one("bwrap: Can't mount proc on /newroot/proc: Operation not permitted"),
            (K::ProcMount, Some("EPERM"))
        );
        assert_eq!(
            one("bwrap: Can't read /proc/sys/kernel/overflowuid: No such file or directory"),
            (K::ProcSysMissing, Some("ENOENT"))
        );
        assert_eq!(one("unshare: unshare failed: No space left on device"), (K::UnshareFailed, Some("ENOSPC")));
        assert_eq!(one("unshare: unshare failed: Invalid argument"), (K::UnshareFailed, Some("EINVAL")));
    }

    #[test]
    fn containers_browsers_and_audit() {
        use SymptomKind as K;
        assert_eq!(one("Error: cannot clone: Operation not permitted"), (K::CannotClone, Some("EPERM")));
        assert_eq!(one("Error: cannot set up namespace using \"/usr/bin/newuidmap\": exit status 1").0, K::Newuidmap);
        assert_eq!(
            one("[1234:1234:FATAL:zygote_host_impl_linux.cc(128)] No usable sandbox! Update your kernel").0,
            K::NoUsableSandbox
        );
        assert_eq!(
            one("The SUID sandbox helper binary was found, but is not configured correctly. Rather than run without sandboxing I'm aborting now.").0,
            K::SuidHelperMisconfigured
        );
        assert_eq!(one("bwrap: capset failed: Operation not permitted"), (K::SetuidCapset, Some("EPERM")));
        assert_eq!(
            one("audit: type=1400 audit(1.2:3): apparmor=\"DENIED\" operation=\"userns_create\" class=\"namespace\" profile=\"foo\" pid=1 comm=\"bwrap\" requested=\"userns_create\" denied=\"userns_create\"").0,
            K::AuditUsernsCreateDenied
        );
        assert_eq!(
            one("audit: type=1400 apparmor=\"AUDIT\" operation=\"userns_create\" class=\"namespace\" info=\"Userns create - transitioning profile\" profile=\"unconfined\" pid=1 comm=\"bwrap\" target=\"unprivileged_userns\"").0,
            K::AuditUnprivilegedUserns
        );
        assert_eq!(
            one("type=AVC msg=audit(1:2): avc:  denied  { create } for  pid=3 comm=\"bwrap\" scontext=system_u:system_r:xdm_t:s0 tcontext=system_u:system_r:xdm_t:s0 tclass=user_namespace permissive=0").0,
            K::AuditSelinuxUserns
        );
        assert_eq!(
            one("audit: type=1326 audit(1:2): auid=1000 uid=1000 comm=\"bwrap\" sig=31 arch=c000003e syscall=165").0,
            K::SeccompKill
        );
    }

    #[test]
    fn a_translated_prefix_does_not_hide_the_english_tail() {
        assert_eq!(
            one("Fehler: Sandbox fehlgeschlagen: bwrap: setting up uid map: Permission denied"),
            (SymptomKind::UidMap, Some("EACCES"))
        );
        // A localized strerror is not guessed.
        assert_eq!(one("bwrap: setting up uid map: Keine Berechtigung"), (SymptomKind::UidMap, None));
    }

    #[test]
    fn every_classified_line_contains_a_needle() {
        // The examples of every test above pass through `classify`, which applies the gate; this checks the
        // gate against classify_line directly on lines that match.
        for line in [
            "bwrap: setting up uid map: Permission denied",
            "Error: cannot clone: Operation not permitted",
            "DENIED  docker-default userns_create comm=x",
            "bwrap: Can't mkdir parents for /tmp: Function not implemented",
            "unshare(CLONE_NEWUSER) failed: Invalid argument",
        ] {
            assert!(!classify_line(line).is_empty(), "{line}");
            assert!(NEEDLES.iter().any(|n| line.contains(n)), "{line}");
        }
    }

    #[test]
    fn unrelated_text_and_bounded_output() {
        assert!(classify("error: could not compile `foo`\nwarning: unused").is_empty());
        let many = "bwrap: setting up uid map: Permission denied\n".repeat(10_000);
        assert_eq!(classify(&many).len(), 1, "duplicates are folded");
        let long = format!("bwrap: setting up uid map: Permission denied {}", "x".repeat(10_000));
        assert!(classify(&long)[0].line.chars().count() <= 301);
    }
}
