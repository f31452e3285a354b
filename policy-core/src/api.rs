//! The one entry every front end goes through: a [`Call`] in, an [`Answer`] or an [`Error`] out.
//!
//! The CLI reads files and hands their bytes over; the wasm shim hands over what JavaScript gave it. Both get
//! the same checks, the same messages and the same bytes: [`call_json`] is the JSON-in/JSON-out form the web
//! console uses (an answer's JSON or text, or `{"error": {"kind", "message"}}`), [`call`] the typed form the CLI
//! uses (it renders a diagnosis in its own formats and names the file an input error is about).
//!
//! Rule docs and schemas are only needed when someone reads them. With the `docs` and `schema` features (the
//! CLI) they are built in; without them (the wasm engine) they come from the docs asset ([`docs_asset`], a JSON
//! file generated from the same sources) that the caller passes along with [`Call::Explain`], [`Call::Rules`]
//! and [`Call::Schema`].

use std::collections::BTreeMap;

use crate::diagnosis::Diagnosis;
use crate::input::{self, InputError};
use crate::rules::{self, Rule};
use crate::{SandboxConfig, fix, render};

/// What went wrong, as the `kind` of an error object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The data was refused (same message as the CLI).
    Input,
    /// The call itself was wrong: an unknown rule, schema or format, an argument of the wrong type.
    Usage,
    /// A bug: the engine could not encode its own answer.
    Internal,
}

impl ErrorKind {
    pub const ALL: &[ErrorKind] = &[ErrorKind::Input, ErrorKind::Usage, ErrorKind::Internal];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Input => "input",
            ErrorKind::Usage => "usage",
            ErrorKind::Internal => "internal",
        }
    }
}

/// The argument an input error is about, so that a front end can name it (the CLI prefixes the file's path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    Report,
    Config,
    ErrorText,
}

/// A refused call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub arg: Option<Arg>,
    pub message: String,
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Usage, arg: None, message: message.into() }
    }

    fn input(arg: Option<Arg>, e: InputError) -> Self {
        Self { kind: ErrorKind::Input, arg, message: e.message }
    }

    /// `{"error": {"kind": KIND, "message": MESSAGE}}`.
    pub fn to_json(&self) -> String {
        error_json(self.kind, &self.message)
    }
}

pub(crate) fn error_json(kind: ErrorKind, message: &str) -> String {
    serde_json::json!({ "error": { "kind": kind.as_str(), "message": message } }).to_string()
}

/// How a rule's documentation is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFormat {
    Text,
    Json,
}

/// The facts that come with an error text: a JSON object (the console) or `KEY=VALUE` pairs (`--fact`).
#[derive(Debug, Clone, Copy)]
pub enum Facts<'a> {
    Json(&'a str),
    Pairs(&'a [String]),
}

/// The formats [`Call::Render`] knows.
pub const RENDER_FORMATS: &[&str] = &["text", "markdown", "html", "json"];

/// The schemas [`Call::Schema`] knows (`nsdoctor schema NAME`).
pub const SCHEMA_NAMES: &[&str] = &["probe-report", "sandbox-config", "diagnosis", "checks"];

/// A request. Inputs are what the user gave, unparsed: every check happens here.
#[derive(Debug, Clone, Copy)]
pub enum Call<'a> {
    /// A probe report (file bytes) and an optional sandbox config that overrides the report's.
    Diagnose { report: &'a [u8], config: Option<&'a [u8]> },
    /// An error text plus facts about the host that printed it.
    DiagnoseErrorText { text: &'a [u8], facts: Facts<'a>, config: Option<&'a [u8]> },
    /// `nsdoctor fix --report FILE`.
    FixScript { report: &'a [u8] },
    /// A diagnosis JSON re-rendered in one of [`RENDER_FORMATS`].
    Render { diagnosis: &'a str, format: &'a str },
    /// A rule's documentation, by code or name. `docs`: the docs asset's text (needed without the `docs` feature).
    Explain { rule: &'a str, format: DocFormat, docs: Option<&'a str> },
    /// Every rule; without docs (no `docs` feature, no asset) the JSON entries have no `doc`.
    Rules { format: DocFormat, docs: Option<&'a str> },
    /// A JSON Schema. `docs`: the docs asset's text (needed without the `schema` feature).
    Schema { name: &'a str, docs: Option<&'a str> },
    /// The facts [`Call::DiagnoseErrorText`] accepts: `[{"key", "help"}]`.
    FactKeys,
    /// This crate's version.
    Version,
}

/// What `fix` does for a report: [`FixAnswer::status`] says which of the three cases it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixStatus {
    /// `script` holds the exact script `nsdoctor fix --report` prints.
    Script,
    /// Nothing can be applied: `script` holds the printed-only fixes as a commented script (the CLI exits 1).
    Manual,
    NothingToFix,
}

impl FixStatus {
    pub const ALL: &[FixStatus] = &[FixStatus::Script, FixStatus::Manual, FixStatus::NothingToFix];

    pub fn as_str(self) -> &'static str {
        match self {
            FixStatus::Script => "script",
            FixStatus::Manual => "manual",
            FixStatus::NothingToFix => "nothing-to-fix",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FixAnswer {
    pub status: FixStatus,
    pub remediation: Option<String>,
    pub message: String,
    pub script: String,
}

/// A successful call.
#[derive(Debug, Clone)]
pub enum Answer {
    Diagnosis(Box<Diagnosis>),
    Fix(FixAnswer),
    /// Final bytes (JSON or text, as the call asked).
    Text(String),
}

impl Answer {
    /// The JSON (or text) a JSON front end returns: a diagnosis is `nsdoctor diagnose --format json`.
    pub fn into_json(self) -> String {
        match self {
            Answer::Diagnosis(d) => render::json(&d),
            Answer::Fix(f) => match serde_json::to_string_pretty(&f) {
                Ok(s) => s + "\n",
                Err(e) => error_json(ErrorKind::Internal, &e.to_string()),
            },
            Answer::Text(t) => t,
        }
    }
}

/// [`call`], answered as JSON text: never panics, never fails.
pub fn call_json(c: Call<'_>) -> String {
    match call(c) {
        Ok(a) => a.into_json(),
        Err(e) => e.to_json(),
    }
}

/// Runs a call.
pub fn call(c: Call<'_>) -> Result<Answer, Error> {
    match c {
        Call::Diagnose { report, config } => {
            let config = parse_config(config)?;
            let report = input::parse_report(report).map_err(|e| Error::input(Some(Arg::Report), e))?;
            Ok(Answer::Diagnosis(Box::new(crate::diagnose(&report, config.as_ref()))))
        }
        Call::DiagnoseErrorText { text, facts, config } => {
            let config = parse_config(config)?;
            let text = input::parse_error_text(text).map_err(|e| Error::input(Some(Arg::ErrorText), e))?;
            let facts = match facts {
                Facts::Json(f) if !f.trim().is_empty() => {
                    input::facts_from_json(f).map_err(|e| Error::input(None, e))?
                }
                Facts::Json(_) => Vec::new(),
                Facts::Pairs(p) => p.to_vec(),
            };
            let report = input::report_from_error_text(&text, &facts).map_err(|e| Error::input(None, e))?;
            Ok(Answer::Diagnosis(Box::new(crate::diagnose(&report, config.as_ref()))))
        }
        Call::FixScript { report } => {
            let r = input::parse_report(report).map_err(|e| Error::input(Some(Arg::Report), e))?;
            Ok(Answer::Fix(fix_answer(&r)))
        }
        Call::Render { diagnosis, format } => render_json(diagnosis, format).map(Answer::Text),
        Call::Explain { rule, format, docs } => {
            let Some(r) = rules::find(rule) else {
                let codes: Vec<&str> = rules::RULES.iter().map(|r| r.code).collect();
                return Err(Error::usage(format!("unknown rule `{rule}`; known codes: {}", codes.join(", "))));
            };
            let asset = docs.map(Asset::parse).transpose()?;
            let Some(doc) = rule_doc(r, asset.as_ref()) else {
                return Err(Error::usage(format!("no doc for {} in this build: pass the docs asset", r.code)));
            };
            Ok(Answer::Text(match format {
                DocFormat::Text => render::explain_text(r, doc),
                DocFormat::Json => render::explain_json(r, doc),
            }))
        }
        Call::Rules { format, docs } => {
            let asset = docs.map(Asset::parse).transpose()?;
            Ok(Answer::Text(match format {
                DocFormat::Text => render::rules_text(),
                DocFormat::Json => render::rules_json(&|r| rule_doc(r, asset.as_ref())),
            }))
        }
        Call::Schema { name, docs } => {
            if !SCHEMA_NAMES.contains(&name) {
                return Err(Error::usage(format!("unknown schema `{name}`; known: {}", SCHEMA_NAMES.join(", "))));
            }
            match docs.map(Asset::parse).transpose()? {
                Some(a) => a.schemas.get(name).cloned().map(Answer::Text),
                None => built_in_schema(name).map(Answer::Text),
            }
            .ok_or_else(|| Error::usage(format!("no schema {name} in this build: pass the docs asset")))
        }
        Call::FactKeys => {
            let keys: Vec<serde_json::Value> =
                input::FACT_KEYS.iter().map(|(k, h)| serde_json::json!({ "key": k, "help": h })).collect();
            Ok(Answer::Text(serde_json::Value::Array(keys).to_string()))
        }
        Call::Version => Ok(Answer::Text(crate::VERSION.to_string())),
    }
}

fn parse_config(config: Option<&[u8]>) -> Result<Option<SandboxConfig>, Error> {
    config.map(|c| input::parse_config(c).map_err(|e| Error::input(Some(Arg::Config), e))).transpose()
}

fn fix_answer(r: &crate::ProbeReport) -> FixAnswer {
    let d = crate::diagnose(r, None);
    match fix::plan(r, &d, None) {
        Ok(p) => FixAnswer {
            status: FixStatus::Script,
            message: format!("{}: {}", p.finding, p.title),
            remediation: Some(p.remediation.clone()),
            script: fix::script(&p),
        },
        Err(fix::NoPlan::NothingToFix) => FixAnswer {
            status: FixStatus::NothingToFix,
            remediation: None,
            message: fix::NoPlan::NothingToFix.message(),
            script: String::new(),
        },
        Err(e) => FixAnswer {
            status: FixStatus::Manual,
            remediation: None,
            message: e.message(),
            script: fix::manual_text(&d, &e),
        },
    }
}

fn render_json(diagnosis_json: &str, format: &str) -> Result<String, Error> {
    let refused = |m: String| Error::input(None, InputError { message: m });
    if diagnosis_json.len() > input::MAX_REPORT_BYTES {
        return Err(refused("diagnosis is too large".to_string()));
    }
    input::check_depth(diagnosis_json, "diagnosis").map_err(|e| Error::input(None, e))?;
    let d: Diagnosis =
        serde_json::from_str(diagnosis_json).map_err(|e| refused(format!("diagnosis is not valid: {e}")))?;
    match format {
        "text" => Ok(render::text(&d, false)),
        "markdown" => Ok(render::markdown(&d)),
        "html" => Ok(render::html(&d)),
        "json" => Ok(render::json(&d)),
        other => Err(Error::usage(format!("unknown format `{other}`; use text, markdown, html or json"))),
    }
}

/// The docs asset: rule docs (the Markdown files) by code and schemas by name, for this version.
#[derive(serde::Deserialize)]
struct Asset {
    version: String,
    rules: BTreeMap<String, String>,
    schemas: BTreeMap<String, String>,
}

impl Asset {
    fn parse(text: &str) -> Result<Asset, Error> {
        let bad = |m: String| Error::usage(format!("docs asset: {m}"));
        if text.len() > input::MAX_REPORT_BYTES {
            return Err(bad("too large".to_string()));
        }
        input::check_depth(text, "docs asset").map_err(|e| Error::usage(e.message))?;
        let a: Asset = serde_json::from_str(text).map_err(|e| bad(format!("not valid: {e}")))?;
        if a.version != crate::VERSION {
            return Err(bad(format!("made for version {}, this engine is {}", a.version, crate::VERSION)));
        }
        Ok(a)
    }
}

/// A rule's Markdown doc: from the asset when one is given, else built in (`docs` feature), else none.
fn rule_doc<'a>(rule: &'static Rule, asset: Option<&'a Asset>) -> Option<&'a str> {
    match asset {
        Some(a) => a.rules.get(rule.code).map(String::as_str),
        None => built_in_doc(rule),
    }
}

#[cfg(feature = "docs")]
fn built_in_doc(rule: &'static Rule) -> Option<&'static str> {
    Some(rule.doc)
}

#[cfg(not(feature = "docs"))]
fn built_in_doc(_: &'static Rule) -> Option<&'static str> {
    None
}

#[cfg(feature = "schema")]
fn built_in_schema(name: &str) -> Option<String> {
    crate::schema::schema(name)
}

#[cfg(not(feature = "schema"))]
fn built_in_schema(_: &str) -> Option<String> {
    None
}

/// The docs asset the web console fetches when a rule's doc or a schema is opened: `{"version", "rules":
/// {CODE: Markdown}, "schemas": {NAME: text}}`, generated from the built-in docs and schemas.
#[cfg(all(feature = "docs", feature = "schema"))]
pub fn docs_asset() -> String {
    let rules: BTreeMap<&str, &str> = rules::RULES.iter().map(|r| (r.code, r.doc)).collect();
    let schemas: BTreeMap<&str, String> =
        SCHEMA_NAMES.iter().filter_map(|n| crate::schema::schema(n).map(|s| (*n, s))).collect();
    let v = serde_json::json!({ "version": crate::VERSION, "rules": rules, "schemas": schemas });
    v.to_string() + "\n"
}

/// `"a" | "b"` for a TypeScript string union.
#[cfg(feature = "schema")]
fn ts_union(names: &[&str]) -> String {
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(" | ")
}

/// The web engine's TypeScript declarations (`policy-wasm/api.d.ts`), generated from the calls above: the error
/// kinds, render formats, schema names and fix statuses are the enums and tables of this module; the JSON
/// documents' interfaces come from their JSON Schemas ([`crate::typescript`]).
#[cfg(feature = "schema")]
pub fn typescript() -> String {
    let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    let statuses: Vec<&str> = FixStatus::ALL.iter().map(|s| s.as_str()).collect();
    let facts: Vec<&str> = input::FACT_KEYS.iter().map(|(k, _)| *k).collect();
    let docs = "`docs` is the text of the docs asset (`policy_wasm_docs.json`)";
    format!(
        r#"// Generated by `cargo run -p policy-core --example web-assets -- typescript` from policy_core::api; do not edit.

/** Every function returns JSON text; parse it with `JSON.parse`. Failures never throw, they return this. */
export interface NsdError {{
  error: {{
    /** `input`: the data was refused (same message as the CLI); `usage`: the call was wrong; `internal`: a bug. */
    kind: {kinds};
    message: string;
  }};
}}

/** Diagnosis JSON text (`nsdoctor diagnose --format json`; `JSON.parse` gives a `Diagnosis`), or an `NsdError` as JSON text. */
export type DiagnosisJson = string;

/** What `fixScript` answers (as JSON text). */
export interface FixAnswer {{
  /** `script`: the exact script `nsdoctor fix --report` prints; `manual`: the printed-only fixes as a commented
   * script (the CLI exits 1); `nothing-to-fix`: no blocking finding. */
  status: {statuses};
  remediation: string | null;
  message: string;
  script: string;
}}

/** A fact about the host that printed an error text (see `factKeys()`). */
export type FactKey = {facts};

/**
 * Diagnoses a probe report: JSON text, or the file's raw bytes (checked for size, NUL bytes and UTF-8
 * like the CLI does). `config` (sandbox-config JSON text) overrides the config carried in the report.
 */
export function diagnose(report: string | Uint8Array | ArrayBuffer, config?: string | null): DiagnosisJson;

/** `nsdoctor fix --report FILE` for a probe report: a `FixAnswer` as JSON text. */
export function fixScript(report: string | Uint8Array | ArrayBuffer): string;

/** Diagnoses an error text; `facts` is `{{ distro?: string, root?: "yes"|"no", … }}`, as JSON text or an object. */
export function diagnoseErrorText(text: string, facts?: string | Partial<Record<FactKey, string>> | null): DiagnosisJson;

/** A rule's doc as JSON text `{{code, name, severity, cause, title, doc}}` (doc is Markdown), by code or name; {docs}. */
export function explain(code: string, docs: string): string;

/** All rules as a JSON array of `{{code, name, severity, cause, title}}`; with the docs asset each also has `doc`. */
export function rules(docs?: string | null): string;

/** Renders diagnosis JSON text as plain text, Markdown, an escaped HTML fragment, or canonical JSON. */
export function render(diagnosisJson: string, format: {formats}): string;

/** A JSON Schema (draft 2020-12) as text; {docs}. */
export function schema(name: {schemas}, docs: string): string;

/** The fact keys accepted by `diagnoseErrorText`: JSON `[{{key, help}}]`. */
export function factKeys(): string;

/** The policy-core version, e.g. `{version}` (the docs asset must be of the same version). */
export function version(): string;

// The JSON documents, from their JSON Schemas (`nsdoctor schema NAME`, schemas/*.schema.json).
{documents}"#,
        kinds = ts_union(&kinds),
        statuses = ts_union(&statuses),
        facts = ts_union(&facts),
        formats = ts_union(RENDER_FORMATS),
        schemas = ts_union(SCHEMA_NAMES),
        version = crate::VERSION,
        documents = crate::typescript::declarations(),
    )
}

/// A JavaScript argument as the wasm shim hands it over: which values each export accepts, and the usage error
/// for the others, are decided here so that the shim stays plumbing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    Undefined,
    Null,
    Text(String),
    /// A `Uint8Array` or `ArrayBuffer`'s bytes.
    Bytes(Vec<u8>),
    /// A plain object as its JSON (`None`: it has no JSON form, e.g. it holds a BigInt).
    Object(Option<String>),
    /// Anything else, by its `typeof`.
    Other(String),
}

impl Given {
    fn type_name(&self) -> &str {
        match self {
            Given::Undefined => "undefined",
            Given::Null => "null",
            Given::Text(_) => "string",
            Given::Bytes(_) | Given::Object(_) => "object",
            Given::Other(t) => t,
        }
    }

    fn wrong<T>(&self, what: &str, expected: &str) -> Result<T, Error> {
        Err(Error::usage(format!("{what} must be {expected}, not {}", self.type_name())))
    }

    fn text(self, what: &str) -> Result<String, Error> {
        match self {
            Given::Text(s) => Ok(s),
            other => other.wrong(what, "a string"),
        }
    }

    /// `undefined`, `null` and blank text mean "not given".
    fn optional(self, what: &str) -> Result<Option<String>, Error> {
        match self {
            Given::Undefined | Given::Null => Ok(None),
            other => Ok(Some(other.text(what)?).filter(|s| !s.trim().is_empty())),
        }
    }

    /// Text or a file's bytes, checked by the core as the CLI checks a file.
    fn bytes(self) -> Result<Vec<u8>, Error> {
        match self {
            Given::Text(s) => Ok(s.into_bytes()),
            Given::Bytes(b) => Ok(b),
            other => other.wrong("report", "a string, Uint8Array or ArrayBuffer"),
        }
    }

    fn facts(self) -> Result<Option<String>, Error> {
        match self {
            Given::Object(Some(json)) => Ok(Some(json)),
            Given::Object(None) => Err(Error::usage("facts object cannot be converted to JSON")),
            other => other.optional("facts"),
        }
    }
}

/// The web engine's exports (`api.d.ts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Diagnose,
    FixScript,
    DiagnoseErrorText,
    Explain,
    Rules,
    Render,
    Schema,
    FactKeys,
    Version,
}

/// An export called with up to two JavaScript arguments (missing ones are `Given::Undefined`): JSON or text out,
/// never a panic; a wrong argument type is a `usage` error.
pub fn web(export: Export, a: Given, b: Given) -> String {
    let answer = || -> Result<String, Error> {
        let json = match export {
            Export::Diagnose => {
                let config = b.optional("config")?;
                let report = a.bytes()?;
                call_json(Call::Diagnose { report: &report, config: config.as_deref().map(str::as_bytes) })
            }
            Export::FixScript => call_json(Call::FixScript { report: &a.bytes()? }),
            Export::DiagnoseErrorText => {
                let (text, facts) = (a.text("error text")?, b.facts()?.unwrap_or_default());
                call_json(Call::DiagnoseErrorText { text: text.as_bytes(), facts: Facts::Json(&facts), config: None })
            }
            Export::Explain => {
                let (rule, docs) = (a.text("rule code")?, b.optional("docs")?);
                call_json(Call::Explain { rule: &rule, format: DocFormat::Json, docs: docs.as_deref() })
            }
            Export::Rules => call_json(Call::Rules { format: DocFormat::Json, docs: a.optional("docs")?.as_deref() }),
            Export::Render => {
                let (diagnosis, format) = (a.text("diagnosis")?, b.text("format")?);
                call_json(Call::Render { diagnosis: &diagnosis, format: &format })
            }
            Export::Schema => {
                let (name, docs) = (a.text("schema name")?, b.optional("docs")?);
                call_json(Call::Schema { name: &name, docs: docs.as_deref() })
            }
            Export::FactKeys => call_json(Call::FactKeys),
            Export::Version => call_json(Call::Version),
        };
        Ok(json)
    };
    answer().unwrap_or_else(|e| e.to_json())
}
