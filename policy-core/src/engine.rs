use crate::config::SandboxConfig;
use crate::diagnosis::*;
use crate::report::ProbeReport;

pub(crate) fn diagnose(_r: &ProbeReport, cfg: &SandboxConfig) -> Diagnosis {
    Diagnosis { schema_version: DIAGNOSIS_SCHEMA_VERSION, verdict: Verdict::Ok, input: InputKind::Probe, headline: String::new(), config: cfg.clone(), findings: vec![], confirm: vec![], rendered: String::new() }
}
