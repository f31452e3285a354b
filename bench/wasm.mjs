// bench/wasm.mjs: diagnose per report in node through the wasm package (policy-wasm/pkg, built by
// policy-wasm/build), the same `diagnose(text)` export the web console calls. Prints one JSON line:
// {"reports": N, "rounds": R, "per_report_us": median over rounds, "min_us": best round}.
// Usage: node bench/wasm.mjs [ROUNDS]
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PKG = process.env.NSD_WASM_PKG || path.join(ROOT, 'policy-wasm', 'pkg');
const FIXTURES = path.join(ROOT, 'tests', 'fixtures');

const pkg = await import(pathToFileURL(path.join(PKG, 'policy_wasm.js')).href);
pkg.initSync({ module: readFileSync(path.join(PKG, 'policy_wasm_bg.wasm')) });

const texts = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json') && f !== 'expected.json')
  .sort()
  .map((f) => readFileSync(path.join(FIXTURES, f), 'utf8'));

let sink = 0;
const pass = () => {
  for (const t of texts) {
    const out = pkg.diagnose(t);
    if (out.startsWith('{"error"')) throw new Error(`wasm diagnose refused a fixture: ${out.slice(0, 200)}`);
    sink += out.length;
  }
};
for (let i = 0; i < 30; i++) pass();

const rounds = Number(process.argv[2] || 60);
const perReport = [];
for (let r = 0; r < rounds; r++) {
  const t0 = process.hrtime.bigint();
  pass();
  const ns = Number(process.hrtime.bigint() - t0);
  perReport.push(ns / 1000 / texts.length);
}
perReport.sort((a, b) => a - b);
const median = perReport[Math.floor(perReport.length / 2)];
console.log(JSON.stringify({ reports: texts.length, rounds, per_report_us: median, min_us: perReport[0], sink }));
