//! Probe options and the entry point that gathers a `ProbeReport` on this host.

use policy_core::ProbeReport;

/// Options shared by `check` and `probe`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ProbeArgs {
    /// Sandbox config JSON (overrides discovered config).
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
}

/// Probes this host.
pub fn run_probe(_args: &ProbeArgs) -> Result<ProbeReport, String> {
    Err("probing is not implemented yet".to_string())
}
