// Shared by the node and browser tests: paths, the fixture list, the nsdoctor CLI (the reference output)
// and loading the built package (pkg/, the same files the console uses).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const TESTS = path.dirname(fileURLToPath(import.meta.url));
export const PW = path.resolve(TESTS, '..');
export const ROOT = path.resolve(PW, '..');
export const PKG = path.join(PW, 'pkg');
export const FIXTURES_DIR = process.env.NSD_FIXTURES_DIR || path.join(ROOT, 'tests', 'fixtures');
export const OUT_DIR = process.env.NSD_TEST_OUTPUT || path.join(PW, 'test-output');

/** KB = 1000 bytes, as in the size figures of the tooling reference. */
// Decision (see policy-wasm/README.md, "Size"): the engine leaves the rule docs and schemas to the docs asset
// (fetched when a rule is opened); the budget is the measured size plus a little headroom, so the test still
// fails on a real regression.
export const BUDGET_GZ_BYTES = 240 * 1000;

/** `tests/fixtures/*.json` except `expected.json`, sorted: the same list the Rust tests use. */
export function fixtures() {
  if (!existsSync(FIXTURES_DIR)) return [];
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json') && f !== 'expected.json')
    .sort()
    .map((f) => ({ name: f.slice(0, -'.json'.length), path: path.join(FIXTURES_DIR, f) }));
}

/** `tests/fixtures/*.txt`: error texts, if the fixture set has any. */
export function errorTextFixtures() {
  if (!existsSync(FIXTURES_DIR)) return [];
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => ({ name: f.slice(0, -'.txt'.length), path: path.join(FIXTURES_DIR, f) }));
}

export function cliBin() {
  if (process.env.NSDOCTOR_BIN) return process.env.NSDOCTOR_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
  for (const p of [path.join(target, 'debug', 'nsdoctor'), path.join(target, 'release', 'nsdoctor')]) {
    if (existsSync(p)) return p;
  }
  throw new Error('nsdoctor CLI not found: run policy-wasm/test, or set NSDOCTOR_BIN');
}

/** Runs the CLI; `{ status, stdout, stderr }`. */
export function cli(args, input) {
  const r = spawnSync(cliBin(), args, { encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI's one-line error for a file argument, without the `nsdoctor: PATH: ` prefix. */
export function cliErrorMessage(stderr, file) {
  const line = stderr.trim().split('\n').pop();
  for (const prefix of [`nsdoctor: ${file}: `, 'nsdoctor: ']) if (line.startsWith(prefix)) return line.slice(prefix.length);
  return line;
}

/** `nsdoctor diagnose --format json FILE` for every fixture, computed once per process. */
let cache;
export function cliDiagnoses() {
  if (!cache) {
    cache = fixtures().map((f) => {
      const r = cli(['diagnose', '--format', 'json', f.path]);
      return { ...f, ...r, diagnosis: r.status === 0 || r.status === 1 ? JSON.parse(r.stdout) : null };
    });
  }
  return cache;
}

/**
 * `nsdoctor fix --report FILE` (the script on stdout, exit 0 printed or nothing to fix, 1 printed-only fixes,
 * 2 refused) and `--format json` (the plan) for every fixture, computed once per process.
 */
let fixCache;
export function cliFixes() {
  if (!fixCache) {
    fixCache = fixtures().map((f) => {
      const r = cli(['fix', '--report', f.path]);
      const plan = r.status === 0 && r.stdout ? JSON.parse(cli(['fix', '--report', f.path, '--format', 'json']).stdout) : null;
      return { ...f, ...r, plan };
    });
  }
  return fixCache;
}

let pkg;
/** The `--target web` package, instantiated synchronously from the wasm file. */
export async function loadPkg() {
  if (!pkg) {
    pkg = await import(pathToFileURL(path.join(PKG, 'policy_wasm.js')).href);
    pkg.initSync({ module: readFileSync(path.join(PKG, 'policy_wasm_bg.wasm')) });
  }
  return pkg;
}

export function outDir() {
  mkdirSync(OUT_DIR, { recursive: true });
  return OUT_DIR;
}

/** Error texts seen in the wild (bubblewrap 0.8 stderr, unshare, Codex), diagnosed with and without facts. */
export const ERROR_TEXTS = [
  {
    name: 'bwrap-no-permissions',
    text: 'bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces. See <https://deb.li/bubblewrap> or <file:///usr/share/doc/bubblewrap/README.Debian.gz>.\n',
    facts: { distro: 'debian', 'distro-version': '12', root: 'no' },
  },
  {
    name: 'bwrap-enospc',
    text: 'bwrap: Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)\n',
    facts: { distro: 'debian', container: 'none' },
  },
  {
    name: 'bwrap-uid-map',
    text: 'bwrap: setting up uid map: Permission denied\n',
    facts: { distro: 'ubuntu', 'distro-version': '24.04', root: 'no', tool: 'codex' },
  },
  {
    name: 'bwrap-loopback',
    text: 'bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted\n',
    facts: { container: 'docker', root: 'yes' },
  },
  {
    name: 'unshare-eperm',
    text: 'unshare: unshare failed: Operation not permitted\n',
    facts: {},
  },
  {
    name: 'service-eperm',
    text: 'bwrap: Creating new namespace failed: Operation not permitted\n',
    facts: { service: 'systemd', distro: 'fedora', selinux: 'enforcing' },
  },
];

export const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';

/** A copy of `value` with every string replaced by `replacement` (object keys are kept). */
export function replaceStrings(value, replacement) {
  if (typeof value === 'string') return replacement;
  if (Array.isArray(value)) return value.map((v) => replaceStrings(v, replacement));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, replacement)]));
  }
  return value;
}

/** `[[[…]]]` nested `depth` deep. */
export function nestedJson(depth) {
  return '['.repeat(depth) + ']'.repeat(depth);
}

export function readFixture(p) {
  return readFileSync(p, 'utf8');
}
