//! `nsdoctor`: probe this host (`check`, `probe`) or diagnose a saved report or error text (`diagnose`),
//! summarize many saved reports (`summarize`), and explain the rules (`explain`, `rules`, `schema`).
//! Exit: 0 no blocking finding, 1 blocking finding, 2 usage or input error (`summarize`: 2 only when no input
//! was a valid report, else 1 when any report is blocked).

mod commands;
mod exit;
mod probe_cli;

use std::process::ExitCode;

use exit::Exit;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "nsdoctor",
    version,
    about = "Why can't this host's sandbox create user and network namespaces, and what to change"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand: `nsdoctor check`.
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Probe this host, diagnose and print the result (the default).
    Check(CheckArgs),
    /// Probe this host and write the probe report JSON (the file the web console reads).
    Probe(ProbeCmdArgs),
    /// Diagnose a saved probe report, or an error text with `--error-text`.
    Diagnose(DiagnoseArgs),
    /// Count many saved probe reports (JSON files or NDJSON streams) by verdict, cause, distro and bwrap origin.
    Summarize(SummarizeArgs),
    /// Print a rule's documentation.
    Explain(ExplainArgs),
    /// List every rule.
    Rules(RulesArgs),
    /// Print a JSON Schema: probe-report, sandbox-config, diagnosis or checks (`--format checks`).
    Schema(SchemaArgs),
    /// Print the guarded, verified, reversible fix for the top blocking finding as a POSIX script; with
    /// `--apply --yes` run it (root), with `--undo` restore what it changed.
    Fix(FixArgs),
    /// Print this host's fingerprint: what decides the verdict (kernel and boot, sysctls, AppArmor and SELinux
    /// policy, this process's restrictions, bwrap, the config files), hashed without probing. A harness keeps a
    /// verdict with it and checks again only when it changes.
    Fingerprint(FingerprintArgs),
}

#[derive(clap::Args, Debug)]
pub struct FingerprintArgs {
    #[command(flatten)]
    pub probe: probe_cli::ProbeArgs,
    /// `text`: the fingerprint alone; `json`: `{"fingerprint", "inputs": {key: value}}`, every input that went in.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
}

#[derive(clap::Args, Debug)]
pub struct FixArgs {
    #[command(flatten)]
    pub probe: probe_cli::ProbeArgs,
    /// Take the facts from a saved probe report instead of probing this host (printing only).
    #[arg(long, value_name = "REPORT.json", conflicts_with_all = ["apply", "undo"])]
    pub report: Option<String>,
    /// The remediation to use (its id, as `nsdoctor check --format json` lists them); default: the top blocking
    /// finding's least privileged one that nsdoctor can apply here.
    #[arg(long, value_name = "ID")]
    pub remediation: Option<String>,
    /// `script` (default): the POSIX script; `json`: the plan with the script.
    #[arg(long, value_enum, default_value_t = FixFormat::Script)]
    pub format: FixFormat,
    /// Apply the fix on this host: root only, and only with --yes.
    #[arg(long, conflicts_with = "undo")]
    pub apply: bool,
    /// Confirm --apply.
    #[arg(long)]
    pub yes: bool,
    /// Restore the state the last applied fix recorded (files, sysctl values, AppArmor profiles).
    #[arg(long)]
    pub undo: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FixFormat {
    #[default]
    Script,
    Json,
}

#[derive(clap::Args, Debug, Default)]
pub struct CheckArgs {
    #[command(flatten)]
    pub probe: probe_cli::ProbeArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Also write the Prometheus metrics, with this run's timestamp and duration, to DIR/nsdoctor.prom
    /// atomically (node_exporter's textfile collector directory).
    #[arg(long, value_name = "DIR")]
    pub textfile: Option<std::path::PathBuf>,
    /// Run the full ladder even when the sandbox's namespaces come up at the first try (every step alone, as
    /// `nsdoctor probe` does); by default a healthy host is checked with the sandbox's own setup only.
    #[arg(long)]
    pub full: bool,
}

#[derive(clap::Args, Debug)]
pub struct ProbeCmdArgs {
    #[command(flatten)]
    pub probe: probe_cli::ProbeArgs,
    /// Write the report here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(clap::Args, Debug, Default)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Colour for text output: auto = a terminal, NO_COLOR unset, TERM not dumb.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Text,
    Json,
    Markdown,
    /// A JSON array of doctor checks `{id, category, status, summary, details, remediation}` (the check shape of
    /// `codex doctor --json`), one per finding, or one `ok` check when there is none.
    Checks,
    /// Prometheus text exposition for node_exporter's textfile collector.
    Prometheus,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(clap::Args, Debug)]
pub struct DiagnoseArgs {
    /// Probe report JSON, or `-` for stdin.
    #[arg(value_name = "REPORT.json|-", conflicts_with = "error_text")]
    pub report: Option<String>,
    /// Sandbox config JSON overriding the one in the report.
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
    /// Diagnose an error text (file or `-` for stdin) instead of a report.
    #[arg(long, value_name = "FILE|-")]
    pub error_text: Option<String>,
    /// Facts about the host that printed the error text, `KEY=VALUE` (repeatable).
    #[arg(long = "fact", value_name = "KEY=VALUE", requires = "error_text")]
    pub facts: Vec<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(clap::Args, Debug)]
pub struct SummarizeArgs {
    /// Probe reports: a JSON report per file, or NDJSON (one report per line); `-` reads stdin.
    #[arg(value_name = "FILE|-", required = true)]
    pub inputs: Vec<String>,
    /// Sandbox config JSON to judge every report against, instead of each report's own.
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryFormat {
    Text,
    Json,
    Markdown,
    /// Prometheus text exposition (fleet gauges).
    Prometheus,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// Rule code (NSD101) or name (apparmor-userns-transition).
    pub code: String,
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExplainFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
}

#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    /// probe-report, sandbox-config, diagnosis or checks.
    pub name: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { Exit::Usage } else { Exit::Ok };
            let _ = e.print();
            return code.into();
        }
    };
    let result = match cli.command {
        None => commands::check(&cli.check),
        Some(Command::Check(a)) => commands::check(&a),
        Some(Command::Probe(a)) => commands::probe(&a),
        Some(Command::Diagnose(a)) => commands::diagnose(&a),
        Some(Command::Summarize(a)) => commands::summarize(&a),
        Some(Command::Explain(a)) => commands::explain(&a),
        Some(Command::Rules(a)) => commands::rules(&a),
        Some(Command::Schema(a)) => commands::schema(&a),
        Some(Command::Fix(a)) => commands::fix(&a),
        Some(Command::Fingerprint(a)) => commands::fingerprint(&a),
    };
    match result {
        Ok(code) => code.into(),
        Err(failure) => {
            eprintln!("nsdoctor: {}", one_line(&failure.to_string()));
            Exit::Usage.into()
        }
    }
}

/// Error messages stay on one line whatever the input held.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}
