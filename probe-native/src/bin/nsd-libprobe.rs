//! Test-only: prints the probe report `nsdoctor::probe` returns, as JSON on stdout, so the integration tests can
//! see what the library's fast path reports (`nsdoctor probe` always runs the full ladder). A user of the library
//! as any harness would be.
//!
//! ```text
//! nsd-libprobe [--full] [--no-bwrap] [--network none|bridge|host] [--as-user USER]
//! ```
//! Exit 0 with the report, 2 with `nsd-libprobe: …` on stderr when the probe could not run.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut opts = nsdoctor::CheckOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--full" => opts.full = true,
            "--no-bwrap" => opts.no_bwrap = true,
            "--network" => {
                opts.network = match args.next().as_deref() {
                    Some("none") => Some(nsdoctor::NetworkMode::None),
                    Some("bridge") => Some(nsdoctor::NetworkMode::Bridge),
                    Some("host") => Some(nsdoctor::NetworkMode::Host),
                    other => return usage(&format!("--network {other:?}")),
                }
            }
            "--as-user" => opts.as_user = args.next(),
            other => return usage(other),
        }
    }
    match nsdoctor::probe(&opts).map(|r| serde_json::to_string_pretty(&r)) {
        Ok(Ok(json)) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => fail(&e.to_string()),
        Err(e) => fail(&e.to_string()),
    }
}

fn usage(what: &str) -> ExitCode {
    fail(&format!("unknown argument {what}; usage: nsd-libprobe [--full] [--no-bwrap] [--network MODE] [--as-user U]"))
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("nsd-libprobe: {msg}");
    ExitCode::from(2)
}
