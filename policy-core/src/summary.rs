//! The fleet view: a streaming accumulator over many (report, diagnosis) pairs and its renderers.
//!
//! [`Summary`] keeps counts only, never reports or diagnoses, so `nsdoctor summarize` runs over any number of
//! reports in constant memory. Every map is a `BTreeMap` (same input order, same bytes out), keys taken from
//! reports are cleaned ([`crate::render::clean`]) and cut to [`MAX_KEY_CHARS`], and each open-vocabulary map
//! holds at most [`MAX_KEYS`] keys: once full, further new keys are counted under [`OTHER_KEY`]. Only the first
//! [`MAX_ERROR_SAMPLES`] input errors are kept as text; the rest are counted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::diagnosis::{Cause, Diagnosis, InputKind, Severity, Verdict};
use crate::render::{clean, prometheus_label_value};
use crate::report::{BwrapFacts, ProbeReport};

/// The summary JSON format version.
pub const SUMMARY_SCHEMA_VERSION: u32 = 1;
/// Most distinct keys per open-vocabulary map (distro, `selected_by`, rule code), [`OTHER_KEY`] included.
pub const MAX_KEYS: usize = 10_000;
/// Longest key kept from a report (characters); longer keys are cut and end in `…`.
pub const MAX_KEY_CHARS: usize = 96;
/// Input errors kept with their text; later ones are only counted.
pub const MAX_ERROR_SAMPLES: usize = 20;
/// Longest input-error source or message kept (characters).
pub const MAX_ERROR_CHARS: usize = 300;
/// The key new keys fold into once a map holds [`MAX_KEYS`] keys. The parentheses keep it apart from real
/// os-release ids (`[a-z0-9._-]`).
pub const OTHER_KEY: &str = "(other)";
/// The distro key when the report has no os-release `ID`.
pub const UNKNOWN_KEY: &str = "(unknown)";
/// The top-cause key for reports with no error or warning finding.
pub const NO_CAUSE_KEY: &str = "none";
/// Rows shown per table in text and Markdown (JSON carries every key).
pub const MAX_ROWS: usize = 25;

/// Where the bwrap a report's sandbox would run comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BwrapOrigin {
    /// The distribution's `/usr/bin/bwrap` (or `/bin/bwrap`, or anything else under those directories).
    System,
    /// The bwrap Codex ships (`selected_by` names codex, or the path is under `codex-resources/`, `.codex/`
    /// or `@openai/codex`).
    CodexBundled,
    /// Any other path: `/usr/local/bin`, a Nix store, a Flatpak runtime, `--bwrap PATH`.
    Other,
    /// No bwrap selected: none found, or the report does not say (e.g. built from an error text).
    None,
}

impl BwrapOrigin {
    /// Every origin, in display order.
    pub const ALL: [BwrapOrigin; 4] =
        [BwrapOrigin::System, BwrapOrigin::CodexBundled, BwrapOrigin::Other, BwrapOrigin::None];

    pub fn as_str(self) -> &'static str {
        match self {
            BwrapOrigin::System => "system",
            BwrapOrigin::CodexBundled => "codex-bundled",
            BwrapOrigin::Other => "other",
            BwrapOrigin::None => "none",
        }
    }

    /// Classifies `bwrap.selected` / `bwrap.selected_by`.
    pub fn of(b: &BwrapFacts) -> BwrapOrigin {
        let Some(path) = b.selected.as_deref().map(str::trim).filter(|p| !p.is_empty()) else {
            return BwrapOrigin::None;
        };
        let by_codex = b.selected_by.as_deref().is_some_and(|s| s.to_ascii_lowercase().contains("codex"));
        if by_codex || path.contains("/codex-resources/") || path.contains("/.codex/") || path.contains("@openai/codex")
        {
            BwrapOrigin::CodexBundled
        } else if (path.starts_with("/usr/bin/") || path.starts_with("/bin/")) && !path.contains("/../") {
            BwrapOrigin::System
        } else {
            BwrapOrigin::Other
        }
    }
}

/// Reports per verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct VerdictCounts {
    pub ok: u64,
    pub degraded: u64,
    pub blocked: u64,
}

impl VerdictCounts {
    fn add(&mut self, v: Verdict) {
        let slot = match v {
            Verdict::Ok => &mut self.ok,
            Verdict::Degraded => &mut self.degraded,
            Verdict::Blocked => &mut self.blocked,
        };
        *slot = slot.saturating_add(1);
    }

    /// All reports counted.
    pub fn total(&self) -> u64 {
        self.ok.saturating_add(self.degraded).saturating_add(self.blocked)
    }

    /// The count for one verdict.
    pub fn get(&self, v: Verdict) -> u64 {
        match v {
            Verdict::Ok => self.ok,
            Verdict::Degraded => self.degraded,
            Verdict::Blocked => self.blocked,
        }
    }
}

const VERDICTS: [Verdict; 3] = [Verdict::Blocked, Verdict::Degraded, Verdict::Ok];

/// A string-keyed map with at most [`MAX_KEYS`] keys; new keys beyond that count under [`OTHER_KEY`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Capped<V> {
    map: BTreeMap<String, V>,
    /// Additions that landed in [`OTHER_KEY`] because the map was full.
    folded: u64,
}

impl<V> Default for Capped<V> {
    fn default() -> Self {
        Self { map: BTreeMap::new(), folded: 0 }
    }
}

impl<V: Default> Capped<V> {
    /// The slot for `key` (already bounded by [`bounded_key`]).
    fn slot(&mut self, key: String) -> &mut V {
        let full = self.map.len() >= MAX_KEYS.saturating_sub(1);
        let key = if full && key != OTHER_KEY && !self.map.contains_key(&key) {
            self.folded = self.folded.saturating_add(1);
            OTHER_KEY.to_string()
        } else {
            key
        };
        self.map.entry(key).or_default()
    }
}

/// Cuts `s` to [`MAX_KEY_CHARS`] characters (then cleans control and bidi characters).
fn bounded_key(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        return "(empty)".to_string();
    }
    bounded(s, MAX_KEY_CHARS)
}

/// At most `max_chars` characters of `s` after cleaning (an escaped control character counts as its escape),
/// ending in `…` when cut.
fn bounded(s: &str, max_chars: usize) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(max_chars).collect();
    let cleaned = clean(&head);
    let mut out: String = cleaned.chars().take(max_chars).collect();
    if chars.next().is_some() || out.len() < cleaned.len() {
        out.push('…');
    }
    out
}

/// The `distro` key of a report: `ID VERSION_ID`, `ID`, or [`UNKNOWN_KEY`].
pub fn distro_key(report: &ProbeReport) -> String {
    let id = report.distro.id.get().map(|s| s.trim()).filter(|s| !s.is_empty());
    let version = report.distro.version_id.get().map(|s| s.trim()).filter(|s| !s.is_empty());
    match (id, version) {
        (Some(id), Some(v)) => bounded_key(&format!("{id} {v}")),
        (Some(id), None) => bounded_key(id),
        (None, _) => UNKNOWN_KEY.to_string(),
    }
}

/// The cause a report is counted under in `by_top_cause`: the cause of its highest-ranked error or warning
/// finding (findings are ranked), or `None` when it has none (informational findings do not count).
pub fn top_cause(d: &Diagnosis) -> Option<Cause> {
    d.findings.iter().find(|f| f.blocking || matches!(f.severity, Severity::Error | Severity::Warning)).map(|f| f.cause)
}

/// One input that could not be read or diagnosed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputErrorSample {
    /// `FILE`, `FILE:LINE`, or `<stdin>:LINE`.
    pub source: String,
    /// One line.
    pub message: String,
}

/// Counts over many diagnosed reports. `Summary::default()`, then [`Summary::add`] per report and
/// [`Summary::add_error`] per unreadable input; render with [`Summary::text`], [`Summary::markdown`],
/// [`Summary::json`] or [`Summary::prometheus`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    verdicts: VerdictCounts,
    input_kinds: BTreeMap<InputKind, u64>,
    /// Reports per top cause (`None`: no error or warning finding).
    top_causes: BTreeMap<Option<Cause>, VerdictCounts>,
    /// Reports with at least one finding of the cause (any severity).
    causes: BTreeMap<Cause, u64>,
    /// Reports with at least one finding of the rule.
    codes: Capped<u64>,
    distros: Capped<VerdictCounts>,
    origins: BTreeMap<BwrapOrigin, VerdictCounts>,
    selected_by: Capped<u64>,
    blocking_findings: u64,
    errors: u64,
    error_samples: Vec<InputErrorSample>,
}

impl Summary {
    /// Counts one diagnosed report.
    pub fn add(&mut self, report: &ProbeReport, d: &Diagnosis) {
        self.verdicts.add(d.verdict);
        let kind = self.input_kinds.entry(d.input).or_default();
        *kind = kind.saturating_add(1);
        self.top_causes.entry(top_cause(d)).or_default().add(d.verdict);
        let mut causes = BTreeSet::new();
        let mut codes = BTreeSet::new();
        for f in &d.findings {
            causes.insert(f.cause);
            codes.insert(f.code.as_str());
            if f.blocking {
                self.blocking_findings = self.blocking_findings.saturating_add(1);
            }
        }
        for c in causes {
            let n = self.causes.entry(c).or_default();
            *n = n.saturating_add(1);
        }
        for code in codes {
            let n = self.codes.slot(bounded_key(code));
            *n = n.saturating_add(1);
        }
        self.distros.slot(distro_key(report)).add(d.verdict);
        self.origins.entry(BwrapOrigin::of(&report.bwrap)).or_default().add(d.verdict);
        let by = match report.bwrap.selected_by.as_deref() {
            Some(s) => bounded_key(s),
            None => "(not given)".to_string(),
        };
        let n = self.selected_by.slot(by);
        *n = n.saturating_add(1);
    }

    /// Counts an input that could not be read, parsed or validated. `source` is `FILE` or `FILE:LINE`.
    pub fn add_error(&mut self, source: &str, message: &str) {
        self.errors = self.errors.saturating_add(1);
        if self.error_samples.len() < MAX_ERROR_SAMPLES {
            let one_line: String = message.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            self.error_samples.push(InputErrorSample {
                source: bounded(source, MAX_ERROR_CHARS),
                message: bounded(&one_line, MAX_ERROR_CHARS),
            });
        }
    }

    /// Reports counted (valid inputs).
    pub fn reports(&self) -> u64 {
        self.verdicts.total()
    }

    /// Reports per verdict.
    pub fn verdicts(&self) -> VerdictCounts {
        self.verdicts
    }

    /// Inputs that could not be used.
    pub fn input_errors(&self) -> u64 {
        self.errors
    }

    /// The first [`MAX_ERROR_SAMPLES`] input errors.
    pub fn error_samples(&self) -> &[InputErrorSample] {
        &self.error_samples
    }

    /// Distinct keys held in the open-vocabulary maps (distro, `selected_by`, rule): bounded by 3 × [`MAX_KEYS`].
    pub fn distinct_keys(&self) -> usize {
        self.distros.map.len().saturating_add(self.selected_by.map.len()).saturating_add(self.codes.map.len())
    }

    fn view(&self) -> SummaryJson {
        let verdict_map = |v: &VerdictCounts| -> BTreeMap<String, u64> {
            VERDICTS.iter().map(|&x| (x.as_str().to_string(), v.get(x))).collect()
        };
        let with_total =
            |v: &VerdictCounts| VerdictRow { reports: v.total(), ok: v.ok, degraded: v.degraded, blocked: v.blocked };
        SummaryJson {
            schema_version: SUMMARY_SCHEMA_VERSION,
            reports: self.reports(),
            input_errors: self.errors,
            blocking_findings: self.blocking_findings,
            by_verdict: verdict_map(&self.verdicts),
            by_input: [InputKind::Probe, InputKind::StaticFacts, InputKind::ErrorText]
                .iter()
                .map(|&k| (input_kind_str(k).to_string(), self.input_kinds.get(&k).copied().unwrap_or(0)))
                .collect(),
            by_top_cause: self
                .top_causes
                .iter()
                .map(|(c, v)| (c.map_or(NO_CAUSE_KEY, Cause::as_str).to_string(), with_total(v)))
                .collect(),
            by_cause: self.causes.iter().map(|(c, n)| (c.as_str().to_string(), *n)).collect(),
            by_rule: self.codes.map.clone(),
            by_distro: self.distros.map.iter().map(|(k, v)| (k.clone(), with_total(v))).collect(),
            by_bwrap_origin: BwrapOrigin::ALL
                .iter()
                .map(|&o| (o.as_str().to_string(), with_total(&self.origins.get(&o).copied().unwrap_or_default())))
                .collect(),
            by_bwrap_selected_by: self.selected_by.map.clone(),
            folded_into_other: Folded {
                distro: self.distros.folded,
                rule: self.codes.folded,
                bwrap_selected_by: self.selected_by.folded,
            },
            errors: self.error_samples.clone(),
            errors_omitted: self.errors.saturating_sub(self.error_samples.len() as u64),
        }
    }

    /// JSON (pretty, trailing newline). Stable shape: every member is always present; `by_verdict`, `by_input`
    /// and `by_bwrap_origin` always list every key (zeros included); the other maps list the keys seen.
    pub fn json(&self) -> String {
        match serde_json::to_string_pretty(&self.view()) {
            Ok(s) => s + "\n",
            Err(e) => crate::api::error_json(crate::api::ErrorKind::Internal, &e.to_string()),
        }
    }

    /// Plain text for terminals: tables sorted by count (then key), at most [`MAX_ROWS`] rows each.
    pub fn text(&self) -> String {
        let v = self.view();
        let total = v.reports;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "nsdoctor summary: {} report{}, {} input error{}",
            total,
            plural(total),
            v.input_errors,
            plural(v.input_errors)
        );
        section_text(
            &mut out,
            "verdict",
            total,
            VERDICTS.iter().map(|x| (x.as_str().to_string(), self.verdicts.get(*x))).collect(),
        );
        section_text(
            &mut out,
            "top cause (highest-ranked error or warning finding)",
            total,
            rows_total(&v.by_top_cause),
        );
        section_text(&mut out, "any cause (reports with a finding of this cause)", total, rows(&v.by_cause));
        section_text(&mut out, "rule (reports with a finding of this rule)", total, rows(&v.by_rule));
        let _ = writeln!(out, "\ndistro (reports: ok / degraded / blocked)");
        let distros = sorted_verdict_rows(&v.by_distro);
        let width = distros.iter().take(MAX_ROWS).map(|(k, _)| k.chars().count()).max().unwrap_or(0);
        for (k, r) in distros.iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "  {k:<width$}  {:>7} {:>6}  {} / {} / {}",
                r.reports,
                pct(r.reports, total),
                r.ok,
                r.degraded,
                r.blocked
            );
        }
        more_text(&mut out, distros.len());
        section_text(&mut out, "bwrap origin", total, rows_total(&v.by_bwrap_origin));
        section_text(&mut out, "bwrap selected_by", total, rows(&v.by_bwrap_selected_by));
        let f = &v.folded_into_other;
        if f.distro > 0 || f.rule > 0 || f.bwrap_selected_by > 0 {
            let _ = writeln!(
                out,
                "\nfolded into {OTHER_KEY} after {MAX_KEYS} distinct keys: distro {}, rule {}, selected_by {}",
                f.distro, f.rule, f.bwrap_selected_by
            );
        }
        if v.input_errors > 0 {
            let _ = writeln!(out, "\ninput errors (first {} of {})", v.errors.len(), v.input_errors);
            for e in &v.errors {
                let _ = writeln!(out, "  {}: {}", e.source, e.message);
            }
        }
        out
    }

    /// Markdown for issues and reports.
    pub fn markdown(&self) -> String {
        let v = self.view();
        let total = v.reports;
        let mut out = String::new();
        let _ = writeln!(out, "# nsdoctor summary\n");
        let _ = writeln!(
            out,
            "{} report{}, {} input error{}.\n",
            total,
            plural(total),
            v.input_errors,
            plural(v.input_errors)
        );
        section_md(
            &mut out,
            "Verdict",
            "verdict",
            total,
            VERDICTS.iter().map(|x| (x.as_str().to_string(), self.verdicts.get(*x))).collect(),
        );
        section_md(&mut out, "Top cause", "cause", total, rows_total(&v.by_top_cause));
        section_md(&mut out, "Any cause", "cause", total, rows(&v.by_cause));
        section_md(&mut out, "Rules", "rule", total, rows(&v.by_rule));
        let _ = writeln!(
            out,
            "## Distro\n\n| distro | reports | share | ok | degraded | blocked |\n| --- | ---: | ---: | ---: | ---: | ---: |"
        );
        let distros = sorted_verdict_rows(&v.by_distro);
        for (k, r) in distros.iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                md_text(k),
                r.reports,
                pct(r.reports, total),
                r.ok,
                r.degraded,
                r.blocked
            );
        }
        more_md(&mut out, distros.len());
        section_md(&mut out, "bwrap origin", "origin", total, rows_total(&v.by_bwrap_origin));
        section_md(&mut out, "bwrap selected_by", "selected_by", total, rows(&v.by_bwrap_selected_by));
        if v.input_errors > 0 {
            let _ = writeln!(out, "## Input errors\n\nFirst {} of {}:\n", v.errors.len(), v.input_errors);
            for e in &v.errors {
                let _ = writeln!(out, "- `{}`: {}", md_code(&e.source), md_text(&e.message));
            }
            out.push('\n');
        }
        out
    }

    /// Prometheus text exposition (textfile collector): gauges, no timestamps, label values escaped; a family
    /// with no sample is left out.
    pub fn prometheus(&self) -> String {
        let v = self.view();
        let mut out = String::new();
        let label = prometheus_label_value;
        family(
            &mut out,
            "nsdoctor_summary_reports",
            "Reports summarized, by verdict.",
            VERDICTS.iter().map(|x| format!("{{verdict=\"{}\"}} {}", x.as_str(), self.verdicts.get(*x))).collect(),
        );
        family(
            &mut out,
            "nsdoctor_summary_input_errors",
            "Inputs (files or NDJSON lines) that could not be read or parsed.",
            vec![format!(" {}", v.input_errors)],
        );
        family(
            &mut out,
            "nsdoctor_summary_top_cause",
            "Reports by the cause of their highest-ranked error or warning finding (none: no such finding).",
            v.by_top_cause.iter().map(|(k, r)| format!("{{cause=\"{}\"}} {}", label(k), r.reports)).collect(),
        );
        family(
            &mut out,
            "nsdoctor_summary_cause",
            "Reports with at least one finding of the cause.",
            v.by_cause.iter().map(|(k, n)| format!("{{cause=\"{}\"}} {n}", label(k))).collect(),
        );
        family(
            &mut out,
            "nsdoctor_summary_rule",
            "Reports with at least one finding of the rule.",
            v.by_rule.iter().map(|(k, n)| format!("{{code=\"{}\"}} {n}", label(k))).collect(),
        );
        let mut distro = Vec::new();
        for (k, r) in &v.by_distro {
            for (x, n) in [(Verdict::Blocked, r.blocked), (Verdict::Degraded, r.degraded), (Verdict::Ok, r.ok)] {
                if n > 0 {
                    distro.push(format!("{{distro=\"{}\",verdict=\"{}\"}} {n}", label(k), x.as_str()));
                }
            }
        }
        family(
            &mut out,
            "nsdoctor_summary_distro",
            "Reports by os-release ID and VERSION_ID and verdict (zero series omitted).",
            distro,
        );
        family(
            &mut out,
            "nsdoctor_summary_bwrap_origin",
            "Reports by where the selected bwrap comes from.",
            v.by_bwrap_origin.iter().map(|(k, r)| format!("{{origin=\"{}\"}} {}", label(k), r.reports)).collect(),
        );
        out
    }
}

fn input_kind_str(k: InputKind) -> &'static str {
    match k {
        InputKind::Probe => "probe",
        InputKind::StaticFacts => "static-facts",
        InputKind::ErrorText => "error-text",
    }
}

#[derive(Serialize)]
struct VerdictRow {
    reports: u64,
    ok: u64,
    degraded: u64,
    blocked: u64,
}

#[derive(Serialize)]
struct Folded {
    distro: u64,
    rule: u64,
    bwrap_selected_by: u64,
}

/// The JSON document (`nsdoctor summarize --format json`).
#[derive(Serialize)]
struct SummaryJson {
    schema_version: u32,
    /// Valid reports.
    reports: u64,
    input_errors: u64,
    /// Blocking findings over all reports.
    blocking_findings: u64,
    by_verdict: BTreeMap<String, u64>,
    by_input: BTreeMap<String, u64>,
    by_top_cause: BTreeMap<String, VerdictRow>,
    by_cause: BTreeMap<String, u64>,
    by_rule: BTreeMap<String, u64>,
    by_distro: BTreeMap<String, VerdictRow>,
    by_bwrap_origin: BTreeMap<String, VerdictRow>,
    by_bwrap_selected_by: BTreeMap<String, u64>,
    folded_into_other: Folded,
    errors: Vec<InputErrorSample>,
    errors_omitted: u64,
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `n / total` as a percentage with one decimal (rounded half up), integer arithmetic only.
fn pct(n: u64, total: u64) -> String {
    let half = total.checked_div(2).unwrap_or(0);
    let Some(tenths) = n.checked_mul(1000).and_then(|x| x.checked_add(half)).and_then(|x| x.checked_div(total)) else {
        return "-".to_string();
    };
    let whole = tenths.checked_div(10).unwrap_or(0);
    let frac = tenths.checked_rem(10).unwrap_or(0);
    format!("{whole}.{frac}%")
}

fn rows(m: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    m.iter().map(|(k, n)| (k.clone(), *n)).collect()
}

fn rows_total(m: &BTreeMap<String, VerdictRow>) -> Vec<(String, u64)> {
    m.iter().map(|(k, r)| (k.clone(), r.reports)).collect()
}

/// Count descending, then key ascending (the input is already key-sorted; the sort is stable).
fn by_count(mut rows: Vec<(String, u64)>) -> Vec<(String, u64)> {
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    rows
}

fn sorted_verdict_rows(m: &BTreeMap<String, VerdictRow>) -> Vec<(&String, &VerdictRow)> {
    let mut v: Vec<(&String, &VerdictRow)> = m.iter().collect();
    v.sort_by_key(|r| std::cmp::Reverse(r.1.reports));
    v
}

fn section_text(out: &mut String, title: &str, total: u64, rows: Vec<(String, u64)>) {
    let _ = writeln!(out, "\n{title}");
    let rows = by_count(rows);
    if rows.is_empty() {
        let _ = writeln!(out, "  (none)");
        return;
    }
    let width = rows.iter().take(MAX_ROWS).map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    for (k, n) in rows.iter().take(MAX_ROWS) {
        let _ = writeln!(out, "  {k:<width$}  {n:>7} {:>6}", pct(*n, total));
    }
    more_text(out, rows.len());
}

fn more_text(out: &mut String, len: usize) {
    if len > MAX_ROWS {
        let _ = writeln!(out, "  … {} more (see --format json)", len.saturating_sub(MAX_ROWS));
    }
}

fn more_md(out: &mut String, len: usize) {
    if len > MAX_ROWS {
        let _ = writeln!(out, "\n{} more rows in `--format json`.", len.saturating_sub(MAX_ROWS));
    }
    out.push('\n');
}

/// Keys are already cleaned; Markdown also needs `|` and backticks neutralised.
fn md_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace('`', "'").replace('<', "&lt;")
}

fn md_code(s: &str) -> String {
    s.replace('`', "'").replace('|', "\\|")
}

fn section_md(out: &mut String, title: &str, column: &str, total: u64, rows: Vec<(String, u64)>) {
    let _ = writeln!(out, "## {title}\n\n| {column} | reports | share |\n| --- | ---: | ---: |");
    let rows = by_count(rows);
    for (k, n) in rows.iter().take(MAX_ROWS) {
        let _ = writeln!(out, "| {} | {n} | {} |", md_text(k), pct(*n, total));
    }
    more_md(out, rows.len());
}

/// One gauge family: `# HELP`, `# TYPE`, then `name` + each of `samples` (labels and value); nothing when there
/// is no sample.
fn family(out: &mut String, name: &str, help: &str, samples: Vec<String>) {
    if samples.is_empty() {
        return;
    }
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for s in samples {
        let _ = writeln!(out, "{name}{s}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fact::Fact;

    fn report(distro: &str, version: &str, selected: Option<&str>, by: Option<&str>) -> ProbeReport {
        let mut r = ProbeReport { schema_version: 1, ..Default::default() };
        r.distro.id = Fact::Observed(distro.to_string());
        r.distro.version_id = Fact::Observed(version.to_string());
        r.bwrap.selected = selected.map(str::to_string);
        r.bwrap.selected_by = by.map(str::to_string);
        r
    }

    #[test]
    fn bwrap_origin_classes() {
        let o = |p: Option<&str>, by: Option<&str>| BwrapOrigin::of(&report("x", "1", p, by).bwrap);
        assert_eq!(o(Some("/usr/bin/bwrap"), Some("PATH")), BwrapOrigin::System);
        assert_eq!(o(Some("/bin/bwrap"), None), BwrapOrigin::System);
        assert_eq!(o(Some("/proc/self/fd/3"), Some("codex bundled (memfd)")), BwrapOrigin::CodexBundled);
        assert_eq!(o(Some("/home/u/.codex/packages/x/codex-resources/bwrap"), Some("PATH")), BwrapOrigin::CodexBundled);
        assert_eq!(o(Some("/usr/local/bin/bwrap"), Some("PATH")), BwrapOrigin::Other);
        assert_eq!(o(Some("/usr/bin/../local/bwrap"), Some("PATH")), BwrapOrigin::Other);
        assert_eq!(o(None, Some("PATH")), BwrapOrigin::None);
        assert_eq!(o(Some("  "), None), BwrapOrigin::None);
    }

    #[test]
    fn keys_are_capped_and_bounded() {
        let mut s = Summary::default();
        let d = crate::diagnose(&report("x", "1", None, None), None);
        for i in 0..(MAX_KEYS + 500) {
            let r = report("distro", &format!("{i}"), None, Some(&format!("by {i}")));
            s.add(&r, &d);
        }
        assert_eq!(s.distros.map.len(), MAX_KEYS);
        assert_eq!(s.selected_by.map.len(), MAX_KEYS);
        assert!(s.distros.map.contains_key(OTHER_KEY));
        assert_eq!(s.distros.folded, 501);
        let total: u64 = s.distros.map.values().map(VerdictCounts::total).sum();
        assert_eq!(total, s.reports());
        // A long hostile key is cut and cleaned.
        let mut s = Summary::default();
        s.add(&report(&format!("\u{1b}[2J{}", "a".repeat(10_000)), "\u{202e}1", None, None), &d);
        let key = s.distros.map.keys().next().unwrap();
        assert!(key.chars().count() <= MAX_KEY_CHARS + 1, "{key}");
        assert!(!key.contains('\u{1b}') && key.ends_with('…'));
    }

    #[test]
    fn errors_keep_a_bounded_sample() {
        let mut s = Summary::default();
        for i in 0..100 {
            s.add_error(&format!("f:{i}"), &format!("bad\nline {}", "x".repeat(1000)));
        }
        assert_eq!(s.input_errors(), 100);
        assert_eq!(s.error_samples().len(), MAX_ERROR_SAMPLES);
        assert!(
            s.error_samples()
                .iter()
                .all(|e| !e.message.contains('\n') && e.message.chars().count() <= MAX_ERROR_CHARS + 1)
        );
        let j: serde_json::Value = serde_json::from_str(&s.json()).unwrap();
        assert_eq!(j["errors_omitted"], 80);
    }

    #[test]
    fn percent_uses_integers() {
        assert_eq!(pct(1, 3), "33.3%");
        assert_eq!(pct(2, 3), "66.7%");
        assert_eq!(pct(2, 2), "100.0%");
        assert_eq!(pct(0, 0), "-");
    }
}
