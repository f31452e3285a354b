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

pub mod api;
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
#[cfg(feature = "schema")]
pub mod typescript;

pub use config::SandboxConfig;
pub use diagnosis::{Cause, Diagnosis, Finding, Severity, Verdict};
pub use engine::detector_codes;
pub use input::InputError;
pub use report::ProbeReport;

/// Diagnoses a report. `config` overrides the config carried in the report.
pub fn diagnose(report: &ProbeReport, config: Option<&SandboxConfig>) -> Diagnosis {
    engine::diagnose(report, config.unwrap_or(&report.config))
}

/// A probe report's bytes (and an optional sandbox config's) → `nsdoctor diagnose --format json` bytes, or
/// `{"error": {"kind": "input", "message": "…"}}`; never a panic. Shorthand for [`api::call_json`].
pub fn diagnose_json(report: &[u8], config_json: Option<&str>) -> String {
    let config = config_json.filter(|c| !c.trim().is_empty()).map(str::as_bytes);
    api::call_json(api::Call::Diagnose { report, config })
}

/// A probe report's bytes → `nsdoctor fix --report FILE` as JSON (see [`api::FixAnswer`]).
pub fn fix_script_json(report: &[u8]) -> String {
    api::call_json(api::Call::FixScript { report })
}

/// An error text plus facts (`{"distro": "ubuntu", "root": "no", …}`, the `--fact` keys) → diagnosis JSON.
pub fn diagnose_error_text_json(text: &str, facts_json: Option<&str>) -> String {
    let facts = api::Facts::Json(facts_json.unwrap_or_default());
    api::call_json(api::Call::DiagnoseErrorText { text: text.as_bytes(), facts, config: None })
}

/// Re-renders a diagnosis JSON (as produced by [`diagnose_json`]) as `text`, `markdown`, `html` or `json`.
pub fn render_json_str(diagnosis_json: &str, format: &str) -> String {
    api::call_json(api::Call::Render { diagnosis: diagnosis_json, format })
}

/// The version of this crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
