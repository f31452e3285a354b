//! `ProbeReport`: everything the probe learned about one host, for one sandbox config.
//!
//! Every probed value is a [`Fact`] so that "could not read" (itself evidence, e.g. a 0600 sysctl) is distinct
//! from "did not look". A report that holds only `observed_error` and a distro is valid input.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::SandboxConfig;
use crate::fact::{Errno, Fact};

/// The report format version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// One probe run (or a hand-written stand-in for one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProbeReport {
    /// Must be 1.
    pub schema_version: u32,
    /// Who produced the report (`nsdoctor 0.1.0`, or `fixture` for hand-written test hosts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
    /// Free-text provenance: the real host or public report this stands for (fixtures must cite one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The sandbox the report was probed for; absent ⇒ the default (Codex `workspace-write`, no network).
    #[serde(default)]
    pub config: SandboxConfig,
    /// Where `config` came from, e.g. `default`, `flags`, `~/.codex/config.toml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_source: Option<String>,
    #[serde(default)]
    pub kernel: Kernel,
    #[serde(default)]
    pub distro: Distro,
    #[serde(default)]
    pub identity: Identity,
    #[serde(default)]
    pub process: ProcessState,
    #[serde(default)]
    pub lsm: Lsm,
    #[serde(default)]
    pub sysctl: Sysctls,
    #[serde(default)]
    pub apparmor: AppArmorFacts,
    #[serde(default)]
    pub platform: Platform,
    /// systemd unit properties (`systemctl show`), when the sandbox runs in a unit.
    #[serde(default)]
    pub unit: UnitFacts,
    #[serde(default)]
    pub bwrap: BwrapFacts,
    /// Confinement around the sandbox that is not the host's: the AppArmor profile of the program that starts
    /// it, snap confinement, an outer agent or app sandbox.
    #[serde(default)]
    pub confinement: Confinement,
    /// The probe ladder, in the order the steps ran. Step ids are unique.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Real bwrap runs with the sandbox's argv.
    #[serde(default)]
    pub replays: Vec<Replay>,
    /// An error text the user saw (bwrap stderr, Codex/Flatpak/Chromium output, audit lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Kernel {
    /// `uname -r`, e.g. `6.8.0-45-generic`.
    #[serde(default)]
    pub release: Fact<String>,
    /// `uname -m`, e.g. `x86_64`.
    #[serde(default)]
    pub arch: Fact<String>,
    /// `/proc/version` (tells WSL1 `Microsoft` and gVisor's fixed 2016 string apart).
    #[serde(default)]
    pub proc_version: Fact<String>,
    /// `/proc/self/ns/user` exists (false ⇒ `CONFIG_USER_NS=n`).
    #[serde(default)]
    pub userns_supported: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Distro {
    /// os-release `ID`, e.g. `ubuntu`.
    #[serde(default)]
    pub id: Fact<String>,
    /// os-release `VERSION_ID`, e.g. `24.04`.
    #[serde(default)]
    pub version_id: Fact<String>,
    /// os-release `ID_LIKE`, split on spaces.
    #[serde(default)]
    pub id_like: Fact<Vec<String>>,
    /// os-release `PRETTY_NAME`.
    #[serde(default)]
    pub pretty_name: Fact<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Identity {
    #[serde(default)]
    pub uid: Fact<u32>,
    #[serde(default)]
    pub euid: Fact<u32>,
    #[serde(default)]
    pub gid: Fact<u32>,
    #[serde(default)]
    pub egid: Fact<u32>,
    /// Supplementary groups, sorted.
    #[serde(default)]
    pub groups: Fact<Vec<u32>>,
    /// User name of `uid`.
    #[serde(default)]
    pub user: Fact<String>,
    /// The user the probe ran as when `--as-user` was given (else absent: the invoking user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probed_as: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProcessState {
    /// `/proc/self/status` `NoNewPrivs`.
    #[serde(default)]
    pub no_new_privs: Fact<bool>,
    /// `Seccomp`: 0 off, 1 strict, 2 filter.
    #[serde(default)]
    pub seccomp_mode: Fact<u8>,
    /// `Seccomp_filters` (kernel ≥ 5.9).
    #[serde(default)]
    pub seccomp_filters: Fact<u32>,
    /// `CapEff` as 16 hex digits.
    #[serde(default)]
    pub cap_eff: Fact<String>,
    /// `CapBnd` as 16 hex digits.
    #[serde(default)]
    pub cap_bnd: Fact<String>,
    /// AppArmor label (`/proc/self/attr/apparmor/current`, else `/proc/self/attr/current`), e.g. `unconfined`.
    #[serde(default)]
    pub apparmor_label: Fact<String>,
    /// SELinux context (`/proc/self/attr/current` when SELinux owns it).
    #[serde(default)]
    pub selinux_context: Fact<String>,
    /// The process root differs from its mount namespace root.
    #[serde(default)]
    pub chrooted: Fact<bool>,
    /// `/proc/self/uid_map` as read (identity map `0 0 4294967295` ⇒ initial user namespace).
    #[serde(default)]
    pub uid_map: Fact<String>,
    /// Threads in the calling program (`Threads:`), when a caller's state was captured.
    #[serde(default)]
    pub threads: Fact<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum SelinuxMode {
    Enforcing,
    Permissive,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Lsm {
    /// `/sys/kernel/security/lsm`, split on commas, in kernel order.
    #[serde(default)]
    pub active: Fact<Vec<String>>,
    /// `/sys/module/apparmor/parameters/enabled` = `Y`.
    #[serde(default)]
    pub apparmor_enabled: Fact<bool>,
    /// `/sys/fs/selinux/enforce` (absent ⇒ disabled).
    #[serde(default)]
    pub selinux: Fact<SelinuxMode>,
    /// `/sys/fs/selinux/class/user_namespace` exists: the policy mediates userns creation.
    #[serde(default)]
    pub selinux_userns_class: Fact<bool>,
    /// `landlock_create_ruleset(…VERSION)` result.
    #[serde(default)]
    pub landlock_abi: Fact<u32>,
}

/// Namespace-related sysctls, as integers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Sysctls {
    /// Ubuntu kernels only.
    #[serde(default)]
    pub apparmor_restrict_unprivileged_userns: Fact<i64>,
    #[serde(default)]
    pub apparmor_restrict_unprivileged_userns_complain: Fact<i64>,
    #[serde(default)]
    pub apparmor_restrict_unprivileged_userns_force: Fact<i64>,
    #[serde(default)]
    pub apparmor_restrict_unprivileged_unconfined: Fact<i64>,
    /// `/sys/kernel/security/apparmor/features/policy/unconfined_restrictions/userns` (world-readable twin).
    #[serde(default)]
    pub apparmor_unconfined_restrictions_userns: Fact<i64>,
    /// Debian/Arch/linux-hardened patch.
    #[serde(default)]
    pub unprivileged_userns_clone: Fact<i64>,
    #[serde(default)]
    pub max_user_namespaces: Fact<i64>,
    #[serde(default)]
    pub max_net_namespaces: Fact<i64>,
    #[serde(default)]
    pub max_mnt_namespaces: Fact<i64>,
    #[serde(default)]
    pub max_pid_namespaces: Fact<i64>,
}

/// AppArmor profiles that decide whether bwrap may use user namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AppArmorFacts {
    /// `/etc/apparmor.d/bwrap-userns-restrict` exists.
    #[serde(default)]
    pub bwrap_userns_restrict_file: Fact<bool>,
    /// `/usr/share/apparmor/extra-profiles/bwrap-userns-restrict` exists (24.04's `apparmor-profiles`).
    #[serde(default)]
    pub bwrap_userns_restrict_extra: Fact<bool>,
    /// `/etc/apparmor.d/unprivileged_userns` exists.
    #[serde(default)]
    pub unprivileged_userns_file: Fact<bool>,
    /// Loaded profile names (`/sys/kernel/security/apparmor/profiles`, root only), sorted.
    #[serde(default)]
    pub loaded_profiles: Fact<Vec<String>>,
    /// `/etc/apparmor.d/abi/4.0` exists (userspace can compile `userns,`).
    #[serde(default)]
    pub abi_4_0: Fact<bool>,
    /// Profiles under `/etc/apparmor.d` whose attachment names the selected bwrap path: profile name → file.
    /// Two or more with the same attachment means the kernel attaches none of them.
    #[serde(default)]
    pub profiles_for_bwrap: Fact<BTreeMap<String, String>>,
    /// Loaded profiles with their mode (`/sys/kernel/security/apparmor/profiles`, `name (mode)`, root only):
    /// `enforce`, `complain`, `kill`, `unconfined`, `prompt`.
    #[serde(default)]
    pub profile_modes: Fact<BTreeMap<String, String>>,
    /// The `flags=(…)` each profile in `profiles_for_bwrap` and `confinement.profiles_for_parent` declares in its
    /// file, comma-separated as written (`unconfined`, `complain`, `attach_disconnected,mediate_deleted`); empty
    /// when it declares none (enforce). What the mode will be after the next load, readable without root.
    #[serde(default)]
    pub profile_flags: Fact<BTreeMap<String, String>>,
    /// The attachment each of those profiles declares (an exact path or a glob). Of several profiles matching
    /// one executable the kernel picks the most specific; two equally specific ones (e.g. the same exact path)
    /// are a conflict and it attaches none (`conflicting profile attachments`, security/apparmor/domain.c).
    #[serde(default)]
    pub profile_attachments: Fact<BTreeMap<String, String>>,
}

/// Confinement that wraps the sandbox from outside the host's own policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Confinement {
    /// The AppArmor profile the probe's steps and bwrap replays ran under (entered with a change_profile, as
    /// `aa-exec -p` does), when one was asked for; absent when they ran under the caller's own label. The probe
    /// stops with an error when the profile cannot be entered, so a report naming one ran under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apparmor_profile: Option<String>,
    /// Where that profile came from: `--apparmor-profile`, or `--parent-pid PID` (that process's profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apparmor_profile_source: Option<String>,
    /// The process that starts the sandbox (`--parent-pid`): its AppArmor label with mode, e.g. `steam (complain)`.
    #[serde(default)]
    pub parent_label: Fact<String>,
    /// Its executable (`/proc/PID/exe`).
    #[serde(default)]
    pub parent_exe: Fact<String>,
    /// Profiles under `/etc/apparmor.d` whose attachment covers `parent_exe`: profile name → file.
    #[serde(default)]
    pub profiles_for_parent: Fact<BTreeMap<String, String>>,
    /// Snap confinement: the snap's name (`SNAP_NAME`, or a `snap.NAME.…` AppArmor label).
    #[serde(default)]
    pub snap: Fact<String>,
    /// An agent or app sandbox already around the probe, by its own marker (an environment variable that
    /// sandbox sets for the commands it runs), e.g. `codex` or `flatpak`.
    #[serde(default)]
    pub outer_sandbox: Fact<String>,
}

/// Where the probe runs: containers, WSL, sandboxes, service managers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// `/.dockerenv` or docker cgroup paths.
    #[serde(default)]
    pub docker: Fact<bool>,
    /// `/run/.containerenv`.
    #[serde(default)]
    pub podman: Fact<bool>,
    /// `KUBERNETES_SERVICE_HOST` or kubepods cgroups.
    #[serde(default)]
    pub kubernetes: Fact<bool>,
    /// LXC/Incus (`container=lxc`, Crostini).
    #[serde(default)]
    pub lxc: Fact<bool>,
    /// gVisor (`/proc/version` or dmesg `Starting gVisor`).
    #[serde(default)]
    pub gvisor: Fact<bool>,
    #[serde(default)]
    pub wsl1: Fact<bool>,
    #[serde(default)]
    pub wsl2: Fact<bool>,
    /// `/.flatpak-info`.
    #[serde(default)]
    pub flatpak: Fact<bool>,
    /// Already inside a bwrap sandbox (label `bwrap//&unpriv_bwrap`, `/run/.flatpak-info`, parent comm).
    #[serde(default)]
    pub nested_bwrap: Fact<bool>,
    /// The uid map is not the identity map: already inside a user namespace.
    #[serde(default)]
    pub in_userns: Fact<bool>,
    /// Run by systemd as a service (`INVOCATION_ID`, cgroup `*.service`).
    #[serde(default)]
    pub systemd_service: Fact<bool>,
    /// The unit name from the cgroup path, e.g. `openclaw-gateway.service`.
    #[serde(default)]
    pub systemd_unit: Fact<String>,
    /// Over-mounts under /proc found in mountinfo (masked paths), sorted.
    #[serde(default)]
    pub proc_masks: Fact<Vec<String>>,
    /// `/proc/sys` is mounted read-only.
    #[serde(default)]
    pub proc_sys_readonly: Fact<bool>,
    /// `/proc/sys` is missing (procfs `subset=pid`).
    #[serde(default)]
    pub proc_subset_pid: Fact<bool>,
    /// A CI service or managed platform, by its documented markers (environment variables, the kernel
    /// release, DMI): `github-actions`, `github-actions-self-hosted`, `gitlab-ci`, `codespaces`, `devcontainer`,
    /// `orbstack`, `gke`, `ci` (another CI that sets `CI=true`). Never from the network.
    #[serde(default)]
    pub ci_platform: Fact<String>,
}

/// `systemctl show` properties of the unit the sandbox runs in (raw strings: formats vary across systemd).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UnitFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub user: Fact<String>,
    #[serde(default)]
    pub restrict_namespaces: Fact<String>,
    #[serde(default)]
    pub system_call_filter: Fact<String>,
    #[serde(default)]
    pub system_call_error_number: Fact<String>,
    #[serde(default)]
    pub restrict_address_families: Fact<String>,
    #[serde(default)]
    pub proc_subset: Fact<String>,
    #[serde(default)]
    pub protect_kernel_tunables: Fact<String>,
    #[serde(default)]
    pub no_new_privileges: Fact<String>,
    #[serde(default)]
    pub apparmor_profile: Fact<String>,
}

/// The bwrap binaries found and the one the sandbox would run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BwrapFacts {
    /// Every candidate found, in the sandbox's search order.
    #[serde(default)]
    pub binaries: Vec<BwrapBinary>,
    /// Path of the binary the sandbox would run (one of `binaries`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<String>,
    /// How `selected` was chosen, e.g. `PATH`, `codex bundled`, `--bwrap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BwrapBinary {
    pub path: String,
    /// `bwrap --version`, e.g. `0.9.0`.
    #[serde(default)]
    pub version: Fact<String>,
    /// Mode has S_ISUID.
    #[serde(default)]
    pub setuid: Fact<bool>,
    /// Owner uid.
    #[serde(default)]
    pub owner_uid: Fact<u32>,
    /// Writable by a non-root user (the file or a parent directory): AppArmor must not attach to it.
    #[serde(default)]
    pub user_writable: Fact<bool>,
    /// On a `nosuid` mount.
    #[serde(default)]
    pub nosuid_mount: Fact<bool>,
}

/// One rung of the probe ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: StepId,
    /// The call made, e.g. `unshare(CLONE_NEWUSER)`.
    pub syscall: String,
    pub result: StepResult,
    /// Extra observations: `label` and `cap_eff` inside the new user namespace, `nlmsg_error`, …
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
}

/// The rungs, in ladder order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum StepId {
    /// `unshare(CLONE_NEWUSER)`.
    Userns,
    /// open + write `/proc/self/setgroups` `deny`.
    Setgroups,
    /// write `/proc/self/uid_map`.
    UidMap,
    /// write `/proc/self/gid_map`.
    GidMap,
    /// `unshare(CLONE_NEWNET)` inside the new user namespace.
    Netns,
    /// `socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)`.
    NetlinkSocket,
    /// RTM_NEWADDR 127.0.0.1/8 on lo; the result is `nlmsgerr.error`.
    NetlinkNewaddr,
    /// RTM_NEWLINK IFF_UP on lo; the result is `nlmsgerr.error`.
    NetlinkNewlink,
    /// `unshare(CLONE_NEWNS)`.
    Mountns,
    /// `mount("/", MS_REC|MS_SLAVE)`.
    MountSlave,
    /// `mount("tmpfs", …)`.
    MountTmpfs,
    /// `unshare(CLONE_NEWPID)` + fork.
    Pidns,
    /// `mount("proc", …)` in the new pid namespace.
    ProcMount,
    /// `clone3` with a deliberately invalid size: the kernel says EINVAL/E2BIG, a seccomp filter says ENOSYS/EPERM.
    Clone3,
    /// `landlock_create_ruleset(NULL, 0, VERSION)`.
    Landlock,
    /// `unshare(CLONE_NEWNET)` alone, without a user namespace (attributes a block to the net flag).
    FlagNet,
    /// `unshare(CLONE_NEWNS)` alone.
    FlagMnt,
    /// `unshare(CLONE_NEWPID)` alone.
    FlagPid,
    /// `unshare(CLONE_NEWUSER|CLONE_NEWNET)` in one call, as bwrap's single clone does.
    FlagUserNet,
}

impl StepId {
    /// The kebab-case id used in JSON and JSON Pointers.
    pub fn as_str(self) -> &'static str {
        match self {
            StepId::Userns => "userns",
            StepId::Setgroups => "setgroups",
            StepId::UidMap => "uid-map",
            StepId::GidMap => "gid-map",
            StepId::Netns => "netns",
            StepId::NetlinkSocket => "netlink-socket",
            StepId::NetlinkNewaddr => "netlink-newaddr",
            StepId::NetlinkNewlink => "netlink-newlink",
            StepId::Mountns => "mountns",
            StepId::MountSlave => "mount-slave",
            StepId::MountTmpfs => "mount-tmpfs",
            StepId::Pidns => "pidns",
            StepId::ProcMount => "proc-mount",
            StepId::Clone3 => "clone3",
            StepId::Landlock => "landlock",
            StepId::FlagNet => "flag-net",
            StepId::FlagMnt => "flag-mnt",
            StepId::FlagPid => "flag-pid",
            StepId::FlagUserNet => "flag-user-net",
        }
    }
}

/// What a step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "outcome", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StepResult {
    /// Succeeded.
    Ok,
    /// Failed with this errno (for netlink steps: the negated `nlmsgerr.error`).
    Failed { errno: Errno },
    /// Killed by a signal (e.g. SIGSYS from a seccomp kill filter).
    Killed { signal: String },
    /// Not run, and why (e.g. an earlier step failed).
    Skipped { reason: String },
}

/// A real bwrap run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// `sandbox` (the sandbox's argv) or `minimal` (`--ro-bind / / /bin/true`).
    pub name: String,
    pub argv: Vec<String>,
    pub exit: ReplayExit,
    /// stderr, truncated by the probe to 64 KiB.
    #[serde(default)]
    pub stderr: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ReplayExit {
    Exited { code: i32 },
    Signaled { signal: String },
    TimedOut { seconds: u32 },
    SpawnFailed { errno: Errno },
}

impl ProbeReport {
    /// The step with this id, if the ladder ran it.
    pub fn step(&self, id: StepId) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The errno name of a failed step.
    pub fn step_errno(&self, id: StepId) -> Option<&str> {
        match self.step(id).map(|s| &s.result) {
            Some(StepResult::Failed { errno }) => Some(errno.name.as_str()),
            _ => None,
        }
    }

    /// True when the step ran and succeeded.
    pub fn step_ok(&self, id: StepId) -> bool {
        matches!(self.step(id).map(|s| &s.result), Some(StepResult::Ok))
    }

    /// Index of a step in `steps` (for JSON Pointers).
    pub fn step_index(&self, id: StepId) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }
}
