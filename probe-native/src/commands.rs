//! The subcommands. All reading of files and stdin happens here; `policy-core` gets bytes and values.

use std::io::{IsTerminal, Read, Write};

use policy_core::input::{self, MAX_ERROR_TEXT_BYTES, MAX_REPORT_BYTES};
use policy_core::{Diagnosis, render, rules};

use crate::{CheckArgs, ColorChoice, DiagnoseArgs, ExplainArgs, ExplainFormat, Format, OutputArgs, ProbeCmdArgs, RulesArgs, SchemaArgs};

/// Reads a file or `-` (stdin), refusing more than `limit` bytes without reading them all.
pub fn read_input(path: &str, limit: usize) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let cap = (limit as u64).saturating_add(1);
    let res = if path == "-" {
        std::io::stdin().lock().take(cap).read_to_end(&mut buf)
    } else {
        let f = std::fs::File::open(path).map_err(|e| format!("cannot open `{path}`: {e}"))?;
        f.take(cap).read_to_end(&mut buf)
    };
    res.map_err(|e| format!("cannot read `{path}`: {e}"))?;
    if buf.len() > limit {
        return Err(format!("`{path}` is too large (more than {limit} bytes)"));
    }
    Ok(buf)
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

fn emit(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write output: {e}")),
    }
}

/// Renders a diagnosis and returns the exit code (1 when blocked).
pub fn print_diagnosis(d: &Diagnosis, out: &OutputArgs) -> Result<u8, String> {
    let text = match out.format {
        Format::Text => render::text(d, use_color(out.color)),
        Format::Markdown => render::markdown(d),
        Format::Json => render::json(d),
    };
    emit(&text)?;
    Ok(if d.verdict == policy_core::Verdict::Blocked { 1 } else { 0 })
}

pub fn diagnose(a: &DiagnoseArgs) -> Result<u8, String> {
    let config = match &a.config {
        Some(p) => Some(input::parse_config(&read_input(p, MAX_REPORT_BYTES)?).map_err(|e| format!("{p}: {e}"))?),
        None => None,
    };
    let report = if let Some(p) = &a.error_text {
        let text = input::parse_error_text(&read_input(p, MAX_ERROR_TEXT_BYTES)?).map_err(|e| format!("{p}: {e}"))?;
        input::report_from_error_text(&text, &a.facts).map_err(|e| e.message)?
    } else {
        let p = a.report.as_deref().unwrap_or("-");
        input::parse_report(&read_input(p, MAX_REPORT_BYTES)?).map_err(|e| format!("{p}: {e}"))?
    };
    let d = policy_core::diagnose(&report, config.as_ref());
    print_diagnosis(&d, &a.out)
}

pub fn explain(a: &ExplainArgs) -> Result<u8, String> {
    let Some(rule) = rules::find(&a.code) else {
        let codes: Vec<&str> = rules::RULES.iter().map(|r| r.code).collect();
        return Err(format!("unknown rule `{}`; known codes: {}", a.code, codes.join(", ")));
    };
    let text = match a.format {
        ExplainFormat::Text => render::explain_text(rule),
        ExplainFormat::Json => render::explain_json(rule),
    };
    emit(&text)?;
    Ok(0)
}

pub fn rules(a: &RulesArgs) -> Result<u8, String> {
    let text = match a.format {
        ExplainFormat::Text => render::rules_text(),
        ExplainFormat::Json => render::rules_json(),
    };
    emit(&text)?;
    Ok(0)
}

pub fn schema(a: &SchemaArgs) -> Result<u8, String> {
    let Some(s) = policy_core::schema::schema(&a.name) else {
        return Err(format!("unknown schema `{}`; known: {}", a.name, policy_core::schema::NAMES.join(", ")));
    };
    emit(&s)?;
    Ok(0)
}

pub fn check(a: &CheckArgs) -> Result<u8, String> {
    let report = crate::probe_cli::run_probe(&a.probe)?;
    let d = policy_core::diagnose(&report, None);
    print_diagnosis(&d, &a.out)
}

pub fn probe(a: &ProbeCmdArgs) -> Result<u8, String> {
    let report = crate::probe_cli::run_probe(&a.probe)?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| format!("cannot encode report: {e}"))? + "\n";
    match &a.output {
        Some(path) => std::fs::write(path, json).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?,
        None => emit(&json)?,
    }
    Ok(0)
}
