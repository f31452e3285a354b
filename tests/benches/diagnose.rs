//! diagnose + JSON render per report, over every fixture (target: ≤ 20 µs per report on the 2-core CI machine).
//! Run: `cargo bench -p nsdoctor-tests --bench diagnose`; criterion prints time per iteration over all
//! fixtures and the throughput in reports per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nsdoctor_tests::{fixtures, load};

fn bench(c: &mut Criterion) {
    let reports: Vec<_> = fixtures().into_iter().filter_map(|(_, p)| load(&p).ok()).collect();
    let mut g = c.benchmark_group("diagnose+json");
    g.throughput(Throughput::Elements(reports.len() as u64));
    g.bench_function(format!("all {} fixtures", reports.len()), |b| {
        b.iter(|| {
            let mut bytes = 0;
            for r in &reports {
                bytes += policy_core::render::json(&policy_core::diagnose(std::hint::black_box(r), None)).len();
            }
            bytes
        })
    });
    g.finish();
    let text = "bwrap: setting up uid map: Permission denied\n".repeat(1 << 16);
    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("error text 2.9 MiB", |b| b.iter(|| policy_core::symptoms::classify(std::hint::black_box(&text)).len()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
