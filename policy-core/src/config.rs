//! `SandboxConfig`: what the sandbox needs from the host. The default is Codex `workspace-write` with network
//! access off, which needs user, pid, mount and net namespaces, a working loopback and a private /proc.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct SandboxConfig {
    /// The tool that runs bwrap: `codex`, `openclaw`, `flatpak`, `pressure-vessel`, `sandbox-runtime`, free text.
    pub tool: String,
    /// Namespaces the sandbox creates.
    pub namespaces: Namespaces,
    /// `none` ⇒ a new net namespace with a working loopback is required; anything else ⇒ not.
    pub network: NetworkMode,
    /// The program that starts bwrap (e.g. `/usr/bin/codex`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launcher: Option<String>,
    /// The bwrap the sandbox runs. AppArmor attaches profiles by this path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bwrap_path: Option<String>,
    /// The user the sandbox runs as (a service user, e.g. `openclaw`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_user: Option<String>,
    /// How the sandbox's parent is run.
    pub manager: ServiceManager,
    /// The unit name when `manager` is systemd, e.g. `openclaw-gateway.service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The container runtime when the sandbox runs inside a container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_runtime: Option<ContainerRuntime>,
    /// bwrap options the tool passes beyond the namespace ones, e.g. `--argv0`: checked against bwrap's
    /// version (empty ⇒ not checked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bwrap_options: Vec<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            tool: "codex".to_string(),
            namespaces: Namespaces::default(),
            network: NetworkMode::None,
            launcher: None,
            bwrap_path: None,
            service_user: None,
            manager: ServiceManager::None,
            unit: None,
            container_runtime: None,
            bwrap_options: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Namespaces {
    pub user: bool,
    pub net: bool,
    pub pid: bool,
    pub mount: bool,
    /// A fresh procfs inside the sandbox (`--proc /proc`).
    pub proc: bool,
}

impl Default for Namespaces {
    fn default() -> Self {
        Self { user: true, net: true, pid: true, mount: true, proc: true }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum NetworkMode {
    /// No network: `--unshare-net`, loopback must come up.
    None,
    /// Container bridge networking (OpenClaw docker backend): no netns of our own.
    Bridge,
    /// Host network.
    Host,
    /// A custom network the sandbox does not create itself.
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ServiceManager {
    None,
    Systemd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ContainerRuntime {
    Docker,
    Podman,
    Kubernetes,
    Lxc,
    Gvisor,
}

impl SandboxConfig {
    /// True when the sandbox needs its own net namespace with a working loopback.
    pub fn needs_netns(&self) -> bool {
        self.namespaces.net && self.network == NetworkMode::None
    }
}
