//! `Diagnosis`: the verdict, ranked findings with evidence, and remediations. This is the JSON wire format.

use serde::{Deserialize, Serialize};

use crate::config::SandboxConfig;

/// The diagnosis format version.
pub const DIAGNOSIS_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Diagnosis {
    pub schema_version: u32,
    /// `ok` (no blocking or degrading finding), `degraded`, or `blocked`.
    pub verdict: Verdict,
    /// What the diagnosis was computed from.
    pub input: InputKind,
    /// For an error text: what was read (nothing on a host was checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<ReadInput>,
    /// One line for humans.
    pub headline: String,
    /// The sandbox config the diagnosis judged against.
    pub config: SandboxConfig,
    /// Most likely root cause first.
    pub findings: Vec<Finding>,
    /// Commands that would confirm or narrow the diagnosis (e.g. `nsdoctor check` when only an error text was given).
    pub confirm: Vec<String>,
    /// The plain-text rendering (filled by the JSON renderer so every consumer shows the same words).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rendered: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    Degraded,
    Blocked,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Degraded => "degraded",
            Verdict::Blocked => "blocked",
        }
    }
}

/// What an error-text diagnosis read: the text and the facts stated with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReadInput {
    /// Lines in the error text.
    pub lines: u32,
    /// The stated facts as `KEY=VALUE` (the `--fact` keys), in `--fact` key order.
    pub facts: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// A probe report with behavioural steps.
    Probe,
    /// Static facts only (no ladder ran).
    StaticFacts,
    /// An error text, with optional facts.
    ErrorText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Blocks the sandbox.
    Error,
    /// The sandbox runs with less isolation or a documented side effect.
    Warning,
    /// Worth knowing; nothing to fix.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// Behavioural evidence (errno per step) plus a static fact that names the mechanism.
    High,
    /// Behavioural evidence alone, or a precise error text plus context.
    Medium,
    /// A candidate: consistent with the evidence, not confirmed.
    Low,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

/// The public cause vocabulary. Strings are part of the contract: never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    ApparmorUsernsRestriction,
    UnprivilegedUsernsCloneDisabled,
    UsernsLimitZero,
    NestedUsernsLimit,
    ContainerSeccomp,
    ContainerNoCaps,
    ContainerApparmorProfile,
    SystemdUnitHardening,
    SelinuxDenial,
    SetuidSandboxBroken,
    NewuidmapBroken,
    Wsl1NoUserns,
    KernelNoUserns,
    ProcMountRestricted,
    Chroot,
    GvisorLoopback,
    MultithreadedCaller,
    ApparmorAttachmentConflict,
    ApparmorProfileMode,
    OuterConfinement,
    BwrapVersion,
    Unknown,
}

impl Cause {
    pub const ALL: [Cause; 22] = [
        Cause::ApparmorUsernsRestriction,
        Cause::UnprivilegedUsernsCloneDisabled,
        Cause::UsernsLimitZero,
        Cause::NestedUsernsLimit,
        Cause::ContainerSeccomp,
        Cause::ContainerNoCaps,
        Cause::ContainerApparmorProfile,
        Cause::SystemdUnitHardening,
        Cause::SelinuxDenial,
        Cause::SetuidSandboxBroken,
        Cause::NewuidmapBroken,
        Cause::Wsl1NoUserns,
        Cause::KernelNoUserns,
        Cause::ProcMountRestricted,
        Cause::Chroot,
        Cause::GvisorLoopback,
        Cause::MultithreadedCaller,
        Cause::ApparmorAttachmentConflict,
        Cause::ApparmorProfileMode,
        Cause::OuterConfinement,
        Cause::BwrapVersion,
        Cause::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::ApparmorUsernsRestriction => "apparmor-userns-restriction",
            Cause::UnprivilegedUsernsCloneDisabled => "unprivileged-userns-clone-disabled",
            Cause::UsernsLimitZero => "userns-limit-zero",
            Cause::NestedUsernsLimit => "nested-userns-limit",
            Cause::ContainerSeccomp => "container-seccomp",
            Cause::ContainerNoCaps => "container-no-caps",
            Cause::ContainerApparmorProfile => "container-apparmor-profile",
            Cause::SystemdUnitHardening => "systemd-unit-hardening",
            Cause::SelinuxDenial => "selinux-denial",
            Cause::SetuidSandboxBroken => "setuid-sandbox-broken",
            Cause::NewuidmapBroken => "newuidmap-broken",
            Cause::Wsl1NoUserns => "wsl1-no-userns",
            Cause::KernelNoUserns => "kernel-no-userns",
            Cause::ProcMountRestricted => "proc-mount-restricted",
            Cause::Chroot => "chroot",
            Cause::GvisorLoopback => "gvisor-loopback",
            Cause::MultithreadedCaller => "multithreaded-caller",
            Cause::ApparmorAttachmentConflict => "apparmor-attachment-conflict",
            Cause::ApparmorProfileMode => "apparmor-profile-mode",
            Cause::OuterConfinement => "outer-confinement",
            Cause::BwrapVersion => "bwrap-version",
            Cause::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// 1-based position in the ranking.
    pub rank: u32,
    /// Stable rule code, e.g. `NSD101`.
    pub code: String,
    /// Stable kebab-case rule name.
    pub name: String,
    pub cause: Cause,
    pub severity: Severity,
    /// True when this finding alone stops the sandbox as configured.
    pub blocking: bool,
    pub confidence: Confidence,
    /// One line.
    pub title: String,
    /// A few sentences: what happened and why.
    pub summary: String,
    /// Pointers into the report with the observed values.
    pub evidence: Vec<Evidence>,
    /// Why this finding ranks where it does.
    pub ranking: String,
    /// Least privilege first.
    pub remediations: Vec<Remediation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// JSON Pointer into the probe report, e.g. `/steps/2/result` or `/sysctl/unprivileged_userns_clone`.
    pub pointer: String,
    /// The value seen there, as text.
    pub observed: String,
    /// What it shows.
    pub meaning: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    /// Stable id, e.g. `apparmor-profile-for-bwrap`.
    pub id: String,
    pub title: String,
    /// Needs root (sudo) to apply.
    pub needs_root: bool,
    /// Survives a reboot.
    pub persists: bool,
    /// What is given up.
    pub trade_off: String,
    /// Shell commands, in order.
    pub commands: Vec<String>,
    /// Files to write.
    pub files: Vec<Artifact>,
    /// How to check that it worked.
    pub verify: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    pub kind: ArtifactKind,
    /// Where it goes (`/etc/apparmor.d/codex-bwrap`), or a name for snippets (`compose.yaml`).
    pub path: String,
    pub content: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    ApparmorProfile,
    SysctlD,
    SystemdDropin,
    DockerRun,
    Compose,
    Kubernetes,
    SelinuxModule,
    Text,
}
