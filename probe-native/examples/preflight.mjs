#!/usr/bin/env node
// What a Node harness (an agent gateway) does at start-up with the nsdoctor CLI: check once within a time
// budget and refuse to start with an actionable message when the sandbox cannot work on this host.
//
//   node preflight.mjs [--budget-ms N] [--cache FILE]      (NSDOCTOR=/path/to/nsdoctor, default: on PATH)
//
// Exit 0: start. Exit 1: do not start and do not retry (the same host gives the same answer until its
// fingerprint changes). Exit 2: nsdoctor could not tell (missing, failed or out of time); the harness decides.
// It reads `nsdoctor check --format checks` (schema: `nsdoctor schema checks`) and `nsdoctor fingerprint`.

import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";

const args = process.argv.slice(2);
let budgetMs = 2000;
let cache = null;
for (let i = 0; i < args.length; i += 2) {
  const [flag, value] = [args[i], args[i + 1]];
  if (flag === "--budget-ms" && /^\d+$/.test(value ?? "")) budgetMs = Number(value);
  else if (flag === "--cache" && value) cache = value;
  else {
    console.error("usage: preflight.mjs [--budget-ms N] [--cache FILE]");
    process.exit(2);
  }
}
const nsdoctor = process.env.NSDOCTOR || "nsdoctor";

function run(argv) {
  const r = spawnSync(nsdoctor, argv, { encoding: "utf8", timeout: budgetMs, killSignal: "SIGKILL" });
  if (r.error) {
    const why = r.error.code === "ETIMEDOUT" ? `no answer within ${budgetMs} ms` : r.error.message;
    console.error(`preflight: could not check the sandbox: ${why}`);
    process.exit(2);
  }
  return r;
}

const fingerprint = run(["fingerprint"]).stdout.trim();
if (cache) {
  let cached = "";
  try {
    cached = readFileSync(cache, "utf8").trim();
  } catch {}
  if (cached === `ok ${fingerprint}`) {
    console.log(`preflight: sandbox ok (cached for ${fingerprint}); starting`);
    process.exit(0);
  }
}

// Exit status: 0 no blocking finding, 1 blocked, 2 nsdoctor could not run as asked.
const r = run(["check", "--format", "checks", "--timeout", String(Math.max(1, Math.ceil(budgetMs / 1000)))]);
if (r.status !== 0 && r.status !== 1) {
  console.error(`preflight: could not check the sandbox: ${r.stderr.trim() || `exit ${r.status}`}`);
  process.exit(2);
}
let checks;
try {
  checks = JSON.parse(r.stdout);
} catch (e) {
  console.error(`preflight: unreadable nsdoctor output: ${e.message}`);
  process.exit(2);
}
const failing = checks.filter((c) => c.status === "fail");
if (r.status === 0 && failing.length === 0) {
  console.log(`preflight: sandbox ${checks.some((c) => c.status === "warning") ? "degraded" : "ok"}; starting`);
  if (cache) writeFileSync(cache, `ok ${fingerprint}\n`);
  process.exit(0);
}
if (cache) rmSync(cache, { force: true });
const top = failing[0] ?? checks[0];
console.error(`preflight: the sandbox cannot start on this host: ${top.summary}`);
if (top.remediation) console.error(`  fix: ${top.remediation}`);
for (const line of top.details.filter((d) => /^fix a( file:| \$)/.test(d))) console.error(`    ${line.slice(6)}`);
const code = top.id.replace(/^nsdoctor\./, "");
if (code !== "namespaces") console.error(`  every fix and why: nsdoctor explain ${code}`);
console.error("  not retrying: this host gives the same answer until its kernel, sysctls, security policy or bwrap change");
process.exit(1);
