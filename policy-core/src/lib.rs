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
    clippy::iter_over_hash_type
)]

pub mod config;
pub mod diagnosis;
mod engine;
pub mod errno;
pub mod fact;
pub mod input;
mod remedy;
pub mod render;
pub mod report;
pub mod rules;
#[cfg(feature = "schema")]
pub mod schema;
pub mod symptoms;

pub use config::SandboxConfig;
pub use diagnosis::{Cause, Diagnosis, Finding, Severity, Verdict};
pub use input::InputError;
pub use report::ProbeReport;

/// Diagnoses a report. `config` overrides the config carried in the report.
pub fn diagnose(report: &ProbeReport, config: Option<&SandboxConfig>) -> Diagnosis {
    engine::diagnose(report, config.unwrap_or(&report.config))
}

/// JSON in, JSON out: the shape the web console uses. Errors come back as `{"error": "…"}`, never a panic.
pub fn diagnose_json_str(report_json: &str, config_json: Option<&str>) -> String {
    let result = input::parse_report(report_json.as_bytes()).and_then(|report| {
        let config = match config_json {
            Some(c) if !c.trim().is_empty() => Some(input::parse_config(c.as_bytes())?),
            _ => None,
        };
        Ok(diagnose(&report, config.as_ref()))
    });
    match result {
        Ok(d) => render::json(&d),
        Err(e) => error_json(&e.message),
    }
}

/// `{"error": "…"}` for the JSON adapters.
pub fn error_json(message: &str) -> String {
    serde_json::json!({ "error": message }).to_string()
}

/// The version of this crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
