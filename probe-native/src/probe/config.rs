//! What the sandbox needs, from the probed user's own config: OpenClaw (`agents.defaults.sandbox.mode`,
//! `.backend`, `.docker.network`; in OpenClaw a docker/podman backend with network unset or `none` makes
//! Codex use `--unshare-net`) or Codex (`sandbox_mode`, `[sandbox_workspace_write] network_access`).
//! OpenClaw's config path: `OPENCLAW_CONFIG_PATH`, else `$OPENCLAW_STATE_DIR/openclaw.json`, else
//! `~/.openclaw/openclaw.json` (OpenClaw docs, `openclaw config file`).

use std::path::{Path, PathBuf};

use policy_core::config::{Namespaces, NetworkMode, SandboxConfig};
use serde_json::Value;

/// A config found on disk, or the default.
#[derive(Debug, Clone)]
pub struct Found {
    pub config: SandboxConfig,
    /// `default`, or the file that decided.
    pub source: String,
    /// Files that exist but could not be read or parsed (reported in the source text).
    pub problems: Vec<String>,
}

pub fn openclaw_path(home: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OPENCLAW_CONFIG_PATH").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(d) = std::env::var_os("OPENCLAW_STATE_DIR").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(d).join("openclaw.json"));
    }
    home.map(|h| h.join(".openclaw/openclaw.json"))
}

pub fn codex_path(home: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CODEX_HOME").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p).join("config.toml"));
    }
    home.map(|h| h.join(".codex/config.toml"))
}

fn read_small(p: &Path) -> Result<Option<String>, String> {
    use std::io::Read;
    match std::fs::File::open(p) {
        Ok(f) => {
            let mut s = String::new();
            f.take(4 << 20).read_to_string(&mut s).map_err(|e| format!("{}: {e}", p.display()))?;
            Ok(Some(s))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", p.display())),
    }
}

/// The network mode OpenClaw's Docker network implies for Codex's bwrap.
pub fn openclaw_network(v: Option<&str>) -> NetworkMode {
    match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("none") => NetworkMode::None,
        Some("bridge") => NetworkMode::Bridge,
        Some("host") => NetworkMode::Host,
        Some(_) => NetworkMode::Custom,
    }
}

/// OpenClaw config text → a config when its sandbox is on with a container backend.
pub fn from_openclaw(text: &str) -> Result<Option<SandboxConfig>, String> {
    let v = super::json5::parse(text)?;
    let sb = v.pointer("/agents/defaults/sandbox");
    let s = |ptr: &str| sb.and_then(|x| x.pointer(ptr)).and_then(Value::as_str).map(str::to_string);
    let mode = s("/mode").unwrap_or_else(|| "off".to_string());
    let backend = s("/backend").unwrap_or_else(|| "docker".to_string());
    if mode.eq_ignore_ascii_case("off") || !matches!(backend.to_ascii_lowercase().as_str(), "docker" | "podman") {
        return Ok(None);
    }
    Ok(Some(SandboxConfig {
        tool: "openclaw".to_string(),
        network: openclaw_network(s("/docker/network").as_deref()),
        ..SandboxConfig::default()
    }))
}

/// Codex `config.toml` text → a config.
pub fn from_codex(text: &str) -> Result<SandboxConfig, String> {
    let v: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mode = v.get("sandbox_mode").and_then(toml::Value::as_str).unwrap_or("workspace-write");
    let net = v
        .get("sandbox_workspace_write")
        .and_then(|t| t.get("network_access"))
        .and_then(toml::Value::as_bool)
        .unwrap_or(false);
    let mut c = SandboxConfig { tool: "codex".to_string(), ..SandboxConfig::default() };
    match mode {
        // No bwrap at all.
        "danger-full-access" => {
            c.namespaces = Namespaces { user: false, net: false, pid: false, mount: false, proc: false };
            c.network = NetworkMode::Host;
        }
        "workspace-write" if net => c.network = NetworkMode::Host,
        _ => c.network = NetworkMode::None,
    }
    Ok(c)
}

/// OpenClaw first (it starts Codex with its own sandbox settings), then Codex, then the default.
pub fn discover(home: Option<&Path>) -> Found {
    let mut problems = Vec::new();
    if let Some(p) = openclaw_path(home) {
        match read_small(&p) {
            Ok(Some(text)) => match from_openclaw(&text) {
                Ok(Some(c)) => return Found { config: c, source: p.display().to_string(), problems },
                Ok(None) => {}
                Err(e) => problems.push(format!("{}: {e}", p.display())),
            },
            Ok(None) => {}
            Err(e) => problems.push(e),
        }
    }
    if let Some(p) = codex_path(home) {
        match read_small(&p) {
            Ok(Some(text)) => match from_codex(&text) {
                Ok(c) => return Found { config: c, source: p.display().to_string(), problems },
                Err(e) => problems.push(format!("{}: {e}", p.display())),
            },
            Ok(None) => {}
            Err(e) => problems.push(e),
        }
    }
    Found { config: SandboxConfig::default(), source: "default".to_string(), problems }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_modes() {
        let c = from_codex("sandbox_mode = \"workspace-write\"\n[sandbox_workspace_write]\nnetwork_access = true\n");
        assert_eq!(c.map(|c| c.network).ok(), Some(NetworkMode::Host));
        let c = from_codex("model = \"x\"\n");
        assert_eq!(c.map(|c| c.network).ok(), Some(NetworkMode::None));
        let c = from_codex("sandbox_mode = \"danger-full-access\"\n");
        assert_eq!(c.map(|c| c.namespaces.user).ok(), Some(false));
        assert!(from_codex("sandbox_mode = ").is_err());
    }

    #[test]
    fn openclaw_modes() {
        let on = "{ agents: { defaults: { sandbox: { mode: 'all', docker: { network: 'bridge' } } } } }";
        assert_eq!(from_openclaw(on).ok().flatten().map(|c| c.network), Some(NetworkMode::Bridge));
        let none = "{ agents: { defaults: { sandbox: { mode: 'non-main' } } } }";
        assert_eq!(from_openclaw(none).ok().flatten().map(|c| c.network), Some(NetworkMode::None));
        let off = "{ agents: { defaults: { sandbox: { mode: 'off' } } } }";
        assert_eq!(from_openclaw(off).ok().flatten(), None);
        let ssh = "{ agents: { defaults: { sandbox: { mode: 'all', backend: 'ssh' } } } }";
        assert_eq!(from_openclaw(ssh).ok().flatten(), None);
    }
}
