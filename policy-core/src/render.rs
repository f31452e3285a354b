//! Renderers: plain/colored text, Markdown, JSON (structured fields plus the rendered text), rule docs.
//!
//! Every string that can come from a report is passed through [`clean`], which escapes control and bidi
//! characters, so a hostile report cannot move the cursor, rewrite the terminal or reorder what is shown.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::diagnosis::{Diagnosis, Finding, Remediation, Severity, Verdict};
use crate::rules::{RULES, Rule};

/// At most `max_chars` characters of `s`, ending in `…` when it was longer.
pub(crate) fn ellipsize(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max_chars).collect();
    out.push('…');
    out
}

/// True when `s` holds no character that [`clean`] escapes: C0 controls (but tab) and DEL, C1 controls
/// (UTF-8 `C2 80`–`C2 9F`), U+061C (`D8 9C`), the bidi marks U+200E/F, U+202A–E and U+2066–9 (`E2 80 8E/8F`,
/// `E2 80 AA`–`AE`, `E2 81 A6`–`A9`) and U+FEFF (`EF BB BF`). Exact, so text with dashes, ellipses and other
/// punctuation from the U+20xx block still takes this fast path.
fn needs_no_escape(s: &str) -> bool {
    let b = s.as_bytes();
    // The lead bytes of everything escaped; most text has none, and em dashes (E2 80 94) are only suspects.
    let suspect =
        |x: u8| (x < 0x20 && x != b'\t') | (x == 0x7f) | (x == 0xc2) | (x == 0xd8) | (x == 0xe2) | (x == 0xef);
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let escaped_at = |i: usize| {
        let (x, n1, n2) = (at(i), at(i.wrapping_add(1)), at(i.wrapping_add(2)));
        match x {
            0x00..=0x1f | 0x7f => x != b'\t',
            0xc2 => (0x80..=0x9f).contains(&n1),
            0xd8 => n1 == 0x9c,
            0xe2 => {
                n1 == 0x80 && (matches!(n2, 0x8e | 0x8f) || (0xaa..=0xae).contains(&n2))
                    || n1 == 0x81 && (0xa6..=0xa9).contains(&n2)
            }
            0xef => n1 == 0xbb && n2 == 0xbf,
            _ => false,
        }
    };
    // A branch-free pass per 32-byte chunk (the compiler vectorises it); only a chunk with a suspect is looked at.
    let mut base: usize = 0;
    for chunk in b.chunks(32) {
        if chunk.iter().fold(false, |acc, &x| acc | suspect(x)) {
            for (k, &x) in chunk.iter().enumerate() {
                if suspect(x) && escaped_at(base.wrapping_add(k)) {
                    return false;
                }
            }
        }
        base = base.wrapping_add(chunk.len());
    }
    true
}

/// Escapes C0/C1 controls (except tab) and Unicode bidi/format controls as `\u{…}`.
pub fn clean(s: &str) -> Cow<'_, str> {
    if needs_no_escape(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi =
            matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && c != '\t') || bidi || c == '\u{FEFF}' {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, s: &str, code: &str) -> String {
        if self.color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
}

fn sev_code(s: Severity) -> &'static str {
    match s {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Info => "1;36",
    }
}

fn verdict_code(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "1;32",
        Verdict::Degraded => "1;33",
        Verdict::Blocked => "1;31",
    }
}

/// Pushes possibly multi-line text with an indent, cleaning each line.
fn block(out: &mut String, indent: &str, text: &str) {
    for l in text.lines() {
        let _ = writeln!(out, "{indent}{}", clean(l));
    }
}

fn config_line(d: &Diagnosis) -> String {
    let c = &d.config;
    let mut ns = Vec::new();
    for (on, name) in [
        (c.namespaces.user, "user"),
        (c.namespaces.net, "net"),
        (c.namespaces.pid, "pid"),
        (c.namespaces.mount, "mount"),
        (c.namespaces.proc, "proc"),
    ] {
        if on {
            ns.push(name);
        }
    }
    let net = serde_json::to_value(c.network).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let mut s = format!("{} sandbox, network {net}, namespaces {}", clean(&c.tool), ns.join("+"));
    if let Some(b) = &c.bwrap_path {
        let _ = write!(s, ", bwrap {}", clean(b));
    }
    s
}

/// The lines under the headline that say what the diagnosis rests on: for a probe report, the sandbox it
/// checked; for an error text, what was read (nothing on a host was checked) and the sandbox it was judged for.
fn basis_lines(d: &Diagnosis) -> Vec<(&'static str, String)> {
    let Some(read) = &d.read else {
        return vec![("checked", config_line(d))];
    };
    let text = format!("an error text of {} line{}", read.lines, if read.lines == 1 { "" } else { "s" });
    let facts = if read.facts.is_empty() {
        "no facts stated about the host that printed it (distro, kernel, container … narrow the diagnosis)".to_string()
    } else {
        let facts: Vec<String> = read.facts.iter().map(|f| clean(f).into_owned()).collect();
        format!("the stated facts {}", facts.join(", "))
    };
    vec![("read", format!("{text}, and {facts}")), ("judged for", config_line(d))]
}

/// Plain text; ANSI colour only when `color` (the CLI decides: TTY, NO_COLOR, TERM).
pub fn text(d: &Diagnosis, color: bool) -> String {
    let p = Painter { color };
    let mut out = String::with_capacity(4096);
    let verdict = d.verdict.as_str().to_ascii_uppercase();
    let _ = writeln!(out, "nsdoctor: {} {}", p.paint(&verdict, verdict_code(d.verdict)), clean(&d.headline));
    for (label, line) in basis_lines(d) {
        let _ = writeln!(out, "{label}: {line}");
    }
    for f in &d.findings {
        out.push('\n');
        finding_text(&mut out, f, &p);
    }
    if !d.confirm.is_empty() {
        let _ = writeln!(out, "\nto confirm:");
        for c in &d.confirm {
            let _ = writeln!(out, "  $ {}", clean(c));
        }
    }
    out
}

fn finding_text(out: &mut String, f: &Finding, p: &Painter) {
    let tag = format!("[{}]", f.severity.as_str());
    let _ =
        writeln!(out, "{}. {} {} {}: {}", f.rank, p.paint(&tag, sev_code(f.severity)), f.code, f.name, clean(&f.title));
    let _ = writeln!(
        out,
        "   cause: {}   confidence: {}   blocking: {}",
        f.cause.as_str(),
        f.confidence.as_str(),
        if f.blocking { "yes" } else { "no" }
    );
    block(out, "   ", &f.summary);
    if !f.evidence.is_empty() {
        let _ = writeln!(out, "   evidence:");
        for e in &f.evidence {
            let _ = writeln!(out, "     {} = {}", clean(&e.pointer), clean(&e.observed));
            let _ = writeln!(out, "       {}", clean(&e.meaning));
        }
    }
    let _ = writeln!(out, "   ranked here because: {}", clean(&f.ranking));
    if !f.remediations.is_empty() {
        let _ = writeln!(out, "   fixes, least privilege first:");
        for (i, r) in f.remediations.iter().enumerate() {
            remediation_text(out, i, r);
        }
    }
    let _ = writeln!(out, "   details: nsdoctor explain {}", f.code);
}

fn letter(i: usize) -> char {
    char::from(b'a'.saturating_add(u8::try_from(i.checked_rem(26).unwrap_or(0)).unwrap_or(0)))
}

fn flags(r: &Remediation) -> String {
    format!(
        "{}, {}",
        if r.needs_root { "needs root" } else { "no root needed" },
        if r.persists { "persists across reboot" } else { "until reboot or undone" }
    )
}

fn remediation_text(out: &mut String, i: usize, r: &Remediation) {
    let _ = writeln!(out, "     {}) {} ({})", letter(i), clean(&r.title), flags(r));
    let _ = writeln!(out, "        trade-off: {}", clean(&r.trade_off));
    for f in &r.files {
        let _ = writeln!(out, "        file {}:", clean(&f.path));
        block(out, "          | ", &f.content);
    }
    for c in &r.commands {
        block(out, "        $ ", c);
    }
    for v in &r.verify {
        let _ = writeln!(out, "        verify: $ {}", clean(v));
    }
}

/// A code fence longer than any backtick run in `content`.
fn fence(content: &str) -> String {
    let mut longest: usize = 0;
    let mut run: usize = 0;
    for c in content.chars() {
        if c == '`' {
            run = run.saturating_add(1);
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat(longest.max(2).saturating_add(1))
}

/// Markdown for issue comments and docs.
pub fn markdown(d: &Diagnosis) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# nsdoctor: {}\n", d.verdict.as_str());
    let _ = writeln!(out, "{}\n", clean(&d.headline));
    for (label, line) in basis_lines(d) {
        let label = label.get(..1).unwrap_or_default().to_ascii_uppercase() + label.get(1..).unwrap_or_default();
        let _ = writeln!(out, "{label}: {line}\n");
    }
    for f in &d.findings {
        let _ = writeln!(out, "## {}. `{}` {} ({})\n", f.rank, f.code, clean(&f.title), f.severity.as_str());
        let _ = writeln!(
            out,
            "- cause: `{}`\n- confidence: {}\n- blocking: {}\n- rule: `{}`\n",
            f.cause.as_str(),
            f.confidence.as_str(),
            if f.blocking { "yes" } else { "no" },
            f.name
        );
        let _ = writeln!(out, "{}\n", clean(&f.summary));
        if !f.evidence.is_empty() {
            let _ = writeln!(out, "| fact | observed | meaning |\n| --- | --- | --- |");
            for e in &f.evidence {
                let _ = writeln!(
                    out,
                    "| `{}` | `{}` | {} |",
                    md_cell(&e.pointer),
                    md_cell(&e.observed),
                    md_cell(&e.meaning)
                );
            }
            out.push('\n');
        }
        let _ = writeln!(out, "Ranked here because: {}\n", clean(&f.ranking));
        for (i, r) in f.remediations.iter().enumerate() {
            let _ = writeln!(out, "### Fix {}: {}\n", letter(i), clean(&r.title));
            let _ = writeln!(out, "{}. Trade-off: {}\n", flags(r), clean(&r.trade_off));
            for file in &r.files {
                let body = clean_block(&file.content);
                let fc = fence(&body);
                let _ = writeln!(out, "`{}`:\n\n{fc}\n{}\n{fc}\n", md_cell(&file.path), body.trim_end());
            }
            if !r.commands.is_empty() || !r.verify.is_empty() {
                let cmds: Vec<String> = r.commands.iter().chain(r.verify.iter()).map(|c| clean_block(c)).collect();
                let body = cmds.join("\n");
                let fc = fence(&body);
                let _ = writeln!(out, "{fc}sh\n{body}\n{fc}\n");
            }
        }
        let _ = writeln!(out, "Details: `nsdoctor explain {}`\n", f.code);
    }
    if !d.confirm.is_empty() {
        let body: Vec<Cow<'_, str>> = d.confirm.iter().map(|c| clean(c)).collect();
        let body = body.join("\n");
        let fc = fence(&body);
        let _ = writeln!(out, "## To confirm\n\n{fc}sh\n{body}\n{fc}");
    }
    out
}

fn clean_block(s: &str) -> String {
    s.lines().map(clean).collect::<Vec<_>>().join("\n")
}

fn md_cell(s: &str) -> String {
    clean(s).replace('|', "\\|").replace('`', "'")
}

/// JSON: the structured diagnosis with `rendered` (plain text) filled in. Fields in declaration order, maps
/// sorted (BTreeMap): same input, same bytes.
pub fn json(d: &Diagnosis) -> String {
    /// The diagnosis with its rendering, without cloning it (`d.rendered` is empty, so skipped, here).
    #[derive(serde::Serialize)]
    struct WithText<'a> {
        #[serde(flatten)]
        d: &'a Diagnosis,
        rendered: String,
    }
    // A diagnosis read back from JSON carries its old rendering: drop it so the key appears once.
    let owned;
    let d = if d.rendered.is_empty() {
        d
    } else {
        owned = Diagnosis { rendered: String::new(), ..d.clone() };
        &owned
    };
    let full = WithText { d, rendered: text(d, false) };
    // The JSON is about twice the rendering: one allocation instead of a dozen regrowths.
    let mut buf = Vec::with_capacity(full.rendered.len().saturating_mul(5) / 2);
    match serde_json::to_writer_pretty(&mut buf, &full) {
        Ok(()) => {
            buf.push(b'\n');
            String::from_utf8(buf)
                .unwrap_or_else(|e| crate::api::error_json(crate::api::ErrorKind::Internal, &e.to_string()))
        }
        Err(e) => crate::api::error_json(crate::api::ErrorKind::Internal, &e.to_string()),
    }
}

/// `nsdoctor explain CODE` as text (the rule's Markdown doc under a header line, then how the cause ranker
/// reads an error text for this rule's cause, generated from the same knowledge the ranker uses).
pub fn explain_text(rule: &Rule, doc: &str) -> String {
    format!(
        "{} {} ({}, cause {})\n{}\n\n{}\n{}",
        rule.code,
        rule.name,
        rule.severity.as_str(),
        rule.cause.as_str(),
        rule.title,
        doc.trim_end(),
        crate::causes::reading(rule.cause)
    )
}

/// A rule as JSON; `doc` (the rule's Markdown file) gets the generated `## Reading an error text` section.
fn rule_value(rule: &Rule, doc: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "code": rule.code,
        "name": rule.name,
        "severity": rule.severity.as_str(),
        "cause": rule.cause.as_str(),
        "title": rule.title,
    });
    if let (Some(doc), Some(m)) = (doc, v.as_object_mut()) {
        m.insert("doc".to_string(), format!("{}\n{}", doc.trim_end(), crate::causes::reading(rule.cause)).into());
    }
    v
}

/// `nsdoctor explain CODE --format json`, `doc` being the rule's Markdown file.
pub fn explain_json(rule: &Rule, doc: &str) -> String {
    serde_json::to_string_pretty(&rule_value(rule, Some(doc))).map(|s| s + "\n").unwrap_or_default()
}

/// `nsdoctor rules`.
pub fn rules_text() -> String {
    let mut out = String::new();
    for r in RULES {
        let _ =
            writeln!(out, "{}  {:<32} {:<8} {:<36} {}", r.code, r.name, r.severity.as_str(), r.cause.as_str(), r.title);
    }
    out
}

/// `nsdoctor rules --format json`, with each rule's doc as `doc` gives it (no `doc` key where it gives none).
pub fn rules_json<'a>(doc: &dyn Fn(&'static Rule) -> Option<&'a str>) -> String {
    let all: Vec<serde_json::Value> = RULES.iter().map(|r| rule_value(r, doc(r))).collect();
    serde_json::to_string_pretty(&all).map(|s| s + "\n").unwrap_or_default()
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A self-contained HTML fragment (every report string escaped) for embedding.
pub fn html(d: &Diagnosis) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "<section class=\"nsd-diagnosis\" data-verdict=\"{}\">", d.verdict.as_str());
    let _ = writeln!(out, "<h2>nsdoctor: {}</h2>\n<p>{}</p>", d.verdict.as_str(), html_escape(&d.headline));
    for f in &d.findings {
        let _ = writeln!(
            out,
            "<article class=\"nsd-finding\" data-code=\"{}\" data-cause=\"{}\"><h3>{}. {} {}</h3>",
            f.code,
            f.cause.as_str(),
            f.rank,
            f.code,
            html_escape(&f.title)
        );
        let _ = writeln!(
            out,
            "<p>cause: <code>{}</code>, severity: {}, confidence: {}, blocking: {}</p>\n<p>{}</p>",
            f.cause.as_str(),
            f.severity.as_str(),
            f.confidence.as_str(),
            if f.blocking { "yes" } else { "no" },
            html_escape(&f.summary)
        );
        if !f.evidence.is_empty() {
            out.push_str("<ul class=\"nsd-evidence\">\n");
            for e in &f.evidence {
                let _ = writeln!(
                    out,
                    "<li><code>{}</code> = <code>{}</code>: {}</li>",
                    html_escape(&e.pointer),
                    html_escape(&e.observed),
                    html_escape(&e.meaning)
                );
            }
            out.push_str("</ul>\n");
        }
        for r in &f.remediations {
            let _ = writeln!(
                out,
                "<h4>{}</h4>\n<p>{}. Trade-off: {}</p>",
                html_escape(&r.title),
                flags(r),
                html_escape(&r.trade_off)
            );
            for file in &r.files {
                let _ = writeln!(
                    out,
                    "<p><code>{}</code></p><pre>{}</pre>",
                    html_escape(&file.path),
                    html_escape(&file.content)
                );
            }
            if !r.commands.is_empty() {
                let cmds: Vec<String> = r.commands.iter().map(|c| html_escape(c)).collect();
                let _ = writeln!(out, "<pre>{}</pre>", cmds.join("\n"));
            }
        }
        out.push_str("</article>\n");
    }
    out.push_str("</section>\n");
    out
}

// ---- Integration formats: `--format checks` (doctor checks) and `--format prometheus` (textfile collector).

/// The `category` of every check: the one Codex's doctor gives its own sandbox check (`sandbox.helpers`), so an
/// embedding doctor shows nsdoctor's checks in the same group.
pub const CHECK_CATEGORY: &str = "sandbox";

/// One doctor check, in the shape of a check in `codex doctor --json`; `--format checks` prints an array of them
/// (JSON Schema: `nsdoctor schema checks`).
///
/// Codex (`openai/codex`, `codex-rs/cli/src/doctor.rs`) prints one pretty JSON object `DoctorReport`
/// `{schemaVersion, generatedAt, overallStatus, codexVersion, checks: [DoctorCheck]}` where `DoctorCheck` is
/// `{id, category, status, summary, details, remediation, durationMs}`: `id` like `sandbox.helpers` or
/// `state.paths`, `status` one of `ok` | `warning` | `fail` (snake_case `CheckStatus`), `summary` one line,
/// `details` a list of `label: value` strings, `remediation` a string or `null`. nsdoctor emits the
/// `checks` array itself (no envelope: the embedding doctor owns `overallStatus` and the version), and leaves
/// out `durationMs` because the policy core has no clock.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DoctorCheck {
    /// `nsdoctor.NSDnnn` for a finding (its rule code), `nsdoctor.namespaces` when there is no finding.
    pub id: String,
    /// Always `sandbox`.
    pub category: String,
    /// `fail` for a blocking or error finding, `warning`, or `ok`; a harness refuses to start on `fail`.
    pub status: CheckStatus,
    /// One line: the finding's title, or the headline when there is no finding.
    pub summary: String,
    /// `label: value` lines: rule, cause, severity, what happened, evidence, every fix and its commands, and
    /// `more: nsdoctor explain CODE`.
    pub details: Vec<String>,
    /// The first fix's title with a pointer to every fix, or `null`.
    pub remediation: Option<String>,
}

/// A doctor check's status (Codex's `CheckStatus`, snake_case).
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Nothing to do.
    Ok,
    /// Works, with a caveat worth reading.
    Warning,
    /// The sandbox cannot start (or nsdoctor could not tell).
    Fail,
}

/// A finding's check status: blocking or error → `fail`, warning → `warning`, info → `ok`.
pub fn check_status(f: &Finding) -> CheckStatus {
    if f.blocking || f.severity == Severity::Error {
        CheckStatus::Fail
    } else if f.severity == Severity::Warning {
        CheckStatus::Warning
    } else {
        CheckStatus::Ok
    }
}

/// Multi-line text as one cleaned line.
fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).map(clean).collect::<Vec<_>>().join(" ")
}

fn finding_check(f: &Finding) -> DoctorCheck {
    let mut details = vec![
        format!("rule: {} {}", f.code, f.name),
        format!("cause: {}", f.cause.as_str()),
        format!(
            "severity: {}, blocking: {}, confidence: {}, rank: {}",
            f.severity.as_str(),
            if f.blocking { "yes" } else { "no" },
            f.confidence.as_str(),
            f.rank
        ),
        format!("what happened: {}", one_line(&f.summary)),
    ];
    for e in &f.evidence {
        details.push(format!("evidence: {} = {} ({})", clean(&e.pointer), one_line(&e.observed), one_line(&e.meaning)));
    }
    for (i, r) in f.remediations.iter().enumerate() {
        details.push(format!("fix {}: {} ({})", letter(i), one_line(&r.title), flags(r)));
        for file in &r.files {
            details.push(format!("fix {} file: {}", letter(i), clean(&file.path)));
        }
        for c in &r.commands {
            details.push(format!("fix {} $ {}", letter(i), one_line(c)));
        }
    }
    details.push(format!("more: nsdoctor explain {}", f.code));
    DoctorCheck {
        id: format!("nsdoctor.{}", f.code),
        category: CHECK_CATEGORY.to_string(),
        status: check_status(f),
        summary: one_line(&f.title),
        details,
        remediation: f
            .remediations
            .first()
            .map(|r| format!("{} (every fix: nsdoctor explain {})", one_line(&r.title), f.code)),
    }
}

/// `--format checks`: a JSON array with one doctor check per finding (ranked order), or, when there is no
/// finding, one `ok` check `nsdoctor.namespaces` carrying the headline. Pretty, trailing newline.
pub fn checks(d: &Diagnosis) -> String {
    match serde_json::to_string_pretty(&doctor_checks(d)) {
        Ok(s) => s + "\n",
        Err(e) => crate::api::error_json(crate::api::ErrorKind::Internal, &e.to_string()),
    }
}

/// The checks `--format checks` prints, as values (for an embedding harness in Rust).
pub fn doctor_checks(d: &Diagnosis) -> Vec<DoctorCheck> {
    let mut all: Vec<DoctorCheck> = d.findings.iter().map(finding_check).collect();
    if all.is_empty() {
        let mut details = vec![format!("verdict: {}", d.verdict.as_str())];
        details.extend(basis_lines(d).into_iter().map(|(label, line)| format!("{label}: {line}")));
        for c in &d.confirm {
            details.push(format!("confirm: $ {}", one_line(c)));
        }
        all.push(DoctorCheck {
            id: "nsdoctor.namespaces".to_string(),
            category: CHECK_CATEGORY.to_string(),
            status: match d.verdict {
                Verdict::Ok => CheckStatus::Ok,
                Verdict::Degraded => CheckStatus::Warning,
                Verdict::Blocked => CheckStatus::Fail,
            },
            summary: one_line(&d.headline),
            details,
            remediation: None,
        });
    }
    all
}

/// Longest label value emitted (characters); longer values are cut and end in `…`.
pub const PROMETHEUS_MAX_LABEL_CHARS: usize = 256;

/// A Prometheus label value, escaped per the text exposition format (`\` → `\\`, `"` → `\"`, newline →
/// `\n`), other control and bidi characters shown as `\u{…}` (see [`clean`]; its backslash escaped in turn),
/// cut to [`PROMETHEUS_MAX_LABEL_CHARS`].
pub fn prometheus_label_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(PROMETHEUS_MAX_LABEL_CHARS));
    let mut chars = s.chars();
    for c in chars.by_ref().take(PROMETHEUS_MAX_LABEL_CHARS) {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => {
                let mut buf = [0u8; 4];
                for k in clean(c.encode_utf8(&mut buf)).chars() {
                    if k == '\\' {
                        out.push_str("\\\\");
                    } else {
                        out.push(k);
                    }
                }
            }
        }
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

fn prom_family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

/// `check --textfile`: [`prometheus`] plus when the run finished (Unix seconds) and how long it took, the two
/// values a fleet alerts on for staleness and cost. The caller reads the clock; the core stays clock-free.
pub fn prometheus_run(d: &Diagnosis, finished_unix_seconds: f64, took_seconds: f64) -> String {
    let mut out = prometheus(d);
    prom_family(&mut out, "nsdoctor_last_run_timestamp_seconds", "When this check finished (Unix time).");
    let _ = writeln!(out, "nsdoctor_last_run_timestamp_seconds {finished_unix_seconds:.3}");
    prom_family(&mut out, "nsdoctor_check_duration_seconds", "How long this check took.");
    let _ = writeln!(out, "nsdoctor_check_duration_seconds {took_seconds:.6}");
    out
}

/// `--format prometheus`: the text exposition format for node_exporter's textfile collector. Gauges only, no
/// timestamps, every metric family once with `# HELP` and `# TYPE`, label values escaped by
/// [`prometheus_label_value`].
pub fn prometheus(d: &Diagnosis) -> String {
    let mut out = String::new();
    let c = &d.config;
    prom_family(&mut out, "nsdoctor_info", "The nsdoctor version and the sandbox config the diagnosis judged.");
    let net = serde_json::to_value(c.network).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let _ = writeln!(
        out,
        "nsdoctor_info{{version=\"{}\",tool=\"{}\",network=\"{}\",bwrap_path=\"{}\"}} 1",
        prometheus_label_value(crate::VERSION),
        prometheus_label_value(&c.tool),
        prometheus_label_value(&net),
        prometheus_label_value(c.bwrap_path.as_deref().unwrap_or(""))
    );
    prom_family(
        &mut out,
        "nsdoctor_verdict",
        "1 for the verdict of this run (ok, degraded or blocked), 0 for the others.",
    );
    for v in [Verdict::Ok, Verdict::Degraded, Verdict::Blocked] {
        let _ = writeln!(out, "nsdoctor_verdict{{verdict=\"{}\"}} {}", v.as_str(), u8::from(d.verdict == v));
    }
    // A family without samples is left out (HELP/TYPE with no sample lines confuse some parsers).
    if !d.findings.is_empty() {
        prom_family(&mut out, "nsdoctor_finding", "1 per finding of this run.");
    }
    let mut seen = std::collections::BTreeSet::new();
    for f in &d.findings {
        let line = format!(
            "nsdoctor_finding{{code=\"{}\",name=\"{}\",cause=\"{}\",severity=\"{}\",blocking=\"{}\"}} 1",
            prometheus_label_value(&f.code),
            prometheus_label_value(&f.name),
            f.cause.as_str(),
            f.severity.as_str(),
            f.blocking
        );
        // A series may appear once per scrape.
        if seen.insert(line.clone()) {
            let _ = writeln!(out, "{line}");
        }
    }
    prom_family(&mut out, "nsdoctor_findings", "Findings of this run by severity.");
    for s in [Severity::Error, Severity::Warning, Severity::Info] {
        let n = d.findings.iter().filter(|f| f.severity == s).count();
        let _ = writeln!(out, "nsdoctor_findings{{severity=\"{}\"}} {n}", s.as_str());
    }
    prom_family(&mut out, "nsdoctor_blocking_findings", "Findings of this run that alone stop the sandbox.");
    let _ = writeln!(out, "nsdoctor_blocking_findings {}", d.findings.iter().filter(|f| f.blocking).count());
    out
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    /// The fast path says "nothing to escape" exactly when escaping changes nothing.
    #[test]
    fn fast_path_is_exact() {
        let mut cases: Vec<String> = vec![
            "plain".into(),
            "tab\tok".into(),
            "dash — ellipsis … arrow → ≤".into(),
            "\u{2010}\u{2011}\u{2030}".into(),
        ];
        for c in [
            '\u{0}', '\u{1b}', '\u{7f}', '\u{80}', '\u{9f}', '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}',
            '\u{202E}', '\u{2066}', '\u{2069}', '\u{FEFF}',
        ] {
            cases.push(format!("a{c}b"));
        }
        for c in
            ['\u{a0}', '\u{0600}', '\u{200D}', '\u{2029}', '\u{202F}', '\u{2065}', '\u{206A}', '\u{FEFE}', '\u{FFFD}']
        {
            cases.push(format!("a{c}b"));
        }
        for s in cases {
            let slow_unchanged = s.chars().all(|c| {
                let bidi = matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
                !((c.is_control() && c != '\t') || bidi || c == '\u{FEFF}')
            });
            assert_eq!(needs_no_escape(&s), slow_unchanged, "{s:?}");
        }
    }
}
