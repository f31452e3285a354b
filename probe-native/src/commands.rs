//! The subcommands. All reading of files and stdin happens here; `policy-core` gets bytes and values.

use std::io::{BufRead, IsTerminal, Read, Write};

use policy_core::input::{self, MAX_ERROR_TEXT_BYTES, MAX_REPORT_BYTES};
use policy_core::summary::Summary;
use policy_core::{Diagnosis, api, render};

use crate::exit::{Exit, Failure};
use crate::{
    CheckArgs, ColorChoice, DiagnoseArgs, ExplainArgs, ExplainFormat, Format, OutputArgs, ProbeCmdArgs, RulesArgs,
    SchemaArgs, SummarizeArgs, SummaryFormat,
};

/// Reads a file or `-` (stdin), refusing more than `limit` bytes without reading them all.
pub fn read_input(path: &str, limit: usize) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    let cap = (limit as u64).saturating_add(1);
    let res = if path == "-" {
        std::io::stdin().lock().take(cap).read_to_end(&mut buf)
    } else {
        let f = std::fs::File::open(path).map_err(|source| Failure::Open { path: path.to_string(), source })?;
        f.take(cap).read_to_end(&mut buf)
    };
    res.map_err(|source| Failure::Read { path: path.to_string(), source })?;
    if buf.len() > limit {
        return Err(Failure::TooLarge { path: path.to_string(), limit });
    }
    Ok(buf)
}

/// A config file's sandbox config.
fn read_config(path: &str) -> Result<policy_core::SandboxConfig, Failure> {
    input::parse_config(&read_input(path, MAX_REPORT_BYTES)?)
        .map_err(|source| Failure::Invalid { path: path.to_string(), source })
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true)
        }
    }
}

fn emit(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Output(e)),
    }
}

/// Renders a diagnosis and returns the exit code (1 when blocked).
pub fn print_diagnosis(d: &Diagnosis, out: &OutputArgs) -> Result<Exit, Failure> {
    let text = match out.format {
        Format::Text => render::text(d, use_color(out.color)),
        Format::Markdown => render::markdown(d),
        Format::Json => render::json(d),
        Format::Checks => render::checks(d),
        Format::Prometheus => render::prometheus(d),
    };
    emit(&text)?;
    Ok(Exit::of(d))
}

pub fn diagnose(a: &DiagnoseArgs) -> Result<Exit, Failure> {
    let config = a.config.as_deref().map(|p| read_input(p, MAX_REPORT_BYTES).map(|b| (p, b))).transpose()?;
    let config_bytes = config.as_ref().map(|(_, b)| &b[..]);
    let (path, bytes) = match &a.error_text {
        Some(p) => (p.as_str(), read_input(p, MAX_ERROR_TEXT_BYTES)?),
        None => {
            let p = a.report.as_deref().unwrap_or("-");
            (p, read_input(p, MAX_REPORT_BYTES)?)
        }
    };
    let call = match &a.error_text {
        Some(_) => {
            api::Call::DiagnoseErrorText { text: &bytes, facts: api::Facts::Pairs(&a.facts), config: config_bytes }
        }
        None => api::Call::Diagnose { report: &bytes, config: config_bytes },
    };
    match api::call(call) {
        Ok(api::Answer::Diagnosis(d)) => print_diagnosis(&d, &a.out),
        Ok(other) => Err(Failure::Api { path: None, message: format!("unexpected answer: {}", other.into_json()) }),
        Err(e) => {
            let path = match (e.arg, &config) {
                (Some(api::Arg::Config), Some((cp, _))) => Some(cp.to_string()),
                (Some(api::Arg::Report | api::Arg::ErrorText), _) => Some(path.to_string()),
                _ => None,
            };
            Err(Failure::Api { path, message: e.message })
        }
    }
}

/// A call that answers text, printed as is (explain, rules, schema).
fn print_answer(call: api::Call<'_>) -> Result<Exit, Failure> {
    let answer = api::call(call).map_err(|e| Failure::Api { path: None, message: e.message })?;
    emit(&answer.into_json())?;
    Ok(Exit::Ok)
}

fn doc_format(f: ExplainFormat) -> api::DocFormat {
    match f {
        ExplainFormat::Text => api::DocFormat::Text,
        ExplainFormat::Json => api::DocFormat::Json,
    }
}

pub fn explain(a: &ExplainArgs) -> Result<Exit, Failure> {
    print_answer(api::Call::Explain { rule: &a.code, format: doc_format(a.format), docs: None })
}

pub fn rules(a: &RulesArgs) -> Result<Exit, Failure> {
    print_answer(api::Call::Rules { format: doc_format(a.format), docs: None })
}

pub fn schema(a: &SchemaArgs) -> Result<Exit, Failure> {
    print_answer(api::Call::Schema { name: &a.name, docs: None })
}

pub fn fingerprint(a: &crate::FingerprintArgs) -> Result<Exit, Failure> {
    let fp = nsdoctor::fingerprint(&a.probe.options(false));
    let text = match a.format {
        ExplainFormat::Text => format!("{}\n", fp.value),
        ExplainFormat::Json => {
            let v = serde_json::json!({ "fingerprint": fp.value, "inputs": fp.inputs });
            serde_json::to_string_pretty(&v).map_err(Failure::Encode)? + "\n"
        }
    };
    emit(&text)?;
    Ok(Exit::Ok)
}

pub fn check(a: &CheckArgs) -> Result<Exit, Failure> {
    let started = std::time::Instant::now();
    let d = nsdoctor::check(&a.probe.options(a.full))?;
    if let Some(dir) = &a.textfile {
        write_textfile(dir, &d, started.elapsed())?;
    }
    print_diagnosis(&d, &a.out)
}

/// The textfile collector's file: the diagnosis's gauges plus when this run ended and how long it took (what a
/// fleet alerts on for staleness and cost; the only output with a clock in it, because it is asked for).
/// Written to a temporary file in the same directory and renamed, so the collector never reads half a file.
fn write_textfile(dir: &std::path::Path, d: &Diagnosis, took: std::time::Duration) -> Result<(), Failure> {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.as_secs_f64()).unwrap_or(0.0);
    let text = render::prometheus_run(d, now, took.as_secs_f64());
    let tmp = dir.join(format!(".nsdoctor.prom.{}", std::process::id()));
    let dest = dir.join("nsdoctor.prom");
    let write = || -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&tmp, text.as_bytes())?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))?;
        std::fs::rename(&tmp, &dest)
    };
    write().map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        Failure::WriteFile { path: dest, source }
    })
}

/// Where `fix --apply` keeps its script and undo manifest (`NSDOCTOR_STATE_DIR` overrides it).
fn state_dir() -> std::path::PathBuf {
    std::env::var_os("NSDOCTOR_STATE_DIR")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/var/lib/nsdoctor".into())
}

/// Root, and not through a set-uid bit: the fix changes the host.
fn require_root(what: &str) -> Result<(), Failure> {
    let (uid, euid) = (nix::unistd::getuid(), nix::unistd::geteuid());
    if uid != euid {
        return Err(Failure::Refused(format!("refusing {what} set-uid (uid {uid}, euid {euid})")));
    }
    if !euid.is_root() {
        return Err(Failure::Refused(format!("{what} needs root: run it with sudo")));
    }
    Ok(())
}

/// Runs the recorded script with `arg` (`""` applies, `--undo` undoes) and returns its exit status.
fn run_script(script: &std::path::Path, arg: &str) -> Result<Exit, Failure> {
    let exe =
        std::env::current_exe().map_err(|source| Failure::Spawn { what: "cannot find nsdoctor's own path", source })?;
    let mut cmd = std::process::Command::new("sh");
    cmd.arg(script);
    if !arg.is_empty() {
        cmd.arg(arg);
    }
    let status = cmd
        .env("NSDOCTOR", exe)
        .env("NSDOCTOR_STATE_DIR", state_dir())
        .status()
        .map_err(|source| Failure::Spawn { what: "cannot run sh", source })?;
    Ok(if status.success() { Exit::Ok } else { Exit::Blocked })
}

pub fn fix(a: &crate::FixArgs) -> Result<Exit, Failure> {
    use policy_core::fix::{self, NoPlan};
    let state = state_dir();
    let script_path = state.join("fix.sh");
    if a.undo {
        require_root("fix --undo")?;
        if !state.join("undo").join("manifest").exists() || !script_path.exists() {
            eprintln!("nsdoctor fix: nothing to undo");
            return Ok(Exit::Ok);
        }
        return run_script(&script_path, "--undo");
    }
    if a.apply {
        if !a.yes {
            return Err(Failure::Refused(
                "refusing to change this host without --yes (run without --apply to read the script first)".to_string(),
            ));
        }
        require_root("fix --apply")?;
    }
    // Under sudo the sandbox's user is the one who ran sudo: probe as them unless told otherwise (root is exempt
    // from most of what blocks a sandbox, so a probe as root would find nothing to fix).
    let mut probe = a.probe.clone();
    if probe.as_user.is_none() && probe.unit.is_none() && nix::unistd::geteuid().is_root() {
        probe.as_user = std::env::var("SUDO_UID").ok().filter(|u| !u.is_empty() && u != "0");
    }
    let report = match &a.report {
        Some(p) => input::parse_report(&read_input(p, MAX_REPORT_BYTES)?)
            .map_err(|source| Failure::Invalid { path: p.clone(), source })?,
        None => nsdoctor::probe(&probe.options(false))?,
    };
    // A saved report with --config: the fix for that sandbox config (a probe already applied it).
    let config = match (&a.report, &a.probe.config) {
        (Some(_), Some(p)) => Some(read_config(p)?),
        _ => None,
    };
    let d = policy_core::diagnose(&report, config.as_ref());
    let plan = match fix::plan(&report, &d, a.remediation.as_deref()) {
        Ok(p) => p,
        Err(NoPlan::NothingToFix) => {
            eprintln!("nsdoctor fix: {}", NoPlan::NothingToFix.message());
            return Ok(Exit::Ok);
        }
        Err(e) if a.apply => return Err(Failure::NoPlan(e.message())),
        Err(e) => {
            // Printed only: the artifacts and how to verify them, as comments; blocked, so exit 1.
            eprintln!("nsdoctor fix: {}", e.message());
            emit(&fix::manual_text(&d, &e))?;
            return Ok(Exit::Blocked);
        }
    };
    let script = fix::script(&plan);
    if !a.apply {
        let text = match a.format {
            crate::FixFormat::Script => script,
            crate::FixFormat::Json => fix::plan_json(&plan, &script),
        };
        emit(&text)?;
        return Ok(Exit::Ok);
    }
    std::fs::create_dir_all(&state).map_err(|source| Failure::CreateDir { path: state.clone(), source })?;
    std::fs::write(&script_path, &script).map_err(|source| Failure::WriteFile { path: script_path.clone(), source })?;
    run_script(&script_path, "")
}

/// `nsdoctor probe`: always the full ladder, so a report meant for upload carries every step's evidence.
pub fn probe(a: &ProbeCmdArgs) -> Result<Exit, Failure> {
    let report = nsdoctor::probe(&a.probe.options(true))?;
    let json = serde_json::to_string_pretty(&report).map_err(Failure::Encode)? + "\n";
    match &a.output {
        Some(path) => {
            std::fs::write(path, json).map_err(|source| Failure::WriteReport { path: path.clone(), source })?
        }
        None => emit(&json)?,
    }
    Ok(Exit::Ok)
}

/// How `summarize` names stdin in `FILE:LINE` error sources.
const STDIN_NAME: &str = "<stdin>";

/// What [`read_line_bounded`] found.
#[derive(Debug, PartialEq, Eq)]
enum LineRead {
    Eof,
    Line,
    /// The line was longer than the limit: consumed to its end, not kept.
    TooLong,
}

/// Reads one line (without its `\n`) into `buf`, keeping at most `limit` bytes: a longer line is read to its end
/// and dropped, so memory stays bounded whatever the input holds.
fn read_line_bounded(r: &mut dyn BufRead, buf: &mut Vec<u8>, limit: usize) -> std::io::Result<LineRead> {
    buf.clear();
    let mut any = false;
    let mut too_long = false;
    loop {
        let (used, done) = {
            let chunk = match r.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(match (any, too_long) {
                    (false, _) => LineRead::Eof,
                    (true, true) => LineRead::TooLong,
                    (true, false) => LineRead::Line,
                });
            }
            any = true;
            let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (chunk.get(..i).unwrap_or_default(), true),
                None => (chunk, false),
            };
            if !too_long {
                if buf.len().saturating_add(part.len()) > limit {
                    too_long = true;
                    buf.clear();
                } else {
                    buf.extend_from_slice(part);
                }
            }
            (part.len().saturating_add(usize::from(done)), done)
        };
        r.consume(used);
        if done {
            return Ok(if too_long { LineRead::TooLong } else { LineRead::Line });
        }
    }
}

/// Diagnoses one report's bytes into the summary, or counts the error under `source`.
fn summarize_one(bytes: &[u8], source: &str, config: Option<&policy_core::SandboxConfig>, summary: &mut Summary) {
    match input::parse_report(bytes) {
        Ok(report) => {
            let d = policy_core::diagnose(&report, config);
            summary.add(&report, &d);
        }
        Err(e) => summary.add_error(source, &e.message),
    }
}

/// One `summarize` input. The first non-blank line decides the format: a line that is a whole JSON object
/// (`{…}` on one line) starts NDJSON, read line by line; anything else (a pretty-printed report starts with a
/// lone `{`) is one JSON document, read whole up to the report size limit.
fn summarize_input(path: &str, config: Option<&policy_core::SandboxConfig>, summary: &mut Summary) {
    let name = if path == "-" { STDIN_NAME } else { path };
    let mut reader: Box<dyn BufRead> = if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(path) {
            Ok(f) => Box::new(std::io::BufReader::with_capacity(256 * 1024, f)),
            Err(e) => {
                summary.add_error(name, &format!("cannot open: {e}"));
                return;
            }
        }
    };
    let reader: &mut dyn BufRead = &mut reader;
    let mut buf = Vec::new();
    let mut line: u64 = 0;
    let mut ndjson = false;
    loop {
        let read = match read_line_bounded(reader, &mut buf, MAX_REPORT_BYTES) {
            Ok(r) => r,
            Err(e) => {
                summary.add_error(&format!("{name}:{}", line.saturating_add(1)), &format!("cannot read: {e}"));
                return;
            }
        };
        line = line.saturating_add(1);
        match read {
            LineRead::Eof => {
                if line == 1 {
                    summary.add_error(name, "input is empty");
                } else if !ndjson {
                    summary.add_error(name, "input holds only blank lines");
                }
                return;
            }
            LineRead::TooLong => {
                ndjson = true;
                summary.add_error(&format!("{name}:{line}"), &format!("line is longer than {MAX_REPORT_BYTES} bytes"));
            }
            LineRead::Line => {
                let mut text = buf.trim_ascii();
                if line == 1 {
                    text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
                }
                if text.is_empty() {
                    continue;
                }
                let one_line_object = text.starts_with(b"{") && text.ends_with(b"}");
                if !(ndjson || one_line_object) {
                    summarize_document(reader, &mut buf, name, config, summary);
                    return;
                }
                ndjson = true;
                summarize_one(text, &format!("{name}:{line}"), config, summary);
            }
        }
        if buf.capacity() > 1024 * 1024 {
            buf = Vec::new();
        }
    }
}

/// The rest of a one-document input: `head` holds its first non-blank line.
fn summarize_document(
    reader: &mut dyn BufRead,
    head: &mut Vec<u8>,
    name: &str,
    config: Option<&policy_core::SandboxConfig>,
    summary: &mut Summary,
) {
    head.push(b'\n');
    let cap = MAX_REPORT_BYTES.saturating_sub(head.len()).saturating_add(1) as u64;
    if let Err(e) = reader.take(cap).read_to_end(head) {
        summary.add_error(name, &format!("cannot read: {e}"));
        return;
    }
    if head.len() > MAX_REPORT_BYTES {
        summary.add_error(
            name,
            &format!("report is too large (more than {MAX_REPORT_BYTES} bytes; NDJSON needs one report per line)"),
        );
        return;
    }
    summarize_one(head, name, config, summary);
}

/// `nsdoctor summarize FILE… | -`: exit 2 when no input held a valid report (one line on stderr, nothing on
/// stdout), else the summary and exit 1 when any report is blocked, 0 otherwise. Invalid inputs are counted
/// and listed in the summary and noted in one stderr line; they do not change the exit code.
pub fn summarize(a: &SummarizeArgs) -> Result<Exit, Failure> {
    let config = a.config.as_deref().map(read_config).transpose()?;
    let mut summary = Summary::default();
    for path in &a.inputs {
        summarize_input(path, config.as_ref(), &mut summary);
    }
    let first_error =
        summary.error_samples().first().map(|e| format!("; first: {}: {}", e.source, e.message)).unwrap_or_default();
    if summary.reports() == 0 {
        return Err(Failure::NoValidReport {
            inputs: a.inputs.len(),
            errors: summary.input_errors(),
            first: first_error,
        });
    }
    let text = match a.format {
        SummaryFormat::Text => summary.text(),
        SummaryFormat::Json => summary.json(),
        SummaryFormat::Markdown => summary.markdown(),
        SummaryFormat::Prometheus => summary.prometheus(),
    };
    emit(&text)?;
    if summary.input_errors() > 0 {
        eprintln!(
            "nsdoctor: warning: {} invalid input{} skipped{}",
            summary.input_errors(),
            if summary.input_errors() == 1 { "" } else { "s" },
            crate::one_line(&first_error)
        );
    }
    Ok(if summary.verdicts().blocked > 0 { Exit::Blocked } else { Exit::Ok })
}
