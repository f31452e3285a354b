//! How the `nsdoctor` command ends: its exit code, and the errors it prints as one line `nsdoctor: …` on stderr
//! before exiting with [`Exit::Usage`].

use std::fmt;
use std::path::PathBuf;

/// The exit code: 0 nothing blocks, 1 a blocking finding (or a step that did not succeed), 2 a usage or input
/// error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: no blocking finding.
    Ok = 0,
    /// 1: a blocking finding.
    Blocked = 1,
    /// 2: a usage or input error (clap's usage errors too).
    Usage = 2,
}

impl Exit {
    /// 1 when the diagnosis is blocked, else 0.
    pub fn of(d: &nsdoctor::Diagnosis) -> Exit {
        if d.verdict == nsdoctor::Verdict::Blocked { Exit::Blocked } else { Exit::Ok }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

impl From<Exit> for u8 {
    fn from(e: Exit) -> Self {
        e as u8
    }
}

/// Why a subcommand stopped; printed as one line, exit 2.
#[derive(Debug)]
pub enum Failure {
    /// The probe could not run.
    Probe(nsdoctor::Error),
    /// An input file could not be opened.
    Open { path: String, source: std::io::Error },
    /// An input could not be read.
    Read { path: String, source: std::io::Error },
    /// An input is over its size limit.
    TooLarge { path: String, limit: usize },
    /// An input is not a valid report, config or error text.
    Invalid { path: String, source: policy_core::input::InputError },
    /// stdout could not be written.
    Output(std::io::Error),
    /// `probe --output` could not be written.
    WriteReport { path: PathBuf, source: std::io::Error },
    /// A file nsdoctor keeps (`--textfile`, the fix script) could not be written.
    WriteFile { path: PathBuf, source: std::io::Error },
    /// A directory nsdoctor keeps could not be created.
    CreateDir { path: PathBuf, source: std::io::Error },
    /// The report could not be encoded.
    Encode(serde_json::Error),
    /// `fix --apply` or `--undo` refused to run.
    Refused(String),
    /// `fix --apply` found no plan to apply.
    NoPlan(String),
    /// A program `fix` runs could not start.
    Spawn { what: &'static str, source: std::io::Error },
    /// `summarize` found no valid report.
    NoValidReport { inputs: usize, errors: u64, first: String },
    /// The policy core refused a call: an invalid report, config or error text (with the file it came from), an
    /// unknown rule or schema.
    Api { path: Option<String>, message: String },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        match self {
            Failure::Probe(e) => write!(f, "{e}"),
            Failure::Open { path, source } => write!(f, "cannot open `{path}`: {source}"),
            Failure::Read { path, source } => write!(f, "cannot read `{path}`: {source}"),
            Failure::TooLarge { path, limit } => write!(f, "`{path}` is too large (more than {limit} bytes)"),
            Failure::Invalid { path, source } => write!(f, "{path}: {source}"),
            Failure::Output(e) => write!(f, "cannot write output: {e}"),
            Failure::WriteReport { path, source } => write!(f, "cannot write `{}`: {source}", path.display()),
            Failure::WriteFile { path, source } => write!(f, "cannot write {}: {source}", path.display()),
            Failure::CreateDir { path, source } => write!(f, "cannot create {}: {source}", path.display()),
            Failure::Encode(e) => write!(f, "cannot encode report: {e}"),
            Failure::Refused(m) | Failure::NoPlan(m) | Failure::Api { path: None, message: m } => f.write_str(m),
            Failure::Api { path: Some(p), message } => write!(f, "{p}: {message}"),
            Failure::Spawn { what, source } => write!(f, "{what}: {source}"),
            Failure::NoValidReport { inputs, errors, first } => write!(
                f,
                "no valid report in {inputs} input{} ({errors} input error{}{first})",
                plural(*inputs as u64),
                plural(*errors)
            ),
        }
    }
}

impl std::error::Error for Failure {}

impl From<nsdoctor::Error> for Failure {
    fn from(e: nsdoctor::Error) -> Self {
        Failure::Probe(e)
    }
}
