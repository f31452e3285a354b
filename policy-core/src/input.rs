//! Parsing untrusted input: probe reports, sandbox configs, error texts and `--fact KEY=VALUE` pairs.
//! Every failure is an [`InputError`] with a one-line reason; nothing here panics.

use std::fmt;

use crate::config::{ContainerRuntime, SandboxConfig, ServiceManager};
use crate::fact::Fact;
use crate::report::{ProbeReport, SCHEMA_VERSION, SelinuxMode};

/// Largest accepted report or config (bytes). A real report is a few KiB.
pub const MAX_REPORT_BYTES: usize = 8 * 1024 * 1024;
/// Largest accepted error text (bytes). Whole CI logs fit; a 4 MiB text classifies in well under a second.
pub const MAX_ERROR_TEXT_BYTES: usize = 8 * 1024 * 1024;
/// Largest accepted single string inside a report (bytes); longer strings are rejected, not truncated.
pub const MAX_STRING_BYTES: usize = 1024 * 1024;
/// Most probe steps / replays / bwrap candidates accepted.
pub const MAX_ITEMS: usize = 256;
/// Deepest JSON nesting accepted. The report model is at most 6 levels deep; checked by a byte scan before
/// any parsing, so a hostile document never reaches the parser's recursion.
pub const MAX_DEPTH: usize = 32;

/// The deepest `[`/`{` nesting outside strings, stopping as soon as `limit` is exceeded.
fn json_depth_exceeds(text: &str, limit: usize) -> bool {
    let mut depth: usize = 0;
    let mut in_string = false;
    let mut escaped = false;
    for b in text.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth = depth.saturating_add(1);
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Why input was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub message: String,
}

/// Longest input-error message (characters). serde's messages quote what they refused (an unknown variant or
/// field name, an invalid string), which is attacker-sized.
const MAX_MESSAGE_CHARS: usize = 1024;

impl InputError {
    /// Messages quote the input, so they are made one line and inert here (controls and bidi characters escaped,
    /// length capped): the wasm adapters put them straight into `{"error": {"message": …}}`.
    fn new(message: impl Into<String>) -> Self {
        Self { message: crate::render::ellipsize(&crate::render::clean(&message.into()), MAX_MESSAGE_CHARS) }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

fn checked_text<'a>(bytes: &'a [u8], what: &str, limit: usize) -> Result<&'a str, InputError> {
    if bytes.len() > limit {
        return Err(InputError::new(format!("{what} is too large: {} bytes (limit {} bytes)", bytes.len(), limit)));
    }
    if bytes.contains(&0) {
        return Err(InputError::new(format!("{what} contains NUL bytes: not text")));
    }
    std::str::from_utf8(bytes)
        .map_err(|e| InputError::new(format!("{what} is not valid UTF-8 (at byte {})", e.valid_up_to())))
}

pub(crate) fn check_depth(text: &str, what: &str) -> Result<(), InputError> {
    if json_depth_exceeds(text, MAX_DEPTH) {
        return Err(InputError::new(format!("{what} is nested deeper than {MAX_DEPTH} levels")));
    }
    Ok(())
}

fn parse_json(text: &str, what: &str) -> Result<serde_json::Value, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::new(format!("{what} is empty")));
    }
    check_depth(text, what)?;
    // serde_json refuses nesting deeper than 128 with an error (no stack overflow).
    serde_json::from_str(text).map_err(|e| InputError::new(format!("{what} is not valid JSON: {e}")))
}

/// Only the version, read first so that a future format gets a clear message rather than a field error.
#[derive(serde::Deserialize)]
struct Peek {
    schema_version: Option<serde_json::Value>,
}

/// Parses a probe report (JSON bytes), checking size, encoding, `schema_version` and invariants.
///
/// The text is parsed twice (version first, then the typed report) straight from the string: going through
/// `serde_json::Value` would compile a second deserializer for every type, which doubles the wasm.
pub fn parse_report(bytes: &[u8]) -> Result<ProbeReport, InputError> {
    let text = checked_text(bytes, "report", MAX_REPORT_BYTES)?;
    if text.trim().is_empty() {
        return Err(InputError::new("report is empty"));
    }
    // serde accepts a sequence for a struct; a report is always an object.
    if !text.trim_start().starts_with('{') {
        return Err(InputError::new("report is not a JSON object"));
    }
    check_depth(text, "report")?;
    let peek: Peek = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            InputError::new("report is not a JSON object")
        } else {
            InputError::new(format!("report is not valid JSON: {e}"))
        }
    })?;
    match peek.schema_version {
        None => return Err(InputError::new("report has no `schema_version` (expected 1)")),
        Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
        Some(v) => {
            let shown: String = v.to_string().chars().take(40).collect();
            return Err(InputError::new(format!(
                "unsupported report schema_version {shown} (this nsdoctor reads {SCHEMA_VERSION})"
            )));
        }
    }
    let report: ProbeReport = serde_json::from_str(text)
        .map_err(|e| InputError::new(format!("report does not match the probe-report schema: {e}")))?;
    validate_report(&report)?;
    Ok(report)
}

/// Parses a sandbox config (JSON bytes).
pub fn parse_config(bytes: &[u8]) -> Result<SandboxConfig, InputError> {
    let text = checked_text(bytes, "config", MAX_REPORT_BYTES)?;
    if text.trim().is_empty() {
        return Err(InputError::new("config is empty"));
    }
    if !text.trim_start().starts_with('{') {
        return Err(InputError::new("config is not a JSON object"));
    }
    check_depth(text, "config")?;
    serde_json::from_str(text)
        .map_err(|e| InputError::new(format!("config does not match the sandbox-config schema: {e}")))
}

/// Checks what the types cannot: unique step ids, bounded lists and strings.
pub fn validate_report(report: &ProbeReport) -> Result<(), InputError> {
    if report.steps.len() > MAX_ITEMS || report.replays.len() > MAX_ITEMS || report.bwrap.binaries.len() > MAX_ITEMS {
        return Err(InputError::new(format!("report has more than {MAX_ITEMS} steps, replays or binaries")));
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in &report.steps {
        if !seen.insert(s.id) {
            return Err(InputError::new(format!("report lists step `{}` twice", s.id.as_str())));
        }
    }
    let long = report.observed_error.as_ref().is_some_and(|t| t.len() > MAX_ERROR_TEXT_BYTES)
        || report.replays.iter().any(|r| r.stderr.len() > MAX_STRING_BYTES);
    if long {
        return Err(InputError::new("report holds an oversized error text or replay stderr"));
    }
    Ok(())
}

/// Checks an error text (bytes) as given to `diagnose --error-text`.
pub fn parse_error_text(bytes: &[u8]) -> Result<String, InputError> {
    let text = checked_text(bytes, "error text", MAX_ERROR_TEXT_BYTES)?;
    if text.trim().is_empty() {
        return Err(InputError::new("error text is empty"));
    }
    Ok(text.to_string())
}

/// The `--fact` keys and what they accept.
pub const FACT_KEYS: &[(&str, &str)] = &[
    ("distro", "os-release ID: ubuntu, debian, fedora, arch, centos, rhel, void, …"),
    ("distro-version", "os-release VERSION_ID, e.g. 24.04"),
    ("kernel", "uname -r, e.g. 6.8.0-45-generic"),
    ("container", "none|docker|podman|kubernetes|lxc|gvisor|flatpak|bwrap"),
    ("wsl", "1|2"),
    ("root", "yes|no"),
    ("service", "systemd|none"),
    ("chroot", "yes|no"),
    ("selinux", "enforcing|permissive|disabled"),
    ("tool", "free text: codex, openclaw, flatpak, …"),
    ("snap", "the snap the program runs as, e.g. steam"),
    ("apparmor-profile", "the AppArmor profile of the program that starts the sandbox, e.g. steam"),
    ("ci", "github-actions|github-actions-self-hosted|gitlab-ci|codespaces|devcontainer|orbstack|gke|ci"),
];

fn fact_usage() -> String {
    let keys: Vec<String> = FACT_KEYS.iter().map(|(k, v)| format!("{k} ({v})")).collect();
    format!("valid facts: {}", keys.join("; "))
}

fn yes_no(key: &str, v: &str) -> Result<bool, InputError> {
    match v {
        "yes" | "true" | "1" => Ok(true),
        "no" | "false" | "0" => Ok(false),
        _ => Err(InputError::new(format!("fact `{key}` must be yes or no, not `{v}`; {}", fact_usage()))),
    }
}

fn simple_token(key: &str, v: &str) -> Result<String, InputError> {
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '~'));
    if ok {
        Ok(v.to_string())
    } else {
        Err(InputError::new(format!("fact `{key}` has a bad value `{v}`; {}", fact_usage())))
    }
}

/// Builds a report from an error text plus `KEY=VALUE` facts. Unknown keys and bad values are errors.
pub fn report_from_error_text(text: &str, facts: &[String]) -> Result<ProbeReport, InputError> {
    let mut r =
        ProbeReport { schema_version: SCHEMA_VERSION, observed_error: Some(text.to_string()), ..Default::default() };
    r.producer = Some("error-text".to_string());
    for raw in facts {
        let Some((key, value)) = raw.split_once('=') else {
            return Err(InputError::new(format!("fact `{raw}` is not KEY=VALUE; {}", fact_usage())));
        };
        let (key, value) = (key.trim(), value.trim());
        let lower = value.to_ascii_lowercase();
        match key {
            "distro" => r.distro.id = Fact::Observed(simple_token(key, &lower)?),
            "distro-version" => r.distro.version_id = Fact::Observed(simple_token(key, value)?),
            "kernel" => r.kernel.release = Fact::Observed(simple_token(key, value)?),
            "container" => {
                let p = &mut r.platform;
                match lower.as_str() {
                    "none" => {
                        for f in [
                            &mut p.docker,
                            &mut p.podman,
                            &mut p.kubernetes,
                            &mut p.lxc,
                            &mut p.gvisor,
                            &mut p.flatpak,
                            &mut p.nested_bwrap,
                        ] {
                            *f = Fact::Observed(false);
                        }
                    }
                    "docker" => {
                        p.docker = Fact::Observed(true);
                        r.config.container_runtime = Some(ContainerRuntime::Docker);
                    }
                    "podman" => {
                        p.podman = Fact::Observed(true);
                        r.config.container_runtime = Some(ContainerRuntime::Podman);
                    }
                    "kubernetes" => {
                        p.kubernetes = Fact::Observed(true);
                        r.config.container_runtime = Some(ContainerRuntime::Kubernetes);
                    }
                    "lxc" => {
                        p.lxc = Fact::Observed(true);
                        r.config.container_runtime = Some(ContainerRuntime::Lxc);
                    }
                    "gvisor" => {
                        p.gvisor = Fact::Observed(true);
                        r.config.container_runtime = Some(ContainerRuntime::Gvisor);
                    }
                    "flatpak" => p.flatpak = Fact::Observed(true),
                    "bwrap" => p.nested_bwrap = Fact::Observed(true),
                    _ => {
                        return Err(InputError::new(format!(
                            "fact `container` must be one of none|docker|podman|kubernetes|lxc|gvisor|flatpak|bwrap, not `{value}`"
                        )));
                    }
                }
            }
            "wsl" => match value {
                "1" => {
                    r.platform.wsl1 = Fact::Observed(true);
                    r.platform.wsl2 = Fact::Observed(false);
                }
                "2" => {
                    r.platform.wsl2 = Fact::Observed(true);
                    r.platform.wsl1 = Fact::Observed(false);
                }
                _ => return Err(InputError::new(format!("fact `wsl` must be 1 or 2, not `{value}`"))),
            },
            "root" => {
                let uid = if yes_no(key, &lower)? { 0 } else { 1000 };
                r.identity.uid = Fact::Observed(uid);
                r.identity.euid = Fact::Observed(uid);
            }
            "service" => match lower.as_str() {
                "systemd" => {
                    r.platform.systemd_service = Fact::Observed(true);
                    r.config.manager = ServiceManager::Systemd;
                }
                "none" => r.platform.systemd_service = Fact::Observed(false),
                _ => return Err(InputError::new(format!("fact `service` must be systemd or none, not `{value}`"))),
            },
            "chroot" => r.process.chrooted = Fact::Observed(yes_no(key, &lower)?),
            "selinux" => {
                r.lsm.selinux = Fact::Observed(match lower.as_str() {
                    "enforcing" => SelinuxMode::Enforcing,
                    "permissive" => SelinuxMode::Permissive,
                    "disabled" => SelinuxMode::Disabled,
                    _ => {
                        return Err(InputError::new(format!(
                            "fact `selinux` must be enforcing, permissive or disabled, not `{value}`"
                        )));
                    }
                });
            }
            "tool" => {
                if value.is_empty() || value.len() > 128 || value.chars().any(char::is_control) {
                    return Err(InputError::new("fact `tool` must be 1–128 printable characters"));
                }
                r.config.tool = value.to_string();
            }
            "snap" => r.confinement.snap = Fact::Observed(simple_token(key, &lower)?),
            "apparmor-profile" => {
                r.confinement.apparmor_profile = Some(simple_token(key, value)?);
                r.confinement.apparmor_profile_source = Some("stated".to_string());
            }
            "ci" => match lower.as_str() {
                "github-actions"
                | "github-actions-self-hosted"
                | "gitlab-ci"
                | "codespaces"
                | "devcontainer"
                | "orbstack"
                | "gke"
                | "ci" => {
                    r.platform.ci_platform = Fact::Observed(lower.clone());
                }
                _ => {
                    return Err(InputError::new(format!(
                        "fact `ci` must be one of github-actions|github-actions-self-hosted|gitlab-ci|codespaces|devcontainer|orbstack|gke|ci, not `{value}`"
                    )));
                }
            },
            _ => return Err(InputError::new(format!("unknown fact `{key}`; {}", fact_usage()))),
        }
    }
    Ok(r)
}

/// The facts a report states, as the `--fact KEY=VALUE` pairs that would state them (in [`FACT_KEYS`] order):
/// what an error-text diagnosis says it read. The inverse of [`report_from_error_text`] for the observed fields.
pub fn stated_facts(r: &ProbeReport) -> Vec<String> {
    let mut out = Vec::new();
    let mut put = |k: &str, v: &str| out.push(format!("{k}={v}"));
    if let Fact::Observed(v) = &r.distro.id {
        put("distro", v);
    }
    if let Fact::Observed(v) = &r.distro.version_id {
        put("distro-version", v);
    }
    if let Fact::Observed(v) = &r.kernel.release {
        put("kernel", v);
    }
    let p = &r.platform;
    let containers = [
        (&p.docker, "docker"),
        (&p.podman, "podman"),
        (&p.kubernetes, "kubernetes"),
        (&p.lxc, "lxc"),
        (&p.gvisor, "gvisor"),
        (&p.flatpak, "flatpak"),
        (&p.nested_bwrap, "bwrap"),
    ];
    if let Some((_, name)) = containers.iter().find(|(f, _)| matches!(f, Fact::Observed(true))) {
        put("container", name);
    } else if containers.iter().all(|(f, _)| matches!(f, Fact::Observed(false))) {
        put("container", "none");
    }
    if matches!(p.wsl1, Fact::Observed(true)) {
        put("wsl", "1");
    } else if matches!(p.wsl2, Fact::Observed(true)) {
        put("wsl", "2");
    }
    if let Fact::Observed(uid) = r.identity.euid {
        put("root", if uid == 0 { "yes" } else { "no" });
    }
    if let Fact::Observed(on) = p.systemd_service {
        put("service", if on { "systemd" } else { "none" });
    }
    if let Fact::Observed(on) = r.process.chrooted {
        put("chroot", if on { "yes" } else { "no" });
    }
    if let Fact::Observed(m) = &r.lsm.selinux {
        put(
            "selinux",
            match m {
                SelinuxMode::Enforcing => "enforcing",
                SelinuxMode::Permissive => "permissive",
                SelinuxMode::Disabled => "disabled",
            },
        );
    }
    if !r.config.tool.is_empty() && r.config.tool != SandboxConfig::default().tool {
        put("tool", &r.config.tool);
    }
    if let Fact::Observed(v) = &r.confinement.snap {
        put("snap", v);
    }
    if let Some(v) = &r.confinement.apparmor_profile {
        put("apparmor-profile", v);
    }
    if let Fact::Observed(v) = &r.platform.ci_platform {
        put("ci", v);
    }
    out
}

/// Facts as a JSON object of strings (`{"distro": "ubuntu"}`) → `KEY=VALUE` pairs, for the web console.
pub fn facts_from_json(json: &str) -> Result<Vec<String>, InputError> {
    let text = checked_text(json.as_bytes(), "facts", 64 * 1024)?;
    let value = parse_json(text, "facts")?;
    let Some(obj) = value.as_object() else {
        return Err(InputError::new("facts must be a JSON object of strings"));
    };
    let mut out = Vec::new();
    for (k, v) in obj {
        let Some(v) = v.as_str() else {
            return Err(InputError::new(format!("fact `{k}` must be a string")));
        };
        if !v.is_empty() {
            out.push(format!("{k}={v}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_scan_ignores_brackets_in_strings() {
        assert!(!json_depth_exceeds(r#"{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"[[["}"#, 3));
        assert!(json_depth_exceeds("[[[[", 3));
        assert!(!json_depth_exceeds("[[[]]]", 3));
        assert!(json_depth_exceeds(&format!("{}{}", "{\"a\":".repeat(40), "1"), MAX_DEPTH));
    }

    #[test]
    fn hostile_documents_get_one_line_reasons() {
        for (doc, want) in [
            ("".to_string(), "empty"),
            ("[1]".to_string(), "not a JSON object"),
            (format!("{{\"schema_version\":1,\"source\":{}1{}}}", "[".repeat(100), "]".repeat(100)), "nested deeper"),
            (format!("{}{}", "{\"a\":".repeat(10_000), "1"), "nested deeper"),
            ("{\"schema_version\": 2}".to_string(), "unsupported report schema_version 2"),
            ("{\"schema_version\": \"1\"}".to_string(), "unsupported report schema_version"),
            ("{\"schema_version\": 1, \"bogus\": 0}".to_string(), "unknown field `bogus`"),
        ] {
            let e = parse_report(doc.as_bytes()).unwrap_err();
            assert!(e.message.contains(want), "{doc:.60}: {}", e.message);
            assert!(!e.message.contains('\n'));
        }
        assert!(parse_report(b"{\"schema_version\": 1}").is_ok());
    }
}
