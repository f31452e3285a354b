//! The rule registry. Each rule is declared once here; its long doc lives in `docs/rules/<CODE>.md` and its
//! detector in its cause family's module under `causes/` (function named after the rule, listed in `engine.rs`
//! `DETECTORS`). Codes are stable: never reuse or renumber one.

use crate::diagnosis::{Cause, Severity};

/// A registered rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    /// The highest severity the rule reports (a finding may be lowered, e.g. netns with `bridge` network).
    pub severity: Severity,
    pub cause: Cause,
    /// One-line title.
    pub title: &'static str,
    /// Markdown: `## What it means`, `## How it is detected`, `## How to fix`, `## Trade-offs`. Built in with the
    /// `docs` feature; the wasm engine gets it from the docs asset instead (see [`crate::api`]).
    #[cfg(feature = "docs")]
    pub doc: &'static str,
}

macro_rules! rules {
    ($( $code:literal $name:literal $sev:ident $cause:ident $title:literal ;)*) => {
        /// Every rule, in code order.
        pub const RULES: &[Rule] = &[ $( Rule {
            code: $code,
            name: $name,
            severity: Severity::$sev,
            cause: Cause::$cause,
            title: $title,
            #[cfg(feature = "docs")]
            doc: include_str!(concat!("../docs/rules/", $code, ".md")),
        }, )* ];
    };
}

rules! {
    "NSD101" "apparmor-userns-transition" Error ApparmorUsernsRestriction
        "AppArmor moved the new user namespace into a profile without capabilities";
    "NSD102" "apparmor-userns-create-denied" Error ApparmorUsernsRestriction
        "AppArmor refused to create the user namespace";
    "NSD103" "apparmor-restriction-covered" Info ApparmorUsernsRestriction
        "AppArmor restricts user namespaces, but the sandbox's bwrap has a profile that allows them";
    "NSD104" "apparmor-attachment-conflict" Error ApparmorAttachmentConflict
        "Two AppArmor profiles attach to the sandbox's bwrap, so the kernel attaches neither";
    "NSD105" "apparmor-profile-mode" Error ApparmorProfileMode
        "The AppArmor profile meant to exempt the sandbox is in complain or kill mode";
    "NSD106" "apparmor-profile-not-attached" Error ApparmorUsernsRestriction
        "An AppArmor profile for bwrap is installed, but not for the bwrap the sandbox runs";
    "NSD111" "userns-clone-sysctl-disabled" Error UnprivilegedUsernsCloneDisabled
        "kernel.unprivileged_userns_clone=0 forbids unprivileged user namespaces";
    "NSD121" "userns-limit-reached" Error UsernsLimitZero
        "A user.max_*_namespaces limit is zero or exhausted";
    "NSD122" "netns-limit-reached" Error UsernsLimitZero
        "user.max_net_namespaces is zero or exhausted";
    "NSD123" "nested-sandbox-limit" Error NestedUsernsLimit
        "Already inside a sandbox that does not allow a further user namespace";
    "NSD131" "container-seccomp-namespaces" Error ContainerSeccomp
        "The container's seccomp profile forbids creating namespaces";
    "NSD132" "container-without-sys-admin" Error ContainerNoCaps
        "Root in a container without CAP_SYS_ADMIN creates namespaces without a user namespace";
    "NSD133" "container-apparmor-denial" Error ContainerApparmorProfile
        "The container's AppArmor profile denies mount or user namespaces";
    "NSD134" "proc-masked" Error ProcMountRestricted
        "A masked /proc forbids mounting a new procfs";
    "NSD135" "gvisor-loopback-preconfigured" Error GvisorLoopback
        "gVisor pre-configures loopback in new network namespaces";
    "NSD141" "unit-restrict-namespaces" Error SystemdUnitHardening
        "The systemd unit's RestrictNamespaces= forbids the namespaces";
    "NSD142" "unit-address-families" Error SystemdUnitHardening
        "The systemd unit's RestrictAddressFamilies= forbids AF_NETLINK";
    "NSD143" "unit-syscall-filter-kill" Error SystemdUnitHardening
        "A seccomp filter kills the sandbox with SIGSYS";
    "NSD144" "unit-proc-hardening" Error SystemdUnitHardening
        "The systemd unit's ProtectKernelTunables=/ProcSubset= stop the sandbox's /proc";
    "NSD145" "unit-syscall-filter-errno" Error SystemdUnitHardening
        "The systemd unit's syscall filter answers a call bwrap needs with ENOSYS";
    "NSD151" "selinux-userns-denied" Error SelinuxDenial
        "SELinux denies the user namespace or its mounts";
    "NSD161" "setuid-helper-broken" Error SetuidSandboxBroken
        "The setuid sandbox helper is missing, not root-owned, or cannot gain privileges";
    "NSD162" "newuidmap-broken" Error NewuidmapBroken
        "newuidmap/newgidmap cannot write the id maps";
    "NSD171" "wsl1-no-userns" Error Wsl1NoUserns
        "WSL1 has no user namespaces";
    "NSD172" "kernel-without-userns" Error KernelNoUserns
        "The kernel does not support user namespaces";
    "NSD173" "chrooted-caller" Error Chroot
        "The caller runs in a chroot, where the kernel refuses user namespaces";
    "NSD174" "multithreaded-caller" Warning MultithreadedCaller
        "The calling program is multi-threaded, so unshare(CLONE_NEWUSER) fails with EINVAL";
    "NSD175" "bwrap-too-old" Error BwrapVersion
        "bwrap is older than the options the tool passes";
    "NSD181" "parent-apparmor-profile" Error OuterConfinement
        "The program that starts the sandbox runs under an AppArmor profile that denies its namespaces";
    "NSD182" "snap-confinement" Error OuterConfinement
        "The sandbox runs inside snap confinement";
    "NSD183" "landlock-domain" Error OuterConfinement
        "An outer Landlock domain leaves /proc read-only, so the id maps cannot be written";
    "NSD191" "replay-disagrees-with-ladder" Warning Unknown
        "The real bwrap and the syscall ladder disagree";
    "NSD199" "unexplained-failure" Error Unknown
        "A namespace step failed in a way no rule explains";
}

/// Looks a rule up by code (`NSD101`, case-insensitive) or name.
pub fn find(key: &str) -> Option<&'static Rule> {
    let k = key.trim();
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(k) || r.name.eq_ignore_ascii_case(k))
}

/// The rule with this code. Engine code only uses registered codes; an unknown one is a bug caught by tests.
pub(crate) fn by_code(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}
