//! nsdoctor's policy core: probe facts + sandbox config → ranked causes, evidence and remediation.
//!
//! Pure and deterministic: no I/O, no clock, no randomness, no hash-ordered output (enforced by
//! `clippy.toml` and the lints below). Compiles to `wasm32-unknown-unknown`; the CLI, the web console and the
//! snapshot tests all call the same functions.

#![forbid(unsafe_code)]
#![deny(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::todo,
    clippy::unimplemented,
    clippy::unreachable,
    clippy::iter_over_hash_type,
    clippy::arithmetic_side_effects
)]

mod causes;
pub mod config;
mod ctx;
pub mod diagnosis;
mod engine;
pub mod errno;
pub mod fact;
pub mod fix;
pub mod input;
mod remedy;
pub mod render;
pub mod report;
pub mod rules;
#[cfg(feature = "schema")]
pub mod schema;
pub mod summary;
pub mod symptoms;

pub use config::SandboxConfig;
pub use diagnosis::{Cause, Diagnosis, Finding, Severity, Verdict};
pub use engine::detector_codes;
pub use input::InputError;
pub use report::ProbeReport;

/// Diagnoses a report. `config` overrides the config carried in the report.
pub fn diagnose(report: &ProbeReport, config: Option<&SandboxConfig>) -> Diagnosis {
    engine::diagnose(report, config.unwrap_or(&report.config))
}

/// JSON in, JSON out: the shape the web console uses (`nsdoctor diagnose --format json` bytes on success).
/// Errors come back as `{"error": {"kind": "input", "message": "…"}}`, never a panic.
pub fn diagnose_json_str(report_json: &str, config_json: Option<&str>) -> String {
    let result = input::parse_report(report_json.as_bytes()).and_then(|report| {
        let config = parse_optional_config(config_json)?;
        Ok(diagnose(&report, config.as_ref()))
    });
    match result {
        Ok(d) => render::json(&d),
        Err(e) => error_json("input", &e.message),
    }
}

/// [`diagnose_json_str`] for raw file bytes (the web console's uploads): oversize input, NUL bytes and invalid
/// UTF-8 come back as the same structured `input` errors the CLI prints, instead of being lossily decoded first.
pub fn diagnose_json_bytes(report: &[u8], config_json: Option<&str>) -> String {
    let result = input::parse_report(report).and_then(|report| {
        let config = parse_optional_config(config_json)?;
        Ok(diagnose(&report, config.as_ref()))
    });
    match result {
        Ok(d) => render::json(&d),
        Err(e) => error_json("input", &e.message),
    }
}

/// A probe report (file bytes) → `nsdoctor fix --report FILE` as JSON: `{"status": "script", "remediation": ID,
/// "message": …, "script": …}` with the script's exact bytes; `"manual"` with the printed-only fixes as a
/// commented script; `"nothing-to-fix"`. Input errors as in [`diagnose_json_bytes`].
pub fn fix_script_json(report: &[u8]) -> String {
    #[derive(serde::Serialize)]
    struct Out {
        status: &'static str,
        remediation: Option<String>,
        message: String,
        script: String,
    }
    let r = match input::parse_report(report) {
        Ok(r) => r,
        Err(e) => return error_json("input", &e.message),
    };
    let d = diagnose(&r, None);
    let out = match fix::plan(&r, &d, None) {
        Ok(p) => Out {
            status: "script",
            message: format!("{}: {}", p.finding, p.title),
            remediation: Some(p.remediation.clone()),
            script: fix::script(&p),
        },
        Err(fix::NoPlan::NothingToFix) => Out {
            status: "nothing-to-fix",
            remediation: None,
            message: fix::NoPlan::NothingToFix.message(),
            script: String::new(),
        },
        Err(e) => Out { status: "manual", remediation: None, message: e.message(), script: fix::manual_text(&d, &e) },
    };
    match serde_json::to_string_pretty(&out) {
        Ok(s) => s + "\n",
        Err(e) => error_json("internal", &e.to_string()),
    }
}

fn parse_optional_config(config_json: Option<&str>) -> Result<Option<SandboxConfig>, InputError> {
    match config_json {
        Some(c) if !c.trim().is_empty() => Ok(Some(input::parse_config(c.as_bytes())?)),
        _ => Ok(None),
    }
}

/// An error text plus facts (`{"distro": "ubuntu", "root": "no", …}`, the `--fact` keys) → diagnosis JSON.
pub fn diagnose_error_text_json(text: &str, facts_json: Option<&str>) -> String {
    let result = input::parse_error_text(text.as_bytes()).and_then(|text| {
        let facts = match facts_json {
            Some(f) if !f.trim().is_empty() => input::facts_from_json(f)?,
            _ => Vec::new(),
        };
        input::report_from_error_text(&text, &facts)
    });
    match result {
        Ok(r) => render::json(&diagnose(&r, None)),
        Err(e) => error_json("input", &e.message),
    }
}

/// Re-renders a diagnosis JSON (as produced by [`diagnose_json_str`]) as `text`, `markdown` or `html`.
pub fn render_json_str(diagnosis_json: &str, format: &str) -> String {
    if diagnosis_json.len() > input::MAX_REPORT_BYTES {
        return error_json("input", "diagnosis is too large");
    }
    if let Err(e) = input::check_depth(diagnosis_json, "diagnosis") {
        return error_json("input", &e.message);
    }
    let d: Diagnosis = match serde_json::from_str(diagnosis_json) {
        Ok(d) => d,
        Err(e) => return error_json("input", &format!("diagnosis is not valid: {e}")),
    };
    match format {
        "text" => render::text(&d, false),
        "markdown" => render::markdown(&d),
        "html" => render::html(&d),
        "json" => render::json(&d),
        other => error_json("usage", &format!("unknown format `{other}`; use text, markdown, html or json")),
    }
}

/// `{"error": {"kind": KIND, "message": MESSAGE}}` for the JSON adapters.
pub fn error_json(kind: &str, message: &str) -> String {
    serde_json::json!({ "error": { "kind": kind, "message": message } }).to_string()
}

/// The version of this crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
