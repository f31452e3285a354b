//! The policy engine's speed, over every fixture (target: diagnose + render ≤ 20 µs per report on the 2-core CI
//! machine) and the error-text classifier's throughput (a 4 MiB text in ≤ 100 ms).
//! Run: `cargo bench -p nsdoctor-tests --bench diagnose`; criterion prints time per iteration over all
//! fixtures and the throughput in reports per second. `bench/run` runs it with `--output-format bencher` and
//! divides by the fixture count printed in each bench's name.
//!
//! * `diagnose+json`: diagnose a parsed report and render the diagnosis as JSON (the core figure).
//! * `diagnose+text`: the same with the terminal renderer (what `nsdoctor check` prints, no colour).
//! * `json-in-json-out`: report JSON text → diagnosis JSON, validation included: exactly what the wasm
//!   `diagnose(text)` export runs, so `bench/run` can compare wasm-in-node with native.
//! * `classify`: a pasted log of 3 MiB read and diagnosed (`nsdoctor diagnose --error-text`): two in five lines
//!   namespace failures, every line distinct.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nsdoctor_tests::{fixtures, load};

fn bench(c: &mut Criterion) {
    let files = fixtures();
    let reports: Vec<_> = files.iter().filter_map(|(_, p)| load(p).ok()).collect();
    let texts: Vec<String> = files.iter().filter_map(|(_, p)| std::fs::read_to_string(p).ok()).collect();
    let n = reports.len();

    let mut g = c.benchmark_group("diagnose+json");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("all {n} fixtures"), |b| {
        b.iter(|| {
            let mut bytes = 0;
            for r in &reports {
                bytes += policy_core::render::json(&policy_core::diagnose(std::hint::black_box(r), None)).len();
            }
            bytes
        })
    });
    g.finish();

    let mut g = c.benchmark_group("diagnose+text");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("all {n} fixtures"), |b| {
        b.iter(|| {
            let mut bytes = 0;
            for r in &reports {
                bytes += policy_core::render::text(&policy_core::diagnose(std::hint::black_box(r), None), false).len();
            }
            bytes
        })
    });
    g.finish();

    let mut g = c.benchmark_group("json-in-json-out");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function(format!("all {} fixtures", texts.len()), |b| {
        b.iter(|| {
            let mut bytes = 0;
            for t in &texts {
                bytes += policy_core::diagnose_json(std::hint::black_box(t).as_bytes(), None).len();
            }
            bytes
        })
    });
    g.finish();

    // A long log as users paste it: two in five lines are namespace failures, the rest ordinary log lines, and
    // every line differs from every other in its letters (so none is skipped as a repeat).
    let shapes = [
        "bwrap: setting up uid map: Permission denied",
        "2024-05-01T10:00:00Z INFO worker started namespace=default",
        "some unrelated log line with nothing special in it at all",
        "Failed to move to new namespace: PID namespaces supported, Network namespace supported, but failed: errno = Operation not permitted",
        "2024-05-01T10:00:01Z DEBUG fetched 12 objects from the cache in 3 ms",
    ];
    let mut text = String::new();
    let mut i = 0usize;
    while text.len() < 3 << 20 {
        let tag: String = (0..4).map(|k| char::from(b'a' + ((i / 26usize.pow(k)) % 26) as u8)).collect();
        text.push_str(&format!("{} ({tag})\n", shapes[i % shapes.len()]));
        i += 1;
    }
    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function(format!("error text {} bytes", text.len()), |b| {
        b.iter(|| {
            let r = policy_core::input::report_from_error_text(std::hint::black_box(&text), &[]).unwrap();
            policy_core::diagnose(&r, None).findings.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
