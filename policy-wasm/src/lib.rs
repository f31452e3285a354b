//! The wasm shim behind the nsdoctor web console: the `policy-core` JSON API, exported with wasm-bindgen.
//!
//! No policy of its own: every function forwards to `policy-core` and returns JSON text. The only code here is
//! argument plumbing (accepting `string`, `Uint8Array`/`ArrayBuffer` or a plain facts object from JavaScript) so
//! that **no call ever throws**: bad input of any kind comes back as `{"error": {"kind", "message"}}`, with
//! `kind` `input` (the data was refused, same message as the CLI) or `usage` (the call itself was wrong).
//!
//! `diagnose` on a probe report returns exactly the bytes of `nsdoctor diagnose --format json REPORT`, and
//! `fixScript` the script of `nsdoctor fix --report REPORT`.

use policy_core::{render, rules};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The committed JSON Schemas (`nsdoctor schema NAME`); the `schema` feature (schemars) is off in this build.
const SCHEMAS: &[(&str, &str)] = &[
    ("probe-report", include_str!("../../schemas/probe-report.schema.json")),
    ("sandbox-config", include_str!("../../schemas/sandbox-config.schema.json")),
    ("diagnosis", include_str!("../../schemas/diagnosis.schema.json")),
];

fn usage(message: &str) -> String {
    policy_core::error_json("usage", message)
}

fn type_name(v: &JsValue) -> String {
    if v.is_null() { "null".to_string() } else { v.js_typeof().as_string().unwrap_or_default() }
}

/// A report as JavaScript gives it: text, or a file's bytes (`Uint8Array`, `ArrayBuffer`); the core checks them
/// as the CLI checks a file.
fn report_bytes(report: &JsValue) -> Result<Vec<u8>, String> {
    if let Some(text) = report.as_string() {
        return Ok(text.into_bytes());
    }
    if let Some(a) = report.dyn_ref::<js_sys::Uint8Array>() {
        return Ok(a.to_vec());
    }
    if let Some(b) = report.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(js_sys::Uint8Array::new(b).to_vec());
    }
    Err(usage(&format!("report must be a string, Uint8Array or ArrayBuffer, not {}", type_name(report))))
}

/// `undefined`, `null` and `""` mean "not given"; a string is passed on; anything else is a usage error.
fn optional_string(v: &JsValue, what: &str) -> Result<Option<String>, String> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_string() {
        Some(s) => Ok(Some(s)),
        None => Err(usage(&format!("{what} must be a string, not {}", type_name(v)))),
    }
}

fn required_string(v: &JsValue, what: &str) -> Result<String, String> {
    v.as_string().ok_or_else(|| usage(&format!("{what} must be a string, not {}", type_name(v))))
}

/// A probe report (`string`, or the file's bytes as `Uint8Array`/`ArrayBuffer`) plus an optional sandbox config
/// (JSON text) that overrides the report's → diagnosis JSON. Bytes are checked by the core exactly as the CLI
/// checks a file (size, NUL bytes, UTF-8), so an upload needs no decoding in JavaScript.
#[wasm_bindgen(skip_typescript)]
pub fn diagnose(report: JsValue, config: JsValue) -> String {
    let config = match optional_string(&config, "config") {
        Ok(c) => c,
        Err(e) => return e,
    };
    let bytes = match report_bytes(&report) {
        Ok(b) => b,
        Err(e) => return e,
    };
    policy_core::diagnose_json_bytes(&bytes, config.as_deref())
}

/// A probe report (string or bytes) → `nsdoctor fix --report FILE` as JSON: `{status, remediation, message,
/// script}`; `script` holds the exact bytes the CLI prints.
#[wasm_bindgen(js_name = fixScript, skip_typescript)]
pub fn fix_script(report: JsValue) -> String {
    let bytes = match report_bytes(&report) {
        Ok(b) => b,
        Err(e) => return e,
    };
    policy_core::fix_script_json(&bytes)
}

/// An error text (bwrap/Codex/Flatpak output, audit lines) plus optional facts → diagnosis JSON.
/// `facts` is a JSON object of strings keyed by `factKeys()` names, given as text or as a plain object.
#[wasm_bindgen(js_name = diagnoseErrorText, skip_typescript)]
pub fn diagnose_error_text(text: JsValue, facts: JsValue) -> String {
    let text = match required_string(&text, "error text") {
        Ok(t) => t,
        Err(e) => return e,
    };
    let facts = if facts.is_object() && !facts.is_instance_of::<js_sys::Array>() {
        match js_sys::JSON::stringify(&facts).ok().and_then(|s| s.as_string()) {
            Some(s) => Some(s),
            None => return usage("facts object cannot be converted to JSON"),
        }
    } else {
        match optional_string(&facts, "facts") {
            Ok(f) => f,
            Err(e) => return e,
        }
    };
    policy_core::diagnose_error_text_json(&text, facts.as_deref())
}

/// A rule's documentation (`nsdoctor explain CODE --format json`): by code (`NSD101`) or name.
#[wasm_bindgen(skip_typescript)]
pub fn explain(code: JsValue) -> String {
    let code = match required_string(&code, "rule code") {
        Ok(c) => c,
        Err(e) => return e,
    };
    match rules::find(&code) {
        Some(rule) => render::explain_json(rule),
        None => {
            let codes: Vec<&str> = rules::RULES.iter().map(|r| r.code).collect();
            usage(&format!("unknown rule `{code}`; known codes: {}", codes.join(", ")))
        }
    }
}

/// Every rule (`nsdoctor rules --format json`).
#[wasm_bindgen(skip_typescript)]
pub fn rules() -> String {
    render::rules_json()
}

/// Re-renders a diagnosis JSON as `text`, `markdown`, `html` (an escaped fragment) or `json`.
#[wasm_bindgen(skip_typescript)]
pub fn render(diagnosis: JsValue, format: JsValue) -> String {
    match (required_string(&diagnosis, "diagnosis"), required_string(&format, "format")) {
        (Ok(d), Ok(f)) => policy_core::render_json_str(&d, &f),
        (Err(e), _) | (_, Err(e)) => e,
    }
}

/// A JSON Schema (`nsdoctor schema NAME`): `probe-report`, `sandbox-config` or `diagnosis`.
#[wasm_bindgen(skip_typescript)]
pub fn schema(name: JsValue) -> String {
    let name = match required_string(&name, "schema name") {
        Ok(n) => n,
        Err(e) => return e,
    };
    match SCHEMAS.iter().find(|(n, _)| *n == name) {
        Some((_, s)) => (*s).to_string(),
        None => {
            let names: Vec<&str> = SCHEMAS.iter().map(|(n, _)| *n).collect();
            usage(&format!("unknown schema `{name}`; known: {}", names.join(", ")))
        }
    }
}

/// The facts `diagnoseErrorText` accepts: `[{"key": "distro", "help": "…"}, …]`.
#[wasm_bindgen(js_name = factKeys, skip_typescript)]
pub fn fact_keys() -> String {
    let keys: Vec<serde_json::Value> =
        policy_core::input::FACT_KEYS.iter().map(|(k, h)| serde_json::json!({ "key": k, "help": h })).collect();
    serde_json::to_string(&keys).unwrap_or_default()
}

/// The policy-core version (same as `nsdoctor --version`).
#[wasm_bindgen(skip_typescript)]
pub fn version() -> String {
    policy_core::VERSION.to_string()
}

#[wasm_bindgen(typescript_custom_section)]
const TS: &'static str = r#"
/** Every function returns JSON text; parse it with `JSON.parse`. Failures never throw, they return this. */
export interface NsdError {
  error: {
    /** `input`: the data was refused (same message as the CLI); `usage`: the call was wrong. */
    kind: "input" | "usage" | "internal";
    message: string;
    path?: string;
  };
}

/** Diagnosis JSON text (`nsdoctor diagnose --format json`), or an `NsdError` as JSON text. */
export type DiagnosisJson = string;

/**
 * Diagnoses a probe report: JSON text, or the file's raw bytes (checked for size, NUL bytes and UTF-8
 * like the CLI does). `config` (sandbox-config JSON text) overrides the config carried in the report.
 */
export function diagnose(report: string | Uint8Array | ArrayBuffer, config?: string | null): DiagnosisJson;

/**
 * `nsdoctor fix --report FILE` for a probe report, as JSON text `{status, remediation, message, script}`:
 * `status` is `script` (the exact script the CLI prints), `manual` (the printed-only fixes as a commented
 * script) or `nothing-to-fix`.
 */
export function fixScript(report: string | Uint8Array | ArrayBuffer): string;

/** Diagnoses an error text; `facts` is `{ distro?: string, root?: "yes"|"no", … }` (see `factKeys()`), as JSON text or an object. */
export function diagnoseErrorText(text: string, facts?: string | Record<string, string> | null): DiagnosisJson;

/** A rule's doc as JSON text: `{code, name, severity, cause, title, doc}` (doc is Markdown). */
export function explain(code: string): string;

/** All rules as a JSON array of `{code, name, severity, cause, title, doc}`. */
export function rules(): string;

/** Renders diagnosis JSON text as plain text, Markdown, an escaped HTML fragment, or canonical JSON. */
export function render(diagnosisJson: string, format: "text" | "markdown" | "html" | "json"): string;

/** A JSON Schema (draft 2020-12) as text. */
export function schema(name: "probe-report" | "sandbox-config" | "diagnosis"): string;

/** The fact keys accepted by `diagnoseErrorText`: JSON `[{key, help}]`. */
export function factKeys(): string;

/** The policy-core version, e.g. `0.1.0`. */
export function version(): string;
"#;
