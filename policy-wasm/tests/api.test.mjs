// The wasm API in node, against the nsdoctor CLI as the reference: same bytes for every fixture, and no call
// ever throws (bad input of any kind is a structured `{"error": {"kind", "message"}}`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  ERROR_TEXTS, HOSTILE, errorTextFixtures, PKG, PW, ROOT, cli, cliDiagnoses, cliErrorMessage, cliFixes, fixtures, loadPkg, nestedJson, replaceStrings,
} from './helpers.mjs';

const nsd = await loadPkg();
/** The docs asset the console fetches when a rule's doc is opened (rule docs and schemas are not in the engine). */
const DOCS = readFileSync(path.join(PKG, 'policy_wasm_docs.json'), 'utf8');
const tmp = mkdtempSync(path.join(tmpdir(), 'nsd-wasm-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function tmpFile(name, content) {
  const p = path.join(tmp, name);
  writeFileSync(p, content);
  return p;
}

/** Parses a wasm result that must be a structured error. */
function expectError(out, kind, pattern) {
  assert.equal(typeof out, 'string');
  const v = JSON.parse(out);
  assert.ok(v.error, `expected an error, got ${out.slice(0, 200)}`);
  assert.deepEqual(Object.keys(v), ['error']);
  assert.equal(typeof v.error.message, 'string');
  assert.ok(v.error.message.length > 0);
  if (kind) assert.equal(v.error.kind, kind, v.error.message);
  if (pattern) assert.match(v.error.message, pattern);
  return v.error;
}

/**
 * `fixScript(input)` against `nsdoctor fix --report FILE` (FILE holding the same bytes): the same script with the
 * status the exit code stands for, or the same input error. Returns the parsed result.
 */
function expectFixLikeCli(out, file) {
  assert.equal(typeof out, 'string');
  const r = cli(['fix', '--report', file]);
  if (r.status === 2) {
    expectError(out, 'input');
    assert.equal(JSON.parse(out).error.message, cliErrorMessage(r.stderr, file));
    return JSON.parse(out);
  }
  const v = JSON.parse(out);
  assert.ok(!v.error, out.slice(0, 300));
  assert.deepEqual(Object.keys(v), ['status', 'remediation', 'message', 'script']);
  assert.equal(v.script, r.stdout, 'the script is the CLI stdout, byte for byte');
  assert.equal(r.status, v.status === 'manual' ? 1 : 0, `exit ${r.status} for status ${v.status}`);
  return v;
}

test('there are fixtures to compare', () => {
  assert.ok(fixtures().length > 0, 'tests/fixtures/*.json is empty');
});

test('version() is the CLI version', () => {
  assert.equal(`nsdoctor ${nsd.version()}`, cli(['--version']).stdout.trim());
});

test('rules(docs) is `nsdoctor rules --format json`; rules() the same list without the docs', () => {
  const r = cli(['rules', '--format', 'json']);
  assert.equal(r.status, 0);
  assert.equal(nsd.rules(DOCS), r.stdout);
  const index = JSON.parse(nsd.rules());
  assert.deepEqual(index, JSON.parse(r.stdout).map(({ doc, ...rest }) => rest));
});

test('the docs asset is needed for a doc or a schema, and must be of this version', () => {
  expectError(nsd.explain('NSD101'), 'usage', /pass the docs asset/);
  expectError(nsd.schema('diagnosis'), 'usage', /pass the docs asset/);
  expectError(nsd.explain('NSD101', '{"version": "0.0.0", "rules": {}, "schemas": {}}'), 'usage', /made for version 0\.0\.0/);
  expectError(nsd.explain('NSD101', 'not json'), 'usage', /docs asset: not valid/);
  expectError(nsd.explain('NSD101', 7), 'usage', /docs must be a string, not number/);
});

test('explain(code) is `nsdoctor explain CODE --format json` for every rule, by code and by name', () => {
  const rules = JSON.parse(nsd.rules(DOCS));
  assert.ok(rules.length > 0);
  for (const rule of rules) {
    const r = cli(['explain', rule.code, '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(nsd.explain(rule.code, DOCS), r.stdout, rule.code);
    assert.equal(nsd.explain(rule.name, DOCS), r.stdout, rule.name);
    assert.equal(nsd.explain(rule.code.toLowerCase(), DOCS), r.stdout);
  }
  const r = cli(['explain', 'NSD000', '--format', 'json']);
  assert.equal(r.status, 2);
  const e = expectError(nsd.explain('NSD000', DOCS), 'usage');
  assert.equal(e.message, cliErrorMessage(r.stderr));
});

test('schema(name) is `nsdoctor schema NAME` and the committed schemas/ file', () => {
  for (const name of ['probe-report', 'sandbox-config', 'diagnosis']) {
    const r = cli(['schema', name]);
    assert.equal(r.status, 0, r.stderr);
    const s = nsd.schema(name, DOCS);
    assert.equal(s, r.stdout, `${name}: wasm differs from the CLI (regenerate schemas/ and rebuild)`);
    assert.equal(s, readFileSync(path.join(ROOT, 'schemas', `${name}.schema.json`), 'utf8'));
    JSON.parse(s);
  }
  const r = cli(['schema', 'nope']);
  assert.equal(r.status, 2);
  assert.equal(expectError(nsd.schema('nope', DOCS), 'usage').message, cliErrorMessage(r.stderr));
});

test('factKeys() lists the facts diagnoseErrorText accepts', () => {
  const keys = JSON.parse(nsd.factKeys());
  assert.ok(keys.length >= 5);
  for (const { key, help } of keys) {
    assert.match(key, /^[a-z-]+$/);
    assert.equal(typeof help, 'string');
  }
  const names = keys.map((k) => k.key);
  for (const k of ['distro', 'distro-version', 'container', 'root', 'service']) assert.ok(names.includes(k), k);
  const e = expectError(nsd.diagnoseErrorText('bwrap: x', '{"colour":"blue"}'), 'input');
  for (const k of names) assert.ok(e.message.includes(k), `unknown-fact message should list ${k}`);
});

test('diagnose(report) is byte-identical to `nsdoctor diagnose --format json` for every fixture', async (t) => {
  for (const f of cliDiagnoses()) {
    await t.test(f.name, () => {
      const text = readFileSync(f.path, 'utf8');
      const bytes = readFileSync(f.path);
      const fromText = nsd.diagnose(text);
      const fromBytes = nsd.diagnose(new Uint8Array(bytes));
      const fromBuffer = nsd.diagnose(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      if (f.status === 0 || f.status === 1) {
        assert.equal(fromText, f.stdout);
        assert.equal(fromBytes, f.stdout);
        assert.equal(fromBuffer, f.stdout);
        assert.equal(f.status === 1, f.diagnosis.verdict === 'blocked', 'exit 1 exactly when blocked');
      } else {
        assert.equal(f.status, 2, f.stderr);
        const msg = cliErrorMessage(f.stderr, f.path);
        assert.equal(expectError(fromText, 'input').message, msg);
        assert.equal(expectError(fromBytes, 'input').message, msg);
      }
    });
  }
});

test('fixScript(report) is byte-identical to `nsdoctor fix --report FILE` for every fixture', async (t) => {
  const seen = new Set();
  const diagnoses = new Map(cliDiagnoses().map((f) => [f.name, f.diagnosis]));
  for (const f of cliFixes()) {
    await t.test(f.name, () => {
      const bytes = readFileSync(f.path);
      const fromText = nsd.fixScript(readFileSync(f.path, 'utf8'));
      assert.equal(nsd.fixScript(new Uint8Array(bytes)), fromText, 'as bytes');
      assert.equal(nsd.fixScript(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), fromText, 'as an ArrayBuffer');
      if (f.status === 2) {
        assert.equal(expectError(fromText, 'input').message, cliErrorMessage(f.stderr, f.path));
        return;
      }
      const v = JSON.parse(fromText);
      assert.ok(!v.error, fromText);
      assert.deepEqual(Object.keys(v), ['status', 'remediation', 'message', 'script']);
      seen.add(v.status);
      assert.equal(v.script, f.stdout, 'script = CLI stdout, byte for byte');
      const blocking = (diagnoses.get(f.name)?.findings ?? []).filter((x) => x.blocking);
      switch (v.status) {
        case 'script':
          assert.equal(f.status, 0, f.stderr);
          assert.equal(f.stderr, '');
          assert.ok(v.script.startsWith('#!/bin/sh\n'));
          assert.equal(v.remediation, f.plan.remediation, 'the remediation of `--format json`');
          assert.equal(v.message, `${f.plan.finding}: ${f.plan.title}`);
          assert.equal(f.plan.script, f.stdout, '`--format json` carries the same script');
          assert.ok(blocking.some((x) => x.remediations.some((r) => r.id === v.remediation)), 'a remediation of a blocking finding');
          break;
        case 'manual':
          assert.equal(f.status, 1, 'the CLI exits 1 when nothing can be applied');
          assert.equal(v.remediation, null);
          assert.ok(v.script.startsWith('#!/bin/sh\n'));
          assert.equal(f.stderr.trim().split('\n').pop(), `nsdoctor fix: ${v.message}`);
          assert.ok(blocking.length > 0);
          break;
        case 'nothing-to-fix':
          assert.equal(f.status, 0, f.stderr);
          assert.equal(f.stdout, '');
          assert.equal(v.remediation, null);
          assert.equal(f.stderr.trim().split('\n').pop(), `nsdoctor fix: ${v.message}`);
          assert.equal(blocking.length, 0);
          break;
        default:
          assert.fail(`unknown status ${v.status}`);
      }
    });
  }
  await t.test('the fixtures cover every status', () => {
    assert.deepEqual([...seen].sort(), ['manual', 'nothing-to-fix', 'script']);
  });
});

test('diagnose(report, config) matches `nsdoctor diagnose --config`', async (t) => {
  const configs = {
    'flatpak-host-net': { tool: 'flatpak', network: 'host', namespaces: { user: true, net: false, pid: true, mount: true, proc: true } },
    'openclaw-service': { tool: 'openclaw', manager: 'systemd', unit: 'openclaw-gateway.service', service_user: 'openclaw', bwrap_path: '/usr/bin/bwrap' },
  };
  const usable = cliDiagnoses().filter((f) => f.diagnosis).slice(0, 4);
  for (const f of usable) {
    for (const [name, cfg] of Object.entries(configs)) {
      await t.test(`${f.name} + ${name}`, () => {
        const cfgText = JSON.stringify(cfg);
        const r = cli(['diagnose', '--format', 'json', '--config', tmpFile(`${name}.json`, cfgText), f.path]);
        assert.ok(r.status === 0 || r.status === 1, r.stderr);
        assert.equal(nsd.diagnose(readFileSync(f.path, 'utf8'), cfgText), r.stdout);
        assert.equal(nsd.diagnose(readFileSync(f.path), cfgText), r.stdout);
      });
    }
  }
  await t.test('a bad config is the CLI error', () => {
    const f = usable[0];
    const p = tmpFile('bad-config.json', '{"tool": 7}');
    const r = cli(['diagnose', '--format', 'json', '--config', p, f.path]);
    assert.equal(r.status, 2);
    assert.equal(expectError(nsd.diagnose(readFileSync(f.path, 'utf8'), '{"tool": 7}'), 'input').message, cliErrorMessage(r.stderr, p));
  });
  await t.test('null, undefined and "" mean no config', () => {
    const f = usable[0];
    for (const c of [null, undefined, '', '  ']) assert.equal(nsd.diagnose(readFileSync(f.path, 'utf8'), c), f.stdout);
  });
});

test('diagnoseErrorText(text, facts) matches `nsdoctor diagnose --error-text FILE --fact K=V`', async (t) => {
  const extra = errorTextFixtures().map((f) => ({ name: f.name, text: readFileSync(f.path, 'utf8'), facts: {} }));
  for (const s of [...ERROR_TEXTS, ...extra]) {
    await t.test(s.name, () => {
      const file = tmpFile(`${s.name}.txt`, s.text);
      const args = ['diagnose', '--format', 'json', '--error-text', file];
      for (const [k, v] of Object.entries(s.facts)) args.push('--fact', `${k}=${v}`);
      const r = cli(args);
      assert.ok(r.status === 0 || r.status === 1, r.stderr);
      assert.equal(nsd.diagnoseErrorText(s.text, JSON.stringify(s.facts)), r.stdout, 'facts as JSON text');
      assert.equal(nsd.diagnoseErrorText(s.text, s.facts), r.stdout, 'facts as an object');
      if (Object.keys(s.facts).length === 0) {
        assert.equal(nsd.diagnoseErrorText(s.text), r.stdout);
        assert.equal(nsd.diagnoseErrorText(s.text, null), r.stdout);
      }
    });
  }
  await t.test('a bad fact value is the CLI error', () => {
    const file = tmpFile('e.txt', 'bwrap: setting up uid map: Permission denied\n');
    const r = cli(['diagnose', '--format', 'json', '--error-text', file, '--fact', 'root=maybe']);
    assert.equal(r.status, 2);
    assert.equal(expectError(nsd.diagnoseErrorText('bwrap: setting up uid map: Permission denied\n', { root: 'maybe' }), 'input').message, cliErrorMessage(r.stderr));
  });
});

test('render(diagnosis, format) matches the CLI text and Markdown output', async (t) => {
  for (const f of cliDiagnoses().filter((x) => x.diagnosis)) {
    await t.test(f.name, () => {
      const text = cli(['diagnose', '--format', 'text', '--color', 'never', f.path]).stdout;
      const md = cli(['diagnose', '--format', 'markdown', f.path]).stdout;
      assert.equal(nsd.render(f.stdout, 'text'), text);
      assert.equal(nsd.render(f.stdout, 'markdown'), md);
      assert.equal(nsd.render(f.stdout, 'json'), f.stdout);
      assert.equal(JSON.parse(f.stdout).rendered, text, 'the JSON carries the same plain text');
      const html = nsd.render(f.stdout, 'html');
      assert.match(html, /^<section class="nsd-diagnosis" data-verdict="(ok|degraded|blocked)">/);
      for (const finding of f.diagnosis.findings) assert.ok(html.includes(`data-code="${finding.code}"`));
    });
  }
  expectError(nsd.render(cliDiagnoses().find((x) => x.diagnosis)?.stdout ?? '{}', 'pdf'), 'usage', /unknown format `pdf`/);
  expectError(nsd.render('{"schema_version": 1}', 'text'), 'input', /diagnosis is not valid/);
});

test('render(html) escapes every report string', () => {
  const d = JSON.parse(nsd.diagnoseErrorText('bwrap: setting up uid map: Permission denied\n', { tool: HOSTILE.slice(0, 120) }));
  assert.ok(!d.error, JSON.stringify(d));
  const html = nsd.render(JSON.stringify(d), 'html');
  assert.ok(!/<img|<script/i.test(html), html);
});

test('no call ever throws: wrong types are usage errors', () => {
  const valid = cliDiagnoses().find((x) => x.diagnosis)?.stdout ?? '{}';
  const report = fixtures().length ? readFileSync(fixtures()[0].path, 'utf8') : '{}';
  const cases = [
    () => nsd.diagnose(),
    () => nsd.diagnose(undefined),
    () => nsd.diagnose(null),
    () => nsd.diagnose(42),
    () => nsd.diagnose({ schema_version: 1 }),
    () => nsd.diagnose([1, 2]),
    () => nsd.diagnose(Symbol('x')),
    () => nsd.diagnose(10n),
    () => nsd.diagnose(() => 1),
    () => nsd.diagnose(report, 42),
    () => nsd.diagnose(report, { tool: 'x' }),
    () => nsd.diagnoseErrorText(),
    () => nsd.diagnoseErrorText(null, null),
    () => nsd.diagnoseErrorText(new Uint8Array([1])),
    () => nsd.diagnoseErrorText('bwrap: x', 5),
    () => nsd.diagnoseErrorText('bwrap: x', ['distro=ubuntu']),
    () => nsd.diagnoseErrorText('bwrap: x', { big: 10n }),
    () => nsd.explain(),
    () => nsd.explain(101),
    () => nsd.render(),
    () => nsd.render(valid),
    () => nsd.render(valid, 7),
    () => nsd.render({}, 'text'),
    () => nsd.schema(),
    () => nsd.schema(['diagnosis']),
    () => nsd.fixScript(),
    () => nsd.fixScript(undefined),
    () => nsd.fixScript(null),
    () => nsd.fixScript(42),
    () => nsd.fixScript(true),
    () => nsd.fixScript({ schema_version: 1 }),
    () => nsd.fixScript([1, 2]),
    () => nsd.fixScript(Symbol('x')),
    () => nsd.fixScript(10n),
    () => nsd.fixScript(() => 1),
    () => nsd.fixScript(new Uint16Array([1])),
  ];
  for (const c of cases) {
    let out;
    assert.doesNotThrow(() => { out = c(); }, String(c));
    expectError(out, 'usage');
  }
  assert.notEqual(JSON.parse(nsd.diagnose(report)).error?.kind, 'usage', 'still works afterwards');
  assert.notEqual(JSON.parse(nsd.fixScript(report)).error?.kind, 'usage', 'still works afterwards');
});

test('no call ever throws: hostile data are input errors with the CLI message', async (t) => {
  await t.test('10 MB report', () => {
    const big = `{"schema_version":1,"source":"${'A'.repeat(10 * 1024 * 1024)}"}`;
    const p = tmpFile('big.json', big);
    const r = cli(['diagnose', '--format', 'json', p]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /too large/);
    expectError(nsd.diagnose(big), 'input', /too large/);
    expectError(nsd.diagnose(Buffer.from(big)), 'input', /too large/);
    expectError(nsd.render(big, 'text'), 'input', /too large/);
    expectError(nsd.diagnoseErrorText(big), 'input', /too large/);
    // The CLI refuses the file before reading it, in its own words; both say "too large".
    const rf = cli(['fix', '--report', p]);
    assert.equal(rf.status, 2);
    assert.match(rf.stderr, /too large/);
    assert.equal(rf.stdout, '');
    expectError(nsd.fixScript(big), 'input', /too large/);
    expectError(nsd.fixScript(Buffer.from(big)), 'input', /too large/);
  });
  await t.test('JSON nested 10 000 deep', () => {
    const deep = nestedJson(10000);
    const deepObj = '{"a":'.repeat(10000) + '1' + '}'.repeat(10000);
    for (const doc of [deep, deepObj]) {
      const p = tmpFile('deep.json', doc);
      const r = cli(['diagnose', '--format', 'json', p]);
      assert.equal(r.status, 2);
      const e = expectError(nsd.diagnose(doc), 'input', /recursion limit|not a JSON object|nested deeper/);
      assert.equal(e.message, cliErrorMessage(r.stderr, p));
      expectError(nsd.diagnose(Buffer.from(doc)), 'input', /recursion limit|not a JSON object|nested deeper/);
      expectFixLikeCli(nsd.fixScript(doc), p);
      expectError(nsd.fixScript(new Uint8Array(Buffer.from(doc))), 'input', /recursion limit|not a JSON object|nested deeper/);
      expectError(nsd.render(doc, 'text'), 'input', /diagnosis is not valid|nested deeper/);
      expectError(nsd.diagnoseErrorText('bwrap: x', doc), 'input', /recursion limit|JSON object|nested deeper/);
      if (fixtures().length) expectError(nsd.diagnose(readFileSync(fixtures()[0].path, 'utf8'), doc), 'input', /recursion limit|not a JSON object|nested deeper/);
    }
  });
  await t.test('invalid UTF-8 and NUL bytes', () => {
    for (const [name, bytes] of [['bad-utf8.json', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])], ['nul.json', Buffer.from('{"a":\u0000}')], ['lone-continuation.json', Buffer.from([0x80])]]) {
      const p = tmpFile(name, bytes);
      const r = cli(['diagnose', '--format', 'json', p]);
      assert.equal(r.status, 2);
      const e = expectError(nsd.diagnose(new Uint8Array(bytes)), 'input', /UTF-8|NUL/);
      assert.equal(e.message, cliErrorMessage(r.stderr, p));
      expectFixLikeCli(nsd.fixScript(new Uint8Array(bytes)), p);
      expectError(nsd.fixScript(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), 'input', /UTF-8|NUL/);
    }
  });
  await t.test('not JSON, wrong JSON, wrong schema_version', () => {
    for (const doc of ['', '   ', '{', 'null', '[]', '"x"', '{"schema_version": 2}', '{"schema_version": 1, "nope": 1}', '{"schema_version": 1, "steps": [{"id": "userns"}]}']) {
      const p = tmpFile('bad.json', doc);
      const r = cli(['diagnose', '--format', 'json', p]);
      assert.equal(r.status, 2, doc);
      assert.equal(expectError(nsd.diagnose(doc), 'input').message, cliErrorMessage(r.stderr, p), doc);
      expectFixLikeCli(nsd.fixScript(doc), p);
      expectError(nsd.fixScript(doc), 'input');
    }
  });
  await t.test('every string replaced by markup', () => {
    for (const f of fixtures().slice(0, 3)) {
      const hostile = JSON.stringify(replaceStrings(JSON.parse(readFileSync(f.path, 'utf8')), HOSTILE));
      expectFixLikeCli(nsd.fixScript(hostile), tmpFile(`hostile-${f.name}.json`, hostile));
      const out = nsd.diagnose(hostile);
      const v = JSON.parse(out);
      if (!v.error) {
        const html = nsd.render(out, 'html');
        assert.ok(!/<img|<script/i.test(html));
      }
    }
  });
  await t.test('the instance still works afterwards', () => {
    const f = cliDiagnoses().find((x) => x.diagnosis);
    if (f) assert.equal(nsd.diagnose(readFileSync(f.path, 'utf8')), f.stdout);
    const g = cliFixes().find((x) => x.status === 0 && x.stdout);
    if (g) assert.equal(JSON.parse(nsd.fixScript(readFileSync(g.path))).script, g.stdout);
  });
});

test('the package is npm-style: package.json, typings for every export', () => {
  const pj = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8'));
  assert.equal(pj.type, 'module');
  assert.equal(pj.version, nsd.version());
  for (const f of pj.files) readFileSync(path.join(PKG, f));
  const dts = readFileSync(path.join(PKG, 'policy_wasm.d.ts'), 'utf8');
  for (const fn of ['diagnose', 'fixScript', 'diagnoseErrorText', 'explain', 'rules', 'render', 'schema', 'version', 'factKeys']) {
    assert.match(dts, new RegExp(`export function ${fn}\\(`), fn);
    assert.equal(typeof nsd[fn], 'function', fn);
  }
  assert.match(dts, /export function fixScript\(report: string \| Uint8Array \| ArrayBuffer\): string;/);
  // wasm-bindgen re-indents the section: compare without leading whitespace.
  const flat = (t) => t.replace(/^[ \t]+/gm, '');
  assert.ok(flat(dts).includes(flat(readFileSync(path.join(PW, 'api.d.ts'), 'utf8'))), 'the typings are the generated api.d.ts');
  assert.ok(pj.files.includes('policy_wasm_docs.json'));
  assert.match(dts, /export interface NsdError/);
  assert.match(dts, /export default function __wbg_init/);
});
