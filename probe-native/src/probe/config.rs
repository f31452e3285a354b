//! What the sandbox needs, from the probed user's own config: OpenClaw (`agents.defaults.sandbox.mode`,
//! `.backend`, `.docker.network`; in OpenClaw a docker/podman backend with network unset or `none` makes
//! Codex use `--unshare-net`) or Codex (`sandbox_mode`, `[sandbox_workspace_write] network_access`).
//! OpenClaw's config path: `OPENCLAW_CONFIG_PATH`, else `$OPENCLAW_STATE_DIR/openclaw.json`, else
//! `~/.openclaw/openclaw.json` (OpenClaw docs, `openclaw config file`).

use std::path::{Path, PathBuf};

use policy_core::config::{Namespaces, NetworkMode, SandboxConfig};
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

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
    let v = parse_json5(text)?;
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

/// Deeper nesting than this is refused: the `json5` crate recurses once per level, and a hostile file of a few
/// MiB of `[` would otherwise overflow the stack (serde_json stops at 128 too).
const MAX_DEPTH: u32 = 128;

/// JSON5 text (OpenClaw's `openclaw.json`: comments, trailing commas, unquoted keys, single quotes, hex numbers,
/// `Infinity`) → a JSON value, with the `json5` crate; nesting deeper than [`MAX_DEPTH`] is an error, never a
/// stack overflow. `Infinity` and `NaN`, which JSON cannot hold, become `null`.
pub fn parse_json5(text: &str) -> Result<Value, String> {
    json5::from_str::<Doc>(text).map(|d| d.0).map_err(|e| e.to_string())
}

struct Doc(Value);

impl<'de> Deserialize<'de> for Doc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Bounded(0).deserialize(d).map(Doc)
    }
}

/// A `serde_json::Value` visitor that counts its depth.
#[derive(Clone, Copy)]
struct Bounded(u32);

impl Bounded {
    fn inner<E: de::Error>(self) -> Result<Self, E> {
        if self.0 >= MAX_DEPTH {
            return Err(E::custom(format_args!("nested more than {MAX_DEPTH} levels deep")));
        }
        Ok(Self(self.0.saturating_add(1)))
    }
}

impl<'de> DeserializeSeed<'de> for Bounded {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON5 value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(inner)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
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

    #[test]
    fn json5_features() {
        let v = parse_json5(
            "// c\n{ agents: { defaults: { sandbox: { mode: 'all', /* x */ backend: \"docker\", docker: { network: 'bridge', }, }, }, },\n n: -0x10, f: .5, i: Infinity, }",
        );
        let v = v.unwrap_or(Value::Null);
        assert_eq!(v.pointer("/agents/defaults/sandbox/mode"), Some(&Value::String("all".into())));
        assert_eq!(v.pointer("/agents/defaults/sandbox/docker/network"), Some(&Value::String("bridge".into())));
        assert_eq!(v.pointer("/n"), Some(&Value::from(-16)));
        assert_eq!(v.pointer("/f"), Some(&Value::from(0.5)));
        assert_eq!(v.pointer("/i"), Some(&Value::Null));
        assert!(parse_json5("{a: }").is_err());
        assert!(parse_json5("{'a': 1").is_err());
        assert!(parse_json5("{a: 1} x").is_err());
    }

    /// JSON5 is a superset of JSON: JSON documents read as serde_json reads them.
    #[test]
    fn json_documents_read_as_serde_json_reads_them() {
        for doc in [
            r#"{"a": [1, 1.5e3, 18446744073709551615, 18446744073709551616, -9223372036854775808]}"#,
            r#"{"": "\u0000\/\"\\\ud83d\ude00", "k": {"nested": [[], {}, null, true, false]}}"#,
            r#"[0.1, 1E-7, 123456789012345678901234567890]"#,
            r#"  "just a string"  "#,
        ] {
            let want: Value = serde_json::from_str(doc).unwrap_or(Value::Null);
            assert_ne!(want, Value::Null, "{doc}");
            assert_eq!(parse_json5(doc).ok(), Some(want), "{doc}");
        }
    }

    #[test]
    fn json5_nesting_is_bounded_not_a_stack_overflow() {
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_json5(&ok).is_ok());
        let deep = "[".repeat(4 << 20);
        let e = parse_json5(&deep).err().unwrap_or_default();
        assert!(e.contains("nested more than 128"), "{e}");
        let deep_objects = "{a:".repeat(1 << 20);
        assert!(parse_json5(&deep_objects).is_err());
    }
}
