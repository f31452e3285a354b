//! What a harness that starts sandboxes (an agent gateway, a CI runner) does at start-up with nsdoctor: check once,
//! within a time budget, and refuse to start with an actionable message when the sandbox cannot work here,
//! instead of starting, looking healthy and failing on every turn.
//!
//! ```text
//! cargo run --example preflight [-- --budget-ms N] [--cache FILE]
//! ```
//! Exit 0: start (the sandbox works, or works degraded). Exit 1: do not start, and do not retry: the same host
//! gives the same answer until something in the fingerprint changes. Exit 2: nsdoctor could not tell (the probe
//! failed or ran out of time); the harness decides.
//!
//! With `--cache FILE`, a healthy verdict is stored with the host's fingerprint, and the next start compares
//! fingerprints (well under a millisecond) instead of probing again.

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let mut budget = Duration::from_millis(2000);
    let mut cache = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next().map(|v| (v.parse::<u64>().ok(), v))) {
            ("--budget-ms", Some((Some(ms), _))) => budget = Duration::from_millis(ms),
            ("--cache", Some((_, v))) => cache = Some(std::path::PathBuf::from(v)),
            _ => {
                eprintln!("usage: preflight [--budget-ms N] [--cache FILE]");
                return ExitCode::from(2);
            }
        }
    }
    let mut opts = nsdoctor::CheckOptions::default();
    opts.timeout = budget;

    let fingerprint = nsdoctor::fingerprint(&opts);
    if let Some(path) = &cache {
        if std::fs::read_to_string(path).is_ok_and(|c| c.trim() == format!("ok {}", fingerprint.value)) {
            println!("preflight: sandbox ok (cached for {}); starting", fingerprint.value);
            return ExitCode::SUCCESS;
        }
    }

    // The probe forks its own children and kills them at `timeout`; the thread bounds the whole check.
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    let probe_opts = opts.clone();
    std::thread::spawn(move || {
        let _ = tx.send(nsdoctor::check(&probe_opts));
    });
    let diagnosis = match rx.recv_timeout(budget) {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            eprintln!("preflight: could not check the sandbox: {e}");
            return ExitCode::from(2);
        }
        Err(_) => {
            eprintln!("preflight: no answer from the sandbox check within {} ms", budget.as_millis());
            return ExitCode::from(2);
        }
    };
    let took = started.elapsed();

    if diagnosis.verdict != nsdoctor::Verdict::Blocked {
        println!("preflight: sandbox {} ({} ms); starting", diagnosis.verdict.as_str(), took.as_millis());
        if let Some(path) = &cache {
            if let Err(e) = std::fs::write(path, format!("ok {}\n", fingerprint.value)) {
                eprintln!("preflight: cannot write the cache {}: {e}", path.display());
            }
        }
        return ExitCode::SUCCESS;
    }
    if let Some(path) = &cache {
        let _ = std::fs::remove_file(path);
    }
    eprintln!("preflight: the sandbox cannot start on this host: {}", diagnosis.headline);
    if let Some(f) = diagnosis.findings.iter().find(|f| f.blocking) {
        if let Some(fix) = f.remediations.first() {
            eprintln!("  fix: {}", fix.title);
            for c in &fix.commands {
                eprintln!("    $ {c}");
            }
            for file in &fix.files {
                eprintln!("    file {}", file.path);
            }
        }
        eprintln!("  every fix and why: nsdoctor explain {}", f.code);
    }
    eprintln!(
        "  not retrying: this host gives the same answer until its kernel, sysctls, security policy or bwrap change"
    );
    ExitCode::from(1)
}
