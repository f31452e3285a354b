//! Hostile-input limits in the core functions the web console's wasm calls (`diagnose_json`,
//! `fix_script_json`, `render_json_str`, `diagnose_error_text_json`): size and nesting depth are refused
//! *before* any JSON parsing, with one-line errors that name the limit; and the classifier stays linear on 4 MiB
//! error texts of every shape (one long line, many short lines, many matching lines, near misses).
//!
//! The CLI side (`nsdoctor diagnose` reading files and stdin) is `probe-native/tests/limits.rs`.

use std::time::{Duration, Instant};

use policy_core::input::{MAX_DEPTH, MAX_ERROR_TEXT_BYTES, MAX_REPORT_BYTES};
use policy_core::{diagnose_error_text_json, diagnose_json, render_json_str, symptoms};

/// The `{"error": {"kind": "input", "message": …}}` message, or a panic naming what came back instead.
fn input_error(out: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out:.200}"));
    assert_eq!(v["error"]["kind"], "input", "expected an input error, got {out:.300}");
    let m = v["error"]["message"].as_str().unwrap().to_string();
    assert!(!m.contains(['\n', '\r']), "error must be one line: {m:?}");
    m
}

fn assert_ok(out: &str) {
    let v: serde_json::Value = serde_json::from_str(out).unwrap();
    assert!(v.get("error").is_none(), "unexpected error: {out:.300}");
    assert!(v["verdict"].is_string());
}

/// A report of exactly `len` bytes: valid, with a long `source` string.
fn report_of_len(len: usize) -> String {
    let head = r#"{"schema_version":1,"source":""#;
    let tail = r#""}"#;
    let mut s = String::with_capacity(len);
    s.push_str(head);
    s.push_str(&"a".repeat(len - head.len() - tail.len()));
    s.push_str(tail);
    assert_eq!(s.len(), len);
    s
}

/// `{"schema_version":1,"source":` + `levels - 1` arrays: `levels` deep in all, then `tail`.
fn nested_report(levels: usize, tail: &str) -> String {
    format!(r#"{{"schema_version":1,"source":{}{tail}"#, "[".repeat(levels - 1))
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

#[test]
fn report_size_limit_is_exact_and_checked_before_parsing() {
    let _alone = alone();
    assert_eq!(MAX_REPORT_BYTES, 8 * 1024 * 1024);
    assert_ok(&diagnose_json(report_of_len(MAX_REPORT_BYTES).as_bytes(), None));
    let m = input_error(&diagnose_json(report_of_len(MAX_REPORT_BYTES + 1).as_bytes(), None));
    assert_eq!(m, format!("report is too large: {} bytes (limit {MAX_REPORT_BYTES} bytes)", MAX_REPORT_BYTES + 1));

    // Garbage, NUL bytes and invalid UTF-8 past the limit: the size is reported, so nothing was scanned first.
    let garbage = "\u{1}".repeat(MAX_REPORT_BYTES + 1);
    let (out, took) = timed(|| diagnose_json(garbage.as_bytes(), None));
    assert!(input_error(&out).starts_with("report is too large"), "{out}");
    assert!(took < Duration::from_millis(50), "oversize refusal took {took:?}");
    let mut bytes = vec![0xff_u8; MAX_REPORT_BYTES + 1];
    bytes[0] = 0;
    assert!(input_error(&diagnose_json(&bytes, None)).starts_with("report is too large"));
}

#[test]
fn nesting_depth_is_checked_by_a_scan_before_parsing() {
    let _alone = alone();
    assert_eq!(MAX_DEPTH, 32);
    // 32 levels pass the scan and reach the schema (which wants a string there); 33 do not.
    let m = input_error(&diagnose_json((nested_report(MAX_DEPTH, &"]".repeat(MAX_DEPTH - 1)) + "}").as_bytes(), None));
    assert!(m.starts_with("report does not match the probe-report schema"), "{m}");
    let m = input_error(&diagnose_json((nested_report(MAX_DEPTH + 1, &"]".repeat(MAX_DEPTH)) + "}").as_bytes(), None));
    assert_eq!(m, "report is nested deeper than 32 levels");

    // Too deep *and* invalid JSON after the 33rd level: the depth is what is reported, so the parser never ran.
    let m = input_error(&diagnose_json(nested_report(MAX_DEPTH + 1, "@@ not json").as_bytes(), None));
    assert_eq!(m, "report is nested deeper than 32 levels");

    // A document that is all brackets, as large as allowed: the scan stops at level 33.
    let (out, took) = timed(|| diagnose_json(nested_report(MAX_REPORT_BYTES - 40, "").as_bytes(), None));
    assert_eq!(input_error(&out), "report is nested deeper than 32 levels");
    assert!(took < Duration::from_millis(50), "deep refusal took {took:?}");

    // Brackets inside strings (escaped quotes too) are not nesting.
    let inside = format!(r#"{{"schema_version":1,"source":"\"{}"}}"#, "[{".repeat(1000));
    assert_ok(&diagnose_json(inside.as_bytes(), None));
}

#[test]
fn config_limits_in_the_wasm_adapter() {
    let _alone = alone();
    let report = r#"{"schema_version":1}"#;
    let big = format!(r#"{{"tool":"{}"}}"#, "a".repeat(MAX_REPORT_BYTES));
    let m = input_error(&diagnose_json(report.as_bytes(), Some(&big)));
    assert!(m.starts_with("config is too large") && m.contains(&format!("limit {MAX_REPORT_BYTES} bytes")), "{m}");
    let deep = format!(r#"{{"tool":{}"#, "[".repeat(MAX_DEPTH));
    assert_eq!(input_error(&diagnose_json(report.as_bytes(), Some(&deep))), "config is nested deeper than 32 levels");
    assert_eq!(input_error(&diagnose_json(report.as_bytes(), Some(&deep))), "config is nested deeper than 32 levels");
    assert_ok(&diagnose_json(report.as_bytes(), Some(r#"{"network":"host"}"#)));
}

#[test]
fn render_json_str_refuses_oversize_and_deep_diagnoses_before_parsing() {
    let _alone = alone();
    let good = diagnose_json(r#"{"schema_version":1}"#.as_bytes(), None);
    for f in ["text", "markdown", "html", "json"] {
        let out = render_json_str(&good, f);
        assert!(!out.starts_with(r#"{"error""#), "{f}: {out:.200}");
    }
    let (out, took) = timed(|| render_json_str(&" ".repeat(MAX_REPORT_BYTES + 1), "text"));
    assert_eq!(input_error(&out), "diagnosis is too large");
    assert!(took < Duration::from_millis(50), "{took:?}");
    let deep = format!(r#"{{"schema_version":1,"findings":{}@@"#, "[".repeat(MAX_DEPTH));
    assert_eq!(input_error(&render_json_str(&deep, "html")), "diagnosis is nested deeper than 32 levels");
    let m = input_error(&render_json_str("{\"schema_version\": 1", "text"));
    assert!(m.starts_with("diagnosis is not valid"), "{m}");
}

#[test]
fn error_text_and_facts_limits_in_the_wasm_adapter() {
    let _alone = alone();
    assert_eq!(MAX_ERROR_TEXT_BYTES, 8 * 1024 * 1024);
    let mut text = "bwrap: setting up uid map: Permission denied\n".repeat(MAX_ERROR_TEXT_BYTES / 45 + 1);
    text.truncate(MAX_ERROR_TEXT_BYTES);
    assert_ok(&diagnose_error_text_json(&text, None));
    text.push('x');
    let (out, took) = timed(|| diagnose_error_text_json(&text, None));
    assert_eq!(
        input_error(&out),
        format!("error text is too large: {} bytes (limit {MAX_ERROR_TEXT_BYTES} bytes)", MAX_ERROR_TEXT_BYTES + 1)
    );
    assert!(took < Duration::from_millis(50), "{took:?}");

    let line = "bwrap: No permissions to create a new namespace";
    let big_facts = format!(r#"{{"tool":"{}"}}"#, "a".repeat(64 * 1024));
    assert!(input_error(&diagnose_error_text_json(line, Some(&big_facts))).starts_with("facts is too large"));
    let deep_facts = format!(r#"{{"tool":{}"#, "[".repeat(MAX_DEPTH));
    assert_eq!(
        input_error(&diagnose_error_text_json(line, Some(&deep_facts))),
        "facts is nested deeper than 32 levels"
    );
    assert_ok(&diagnose_error_text_json(line, Some(r#"{"distro":"ubuntu","distro-version":"24.04"}"#)));
}

fn fill(unit: &str, n: usize) -> String {
    let mut s = String::with_capacity(n + unit.len());
    while s.len() < n {
        s.push_str(unit);
    }
    s
}

/// 4 MiB (or `n` bytes) error texts that stress different paths of the classifier.
fn shapes(n: usize) -> Vec<(&'static str, String)> {
    let words = "abcdefghij klmnopqrst uvwxyz 0123456789 ";
    vec![
        ("one long line, no needle", fill(words, n)),
        ("one long line, a needle first", format!("bwrap: {}", fill(words, n))),
        (
            "one long line, every needle",
            fill(
                "bwrap: Creating new namespace failed setting up uid map apparmor= DENIED avc: denied unshare( clone( max_user_namespaces (E ",
                n,
            ),
        ),
        ("many short lines", fill("x\n", n)),
        ("many short lines, one needle", format!("bwrap: x\n{}", fill("x\n", n))),
        ("many matching lines", fill("bwrap: setting up uid map: Permission denied\n", n)),
        ("many matching lines, varied", {
            let mut s = String::with_capacity(n + 200);
            let mut i = 0_u64;
            while s.len() < n {
                s.push_str(&format!("bwrap: Creating new namespace failed: Operation not permitted {i}\naudit: apparmor=\"DENIED\" operation=\"userns_create\" pid={i}\n"));
                i += 1;
            }
            s
        }),
        (
            "near misses, short lines",
            fill(
                "bwrap: Creating new namespace faile No permissions to crea setting up uid ma (EPERX unshare fail apparmor DENIE avc denie\n",
                n,
            ),
        ),
        (
            "near misses, one long line",
            fill(
                "bwrap: Creating new namespace faile No permissions to crea setting up uid ma (EPERX unshare fail apparmor DENIE avc denie ",
                n,
            ),
        ),
        ("an endless (E token", format!("bwrap: ({}", fill("E", n))),
        ("errno-like tokens", fill("bwrap: x (EFOO) (EBAR) Operation not permitte ", n)),
        ("CRLF and lone CR lines", fill("bwrap: setting up gid map: Operation not permitted\r\n\r", n)),
    ]
}

/// CPU time of this thread (`/proc/thread-self/schedstat`, nanoseconds), so that a figure is the classifier's
/// work and not the wait for a core on a busy machine. None where the file is missing or reads zero.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    (ns > 0).then(|| Duration::from_nanos(ns))
}

/// Best of `runs` of `f`: (CPU time where the kernel reports it, else wall time; wall time).
fn best(runs: usize, f: impl Fn()) -> (Duration, Duration) {
    let mut cpu = Duration::MAX;
    let mut wall = Duration::MAX;
    for _ in 0..runs {
        let c0 = thread_cpu();
        let w0 = Instant::now();
        f();
        let w = w0.elapsed();
        wall = wall.min(w);
        cpu = cpu.min(match (c0, thread_cpu()) {
            (Some(a), Some(b)) if b >= a => b - a,
            _ => w,
        });
    }
    (cpu, wall)
}

/// The other tests here allocate and scan 8 MiB inputs: the timing test runs alone.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ALONE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The issue's budget is 100 ms for a 4 MiB text in release; policy-core is built at opt-level 3 even in the dev
/// profile, so these figures are release figures. The asserted bound is generous (shared CI cores); the scaling
/// check is what catches quadratic behaviour: one 4 MiB text must cost about what four 1 MiB texts cost.
#[test]
fn classifier_is_linear_on_4_mib_texts_of_every_shape() {
    const MIB: usize = 1024 * 1024;
    let _alone = alone();
    let big = shapes(4 * MIB);
    let small = shapes(MIB);
    let mut report = Vec::new();
    let mut worst = Duration::ZERO;
    for ((name, text), (_, quarter)) in big.iter().zip(&small) {
        assert!(text.len() >= 4 * MIB);
        let (t4, w4) = best(3, || {
            std::hint::black_box(symptoms::classify(std::hint::black_box(text)));
        });
        let (t1x4, _) = best(3, || {
            for _ in 0..4 {
                std::hint::black_box(symptoms::classify(std::hint::black_box(quarter)));
            }
        });
        let (out, pipeline) = timed(|| diagnose_error_text_json(text, None));
        assert!(out.contains("\"verdict\""), "{name}: {out:.200}");
        let ratio = t4.as_secs_f64() / t1x4.as_secs_f64().max(1e-4);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        report.push(format!("{name:30} 4 MiB {:>6.1} ms cpu ({:>6.1} ms wall); 4 × 1 MiB {:>6.1} ms (ratio {ratio:.2}); text → diagnosis JSON {:>6.1} ms wall", ms(t4), ms(w4), ms(t1x4), ms(pipeline)));
        worst = worst.max(t4);
        assert!(t4 < Duration::from_millis(400), "{name}: {t4:?} for 4 MiB (budget 100 ms in release)");
        assert!(pipeline < Duration::from_secs(3), "{name}: whole wasm path took {pipeline:?}");
        // Linear: one 4 MiB text costs what four 1 MiB texts cost. Quadratic would be 4×.
        assert!(
            ratio < 2.0 || t4 < Duration::from_millis(20),
            "{name}: 4 MiB took {ratio:.2}× four 1 MiB texts ({t4:?} vs {t1x4:?})"
        );
    }
    println!(
        "classifier on 4 MiB error texts (best of 3; cpu = this thread's CPU time):\n  {}\n  worst: {:.1} ms cpu",
        report.join("\n  "),
        worst.as_secs_f64() * 1e3
    );
}
