// The console in real Chromium (Debian's /usr/bin/chromium via playwright-core), served by `python3 -m http.server`
// on 127.0.0.1. Expected words come from the nsdoctor CLI's JSON for the same input, computed at test time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { chromium } from 'playwright-core';

import {
  ERROR_TEXTS, HOSTILE, PW, cli, cliDiagnoses, cliFixes, nestedJson, outDir, replaceStrings,
} from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let server;
let browser;
let base;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer() {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const proc = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', PW],
      { stdio: ['ignore', 'ignore', 'ignore'] });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      try {
        const r = await fetch(`${url}/www/index.html`);
        if (r.ok) return { proc, url };
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill('SIGKILL');
  }
  throw new Error('python3 -m http.server did not come up');
}

before(async () => {
  ({ proc: server, url: base } = await startServer());
  process.on('exit', () => server && server.kill('SIGKILL'));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null || server.signalCode !== null ? r() : server.once('exit', r)));
  }
});

/** A fresh page on the console, recording console errors, page errors, CSP violations and foreign requests. */
async function openConsole() {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    const ours = u.origin === base && /^\/(www|pkg)\/[\w.-]+$/.test(u.pathname);
    if (!ours && !['blob:', 'data:'].includes(u.protocol)) problems.push(`unexpected request: ${r.url()}`);
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${base}/www/index.html`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
  return { page, context, problems };
}

/** No script ran, nothing was injected, nothing was blocked by the CSP, nothing went to the network. */
async function assertClean(page, problems) {
  assert.deepEqual(problems, []);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.locator('main img, main script, main iframe, main object, main embed, main svg').count(), 0);
}

async function uploadBuffer(page, name, buffer, selector = '#report-file') {
  await page.setInputFiles(selector, { name, mimeType: 'application/json', buffer: Buffer.from(buffer) });
}

async function waitForResult(page, source) {
  await page.waitForFunction((s) => !document.getElementById('result').hidden
    && document.getElementById('result-source').textContent === s, source, { timeout: 15000 });
}

async function waitForError(page, pattern) {
  await page.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: 15000 });
  const text = await page.locator('#error').textContent();
  assert.match(text, pattern);
  assert.ok(await page.locator('#error').isVisible());
  assert.ok(await page.locator('#result').isHidden());
  return text;
}

/** What the page shows, as data. */
function domModel(page) {
  return page.evaluate(() => {
    const q = (root, sel) => { const e = root.querySelector(sel); return e ? e.textContent : null; };
    return {
      verdict: q(document, '#verdict .verdict-value'),
      headline: q(document, '#headline'),
      findings: [...document.querySelectorAll('#findings > li.finding')].map((li) => ({
        code: q(li, '.finding-code'),
        title: q(li, '.finding-title'),
        cause: q(li, '.finding-cause'),
        severity: li.dataset.severity,
        summary: q(li, '.summary'),
        evidence: [...li.querySelectorAll('table.evidence tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)),
        remediations: [...li.querySelectorAll('li.remediation')].map((r) => ({
          id: r.dataset.id,
          title: q(r, '.remediation-name'),
          files: [...r.querySelectorAll('.artifact')].map((a) => ({ kind: a.dataset.kind, path: q(a, '.artifact-path'), content: q(a, '.artifact-content') })),
          commands: q(r, '.commands pre'),
          verify: q(r, '.verify pre'),
        })),
      })),
      confirm: q(document, '#confirm-block:not([hidden]) pre'),
    };
  });
}

/** The same shape from the CLI's diagnosis JSON. */
function expectedModel(d) {
  const lines = (a) => (a.length ? a.join('\n') : null);
  return {
    verdict: d.verdict.toUpperCase(),
    headline: d.headline,
    findings: d.findings.map((f) => ({
      code: f.code,
      title: f.title,
      cause: f.cause,
      severity: f.severity,
      summary: f.summary,
      evidence: f.evidence.map((e) => [e.pointer, e.observed, e.meaning]),
      remediations: f.remediations.map((r) => ({
        id: r.id, title: r.title, files: r.files.map((a) => ({ kind: a.kind, path: a.path, content: a.content })), commands: lines(r.commands), verify: lines(r.verify),
      })),
    })),
    confirm: lines(d.confirm),
  };
}

const diagnosed = () => cliDiagnoses().filter((f) => f.diagnosis);

/** What `nsdoctor fix --report` gives for a fixture: `{ status: script|manual|nothing-to-fix, script, message }`. */
function expectedFix(name) {
  const f = cliFixes().find((x) => x.name === name);
  assert.ok(f, `no fixture ${name}`);
  assert.ok(f.status === 0 || f.status === 1, f.stderr);
  const message = f.stderr.trim() ? f.stderr.trim().split('\n').pop().replace(/^nsdoctor fix: /, '') : null;
  if (f.status === 1) return { status: 'manual', script: f.stdout, message };
  if (f.stdout === '') return { status: 'nothing-to-fix', script: '', message };
  return { status: 'script', script: f.stdout, message: `${f.plan.finding}: ${f.plan.title}`, remediation: f.plan.remediation };
}

/** The "Fix script" block as shown: `null` when hidden. */
function fixModel(page) {
  return page.evaluate(() => {
    const block = document.getElementById('fix-block');
    if (block.hidden) return { shown: false, children: block.querySelector('#fix').childElementCount };
    const pre = block.querySelector('details pre');
    return { shown: true, status: block.dataset.status, message: block.querySelector('.fix-message')?.textContent ?? null, script: pre ? pre.textContent : null };
  });
}

async function downloadBytes(page, locator) {
  const [d] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) };
}

test('the console loads from a static server: engine version, CSP, no errors', async () => {
  const { page, context, problems } = await openConsole();
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.match(csp, /default-src 'none'/);
  assert.equal(await page.locator('script:not([src])').count(), 0, 'no inline script');
  assert.equal(await page.locator('[onclick], [onload], [onerror]').count(), 0, 'no inline handlers');
  const version = cli(['--version']).stdout.trim().replace(/^nsdoctor /, '');
  assert.match(await page.textContent('#version'), new RegExp(`policy-core ${version.replace(/\./g, '\\.')}`));
  assert.equal(await page.locator('#loading').count(), 0);
  await assertClean(page, problems);
  await context.close();
});

test('uploading each fixture report shows the CLI verdict, findings, evidence and remediation', async (t) => {
  const all = diagnosed();
  assert.ok(all.length >= 5, `need at least 5 fixture reports the CLI diagnoses, have ${all.length}`);
  const { page, context, problems } = await openConsole();
  for (const f of all) {
    await t.test(f.name, async () => {
      await page.setInputFiles('#report-file', f.path);
      await waitForResult(page, path.basename(f.path));
      assert.deepEqual(await domModel(page), expectedModel(f.diagnosis));
      assert.ok(await page.locator('#result').isVisible());
      assert.equal(await page.locator('#verdict').getAttribute('data-verdict'), f.diagnosis.verdict);
      assert.equal(await page.locator('#findings-heading').textContent(), `Findings (${f.diagnosis.findings.length})`);
      for (const finding of f.diagnosis.findings) {
        assert.ok(await page.locator(`li.finding[data-code="${finding.code}"] .finding-title`).isVisible());
      }
      const fix = expectedFix(f.name);
      const shown = await fixModel(page);
      if (fix.status === 'nothing-to-fix') {
        assert.deepEqual(shown, { shown: false, children: 0 });
      } else {
        assert.equal(shown.status, fix.status);
        assert.equal(shown.script, fix.script, 'the script shown is `nsdoctor fix --report` stdout');
        assert.ok(shown.message.startsWith(fix.message), shown.message);
      }
    });
  }
  await assertClean(page, problems);
  await context.close();
});

test('drag and drop of a report file', async () => {
  const f = diagnosed()[0];
  const { page, context, problems } = await openConsole();
  const dataTransfer = await page.evaluateHandle(({ name, text }) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], name, { type: 'application/json' }));
    return dt;
  }, { name: 'dropped.json', text: readFileSync(f.path, 'utf8') });
  for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('#drop-zone', type, { dataTransfer });
  await waitForResult(page, 'dropped.json');
  assert.deepEqual(await domModel(page), expectedModel(f.diagnosis));
  await assertClean(page, problems);
  await context.close();
});

test('a sandbox config override gives the CLI --config diagnosis, and can be cleared', async () => {
  const f = diagnosed()[0];
  const cfg = JSON.stringify({ tool: 'openclaw', manager: 'systemd', unit: 'openclaw-gateway.service', network: 'host' });
  const cfgPath = path.join(outDir(), 'override-config.json');
  writeFileSync(cfgPath, cfg);
  const r = cli(['diagnose', '--format', 'json', '--config', cfgPath, f.path]);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const { page, context, problems } = await openConsole();
  await page.setInputFiles('#report-file', f.path);
  await waitForResult(page, path.basename(f.path));
  await page.getByLabel('Sandbox config override (optional, JSON)').setInputFiles(cfgPath);
  await waitForResult(page, `${path.basename(f.path)} with config override-config.json`);
  assert.deepEqual(await domModel(page), expectedModel(JSON.parse(r.stdout)));
  assert.equal(await page.locator('#config dd').first().textContent(), 'openclaw');
  await page.getByRole('button', { name: 'Clear config' }).click();
  await waitForResult(page, path.basename(f.path));
  assert.deepEqual(await domModel(page), expectedModel(f.diagnosis));
  await uploadBuffer(page, 'bad-config.json', nestedJson(10000), '#config-file');
  await waitForError(page, /recursion limit|not a JSON object|nested deeper/);
  await assertClean(page, problems);
  await context.close();
});

test('copy buttons and a download per artifact; exports equal the CLI output', async (t) => {
  const withFiles = diagnosed().filter((f) => f.diagnosis.findings.some((x) => x.remediations.some((r) => r.files.length)));
  assert.ok(withFiles.length > 0, 'no fixture diagnosis has a remediation file (AppArmor profile, sysctl.d, drop-in)');
  const kinds = new Set();
  const { page, context, problems } = await openConsole();
  for (const f of withFiles) {
    await page.setInputFiles('#report-file', f.path);
    await waitForResult(page, path.basename(f.path));
    const artifacts = f.diagnosis.findings.flatMap((x) => x.remediations.flatMap((r) => r.files));
    const domArtifacts = page.locator('.artifact');
    assert.equal(await domArtifacts.count(), artifacts.length);
    for (const [i, a] of artifacts.entries()) {
      if (kinds.has(a.kind)) continue;
      kinds.add(a.kind);
      const box = domArtifacts.nth(i);
      await box.getByRole('button', { name: /^Copy / }).click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), a.content, `copy ${a.path}`);
      const [download] = await Promise.all([page.waitForEvent('download'), box.getByRole('link', { name: /^Download / }).click()]);
      const expectedName = a.path.split('/').filter(Boolean).pop().replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
      assert.equal(download.suggestedFilename(), expectedName || 'artifact.txt');
      assert.equal(readFileSync(await download.path(), 'utf8'), a.content, `download ${a.path}`);
    }
  }
  for (const k of ['apparmor-profile', 'sysctl-d', 'systemd-dropin']) {
    if (!kinds.has(k)) t.diagnostic(`note: no fixture produced a ${k} artifact`);
  }
  // Commands copy as shown, exports are the CLI's bytes.
  const f = withFiles[0];
  await page.setInputFiles('#report-file', f.path);
  await waitForResult(page, path.basename(f.path));
  const firstWithCommands = f.diagnosis.findings.flatMap((x) => x.remediations).find((r) => r.commands.length);
  if (firstWithCommands) {
    await page.locator(`li.remediation[data-id="${firstWithCommands.id}"] .commands button`).first().click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), firstWithCommands.commands.join('\n'));
  }
  const exportsOf = async (label) => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: `Download the diagnosis as ${label}`, exact: false }).click()]);
    return readFileSync(await d.path(), 'utf8');
  };
  assert.equal(await exportsOf('JSON'), f.stdout);
  assert.equal(await exportsOf('Markdown'), cli(['diagnose', '--format', 'markdown', f.path]).stdout);
  assert.equal(await exportsOf('plain text'), cli(['diagnose', '--format', 'text', '--color', 'never', f.path]).stdout);
  await assertClean(page, problems);
  await context.close();
});

test('fix script block: the CLI script for a host-local fix, none when healthy, the printed-only fixes in a container', async (t) => {
  const { page, context, problems } = await openConsole();
  const fixture = (name) => cliFixes().find((x) => x.name === name);

  await t.test('a host-local fix: collapsed script, download fix.sh, copy', async () => {
    const f = fixture('debian-10-unprivileged-userns-clone-0');
    const fix = expectedFix(f.name);
    assert.equal(fix.status, 'script');
    await page.setInputFiles('#report-file', f.path);
    await waitForResult(page, path.basename(f.path));
    const block = page.locator('#fix-block');
    assert.ok(await block.isVisible());
    assert.equal(await block.getAttribute('data-status'), 'script');
    assert.equal(await page.locator('#fix-heading').textContent(), 'Fix script');
    assert.equal(await page.getByRole('group', { name: 'Fix script' }).count(), 1);
    const line = await block.locator('.fix-message').textContent();
    assert.equal(await block.locator('.fix-what').textContent(), fix.message);
    assert.equal(await block.locator('.fix-remediation').textContent(), fix.remediation);
    for (const words of ['nsdoctor fix', 'undoes itself if the sandbox is still blocked', 'as root', 'sh fix.sh --check', 'only checks', 'sh fix.sh --undo', 'restores']) {
      assert.ok(line.includes(words), `"${words}" in: ${line}`);
    }
    // Under the findings, before the rest of the diagnosis.
    assert.ok(await page.evaluate(() => document.getElementById('findings').compareDocumentPosition(document.getElementById('fix-block')) & Node.DOCUMENT_POSITION_FOLLOWING));
    // Collapsed at first; the summary opens it from the keyboard.
    const details = block.locator('details');
    assert.equal(await details.getAttribute('open'), null);
    assert.ok(await block.locator('pre').isHidden());
    await block.locator('summary').focus();
    await page.keyboard.press('Enter');
    assert.notEqual(await details.getAttribute('open'), null);
    assert.ok(await block.locator('pre').isVisible());
    assert.equal(await block.locator('pre').textContent(), fix.script);
    await block.screenshot({ path: path.join(outDir(), 'console-fix-script.png') });
    const link = page.getByRole('link', { name: 'Download the fix script as fix.sh' });
    assert.equal(await link.getAttribute('type'), 'text/x-shellscript');
    const d = await downloadBytes(page, link);
    assert.equal(d.name, 'fix.sh');
    assert.ok(d.bytes.equals(Buffer.from(f.stdout, 'utf8')), 'fix.sh is byte for byte what `nsdoctor fix --report` prints');
    await page.getByRole('button', { name: 'Copy the fix script' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), fix.script);
    // Headings still never skip a level with the block shown.
    const levels = await page.evaluate(() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter((x) => x.getClientRects().length).map((x) => Number(x.tagName[1])));
    for (let i = 1; i < levels.length; i++) assert.ok(levels[i] <= levels[i - 1] + 1, `heading h${levels[i]} after h${levels[i - 1]}`);
  });

  await t.test('a healthy host: no block', async () => {
    const f = fixture('debian-12-healthy');
    assert.equal(expectedFix(f.name).status, 'nothing-to-fix');
    await page.setInputFiles('#report-file', f.path);
    await waitForResult(page, path.basename(f.path));
    assert.deepEqual(await fixModel(page), { shown: false, children: 0 });
    assert.ok(await page.locator('#fix-block').isHidden());
    assert.equal(await page.getByRole('link', { name: /fix script/ }).count(), 0);
  });

  await t.test('a container: the printed-only fixes, as the CLI prints them', async () => {
    const f = fixture('docker-wsl2-codex-0117-default-seccomp');
    const fix = expectedFix(f.name);
    assert.equal(fix.status, 'manual');
    assert.equal(f.status, 1);
    await page.setInputFiles('#report-file', f.path);
    await waitForResult(page, path.basename(f.path));
    const block = page.locator('#fix-block');
    assert.ok(await block.isVisible());
    assert.equal(await block.getAttribute('data-status'), 'manual');
    assert.equal(await block.locator('.fix-what').textContent(), fix.message);
    assert.match(await block.locator('.fix-message').textContent(), /fixes to apply by hand/);
    assert.equal(await block.locator('.fix-remediation').count(), 0);
    assert.equal(await block.locator('pre').textContent(), fix.script);
    const d = await downloadBytes(page, page.getByRole('link', { name: 'Download the fix script as fix.sh' }));
    assert.ok(d.bytes.equals(Buffer.from(f.stdout, 'utf8')));
  });

  await t.test('a config override: no script planned for another config', async () => {
    const f = fixture('debian-10-unprivileged-userns-clone-0');
    const cfgPath = path.join(outDir(), 'fix-override-config.json');
    writeFileSync(cfgPath, JSON.stringify({ tool: 'flatpak' }));
    await page.setInputFiles('#report-file', f.path);
    await waitForResult(page, path.basename(f.path));
    await page.setInputFiles('#config-file', cfgPath);
    await waitForResult(page, `${path.basename(f.path)} with config fix-override-config.json`);
    assert.equal(await page.locator('#fix-block').getAttribute('data-status'), 'skipped');
    assert.match(await page.locator('#fix-block .fix-message').textContent(), /config override/);
    assert.equal(await page.locator('#fix-block pre, #fix-block a').count(), 0);
    await page.getByRole('button', { name: 'Clear config' }).click();
    await waitForResult(page, path.basename(f.path));
    assert.equal(await page.locator('#fix-block').getAttribute('data-status'), 'script');
  });

  await t.test('an error text: no block', async () => {
    await page.getByRole('tab', { name: 'Error text' }).click();
    await page.getByRole('textbox', { name: /^Error text/ }).fill('bwrap: setting up uid map: Permission denied\n');
    await page.getByRole('button', { name: 'Diagnose error text' }).click();
    await waitForResult(page, 'pasted error text');
    assert.deepEqual(await fixModel(page), { shown: false, children: 0 });
    await page.getByRole('tab', { name: 'Probe report' }).click();
  });

  await t.test('a report that is refused: no block left over', async () => {
    await uploadBuffer(page, 'wrong.json', '{"schema_version": 2}');
    await waitForError(page, /schema_version/);
    assert.ok(await page.locator('#fix-block').isHidden());
  });

  await assertClean(page, problems);
  await context.close();
});

test('pasting an error text with facts gives the CLI --error-text diagnosis', async (t) => {
  const { page, context, problems } = await openConsole();
  await page.getByRole('tab', { name: 'Error text' }).click();
  for (const s of ERROR_TEXTS) {
    await t.test(s.name, async () => {
      const file = path.join(outDir(), `${s.name}.txt`);
      writeFileSync(file, s.text);
      const args = ['diagnose', '--format', 'json', '--error-text', file];
      for (const [k, v] of Object.entries(s.facts)) args.push('--fact', `${k}=${v}`);
      const r = cli(args);
      assert.ok(r.status === 0 || r.status === 1, r.stderr);
      await page.getByRole('textbox', { name: /^Error text/ }).fill(s.text);
      for (const el of await page.locator('#facts select').all()) await el.selectOption('');
      for (const el of await page.locator('#facts input').all()) await el.fill('');
      for (const [k, v] of Object.entries(s.facts)) {
        const field = page.getByLabel(k, { exact: true });
        if (await field.evaluate((e) => e.tagName === 'SELECT')) await field.selectOption(v);
        else await field.fill(v);
      }
      await page.evaluate(() => { document.getElementById('result').hidden = true; });
      await page.getByRole('button', { name: 'Diagnose error text' }).click();
      await waitForResult(page, 'pasted error text');
      assert.deepEqual(await domModel(page), expectedModel(JSON.parse(r.stdout)));
    });
  }
  await t.test('an empty text is a visible error', async () => {
    await page.getByRole('textbox', { name: /^Error text/ }).fill('   ');
    await page.getByRole('button', { name: 'Diagnose error text' }).click();
    await waitForError(page, /error text is empty/);
  });
  await assertClean(page, problems);
  await context.close();
});

test('rules: every rule listed, its explain doc readable', async () => {
  const rules = JSON.parse(cli(['rules', '--format', 'json']).stdout);
  const { page, context, problems } = await openConsole();
  await page.getByRole('tab', { name: 'Rules' }).click();
  assert.equal(await page.locator('#rule-list button').count(), rules.length);
  for (const rule of [rules[0], rules[Math.floor(rules.length / 2)], rules[rules.length - 1]]) {
    await page.locator(`#rule-list button[data-code="${rule.code}"]`).click();
    const doc = page.locator('#rule-doc');
    assert.equal(await doc.locator('h3 .rule-code').textContent(), rule.code);
    assert.equal(await doc.locator('h3 .rule-name').textContent(), rule.name);
    assert.equal(await doc.locator('.rule-title').textContent(), rule.title);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'rule-doc');
    const text = await doc.locator('.doc').textContent();
    const body = rule.doc.replace(/^#\s[^\n]*\n/, ''); // its `# CODE name` line is the h3
    for (const line of body.split('\n')) {
      const m = line.match(/^#{2,6}\s+(.*)$/);
      if (m) assert.ok(await doc.locator('h4, h5, h6').filter({ hasText: m[1].replace(/`/g, '') }).count() > 0, `heading ${m[1]}`);
    }
    for (const word of body.replace(/[`*#|[\]()]/g, ' ').split(/\s+/).filter((w) => w.length > 3).slice(0, 40)) {
      assert.ok(text.includes(word), `${rule.code} doc shows "${word}"`);
    }
  }
  // From a finding to its rule.
  const blocked = diagnosed().find((f) => f.diagnosis.findings.length);
  if (blocked) {
    await page.getByRole('tab', { name: 'Probe report' }).click();
    await page.setInputFiles('#report-file', blocked.path);
    await waitForResult(page, path.basename(blocked.path));
    const code = blocked.diagnosis.findings[0].code;
    await page.getByRole('button', { name: `Read rule ${code}` }).click();
    assert.equal(await page.getByRole('tab', { name: 'Rules' }).getAttribute('aria-selected'), 'true');
    assert.equal(await page.locator('#rule-doc h3 .rule-code').textContent(), code);
  }
  await assertClean(page, problems);
  await context.close();
});

test('keyboard and screen reader: focus order, tabs with arrow keys, labels, headings', async () => {
  const { page, context, problems } = await openConsole();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  const active = () => page.evaluate(() => {
    const a = document.activeElement;
    return { id: a.id, role: a.getAttribute('role'), text: a.textContent.trim().slice(0, 40), tag: a.tagName };
  });
  await page.keyboard.press('Tab');
  assert.equal((await active()).text, 'Skip to the diagnosis');
  await page.keyboard.press('Tab');
  assert.deepEqual(await active(), { id: 'tab-report', role: 'tab', text: 'Probe report', tag: 'BUTTON' });
  await page.keyboard.press('Tab');
  assert.equal((await active()).id, 'report-file', 'the file input follows the selected tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('ArrowRight');
  assert.equal((await active()).id, 'tab-error');
  assert.equal(await page.getAttribute('#tab-error', 'aria-selected'), 'true');
  assert.ok(await page.locator('#panel-error').isVisible());
  assert.ok(await page.locator('#panel-report').isHidden());
  await page.keyboard.press('Tab');
  assert.equal((await active()).id, 'error-text');
  await page.keyboard.type('bwrap: setting up uid map: Permission denied');
  // Through every fact field to the submit button, then Enter.
  for (let i = 0; i < 40 && (await active()).id !== 'error-submit'; i++) await page.keyboard.press('Tab');
  assert.equal((await active()).id, 'error-submit');
  await page.keyboard.press('Enter');
  await waitForResult(page, 'pasted error text');
  assert.equal((await active()).id, 'result', 'focus moves to the diagnosis');
  await page.focus('#tab-error');
  await page.keyboard.press('End');
  assert.equal((await active()).id, 'tab-rules');
  await page.keyboard.press('Tab');
  assert.equal((await active()).tag, 'BUTTON');
  await page.keyboard.press('Enter');
  assert.equal((await active()).id, 'rule-doc');
  await page.keyboard.press('Shift+Tab');
  await page.focus('#tab-rules');
  await page.keyboard.press('Home');
  assert.equal((await active()).id, 'tab-report');

  // Every control has an accessible name; headings never skip a level; one h1.
  const a11y = await page.evaluate(() => {
    const unnamed = [];
    for (const e of document.querySelectorAll('input, select, textarea')) {
      if (!(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')) unnamed.push(e.outerHTML.slice(0, 80));
    }
    for (const e of document.querySelectorAll('button, a[href]')) {
      if (!(e.getAttribute('aria-label') || e.textContent.trim())) unnamed.push(e.outerHTML.slice(0, 80));
    }
    for (const e of document.querySelectorAll('[role="tabpanel"]')) {
      const by = document.getElementById(e.getAttribute('aria-labelledby'));
      if (!by || by.getAttribute('role') !== 'tab') unnamed.push(`tabpanel ${e.id}`);
    }
    const levels = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter((h) => h.getClientRects().length).map((h) => Number(h.tagName[1]));
    return { unnamed, levels };
  });
  assert.deepEqual(a11y.unnamed, []);
  assert.equal(a11y.levels.filter((l) => l === 1).length, 1);
  for (let i = 1; i < a11y.levels.length; i++) assert.ok(a11y.levels[i] <= a11y.levels[i - 1] + 1, `heading h${a11y.levels[i]} after h${a11y.levels[i - 1]}`);
  assert.equal(await page.getAttribute('#error', 'role'), 'alert');
  assert.equal(await page.getAttribute('#status', 'role'), 'status');
  await assertClean(page, problems);
  await context.close();
});

test('hostile input: markup everywhere, 10 MB, 10 000 deep, invalid UTF-8; no script runs, the page stays usable', async (t) => {
  const good = diagnosed()[0];
  const goodText = readFileSync(good.path, 'utf8');
  const { page, context, problems } = await openConsole();
  const stillUsable = async () => {
    await page.setInputFiles('#report-file', good.path);
    await waitForResult(page, path.basename(good.path));
    assert.deepEqual(await domModel(page), expectedModel(good.diagnosis));
  };

  await t.test('every string in a report is <img onerror>/<script>', async () => {
    for (const f of diagnosed().slice(0, 3)) {
      const hostile = JSON.stringify(replaceStrings(JSON.parse(readFileSync(f.path, 'utf8')), HOSTILE));
      await uploadBuffer(page, `hostile-${f.name}.json`, hostile);
      await page.waitForFunction((s) => !document.getElementById('error').hidden
        || (!document.getElementById('result').hidden && document.getElementById('result-source').textContent === s), `hostile-${f.name}.json`);
      await assertClean(page, problems);
    }
    await stillUsable();
  });

  await t.test('markup in every free-text field of a valid report is shown as text', async () => {
    const r = JSON.parse(goodText);
    r.source = HOSTILE;
    r.producer = HOSTILE;
    r.config = { ...(r.config || {}), tool: HOSTILE, bwrap_path: HOSTILE, launcher: HOSTILE, unit: HOSTILE, service_user: HOSTILE };
    r.observed_error = `${HOSTILE}\nbwrap: setting up uid map: Permission denied`;
    const name = '<img src=x onerror=alert(1)>.json';
    await uploadBuffer(page, name, JSON.stringify(r));
    await page.waitForFunction(() => !document.getElementById('result').hidden || !document.getElementById('error').hidden);
    assert.ok(await page.locator('#result').isVisible(), await page.locator('#error').textContent());
    assert.equal(await page.textContent('#result-source'), name);
    assert.equal(await page.locator('#config dd').first().textContent(), HOSTILE);
    const file = path.join(outDir(), 'hostile-fields.json');
    writeFileSync(file, JSON.stringify(r));
    const fix = cli(['fix', '--report', file]);
    assert.ok(fix.status === 0 || fix.status === 1, fix.stderr);
    const shown = await fixModel(page);
    assert.equal(shown.shown ? shown.script : '', fix.stdout, 'the fix script is shown as text, as the CLI prints it');
    await assertClean(page, problems);
  });

  await t.test('markup, controls and bidi in a pasted error text and facts', async () => {
    await page.getByRole('tab', { name: 'Error text' }).click();
    await page.locator('#error-text').fill(`${HOSTILE}\u202e\u0007\nbwrap: No permissions to create new namespace`);
    await page.getByLabel('tool', { exact: true }).fill('<b onmouseover=alert(1)>x</b>');
    await page.getByRole('button', { name: 'Diagnose error text' }).click();
    await waitForResult(page, 'pasted error text');
    assert.equal(await page.locator('#config dd').first().textContent(), '<b onmouseover=alert(1)>x</b>');
    assert.equal(await page.locator('main b').count(), 0);
    await page.getByLabel('tool', { exact: true }).fill('');
    await page.getByRole('tab', { name: 'Probe report' }).click();
    await assertClean(page, problems);
  });

  await t.test('a 10 MB file', async () => {
    const big = `{"schema_version":1,"source":"${'A'.repeat(10 * 1024 * 1024)}"}`;
    await uploadBuffer(page, 'big.json', big);
    await waitForError(page, /too large/);
    await assertClean(page, problems);
    await stillUsable();
  });

  await t.test('JSON nested 10 000 deep', async () => {
    await uploadBuffer(page, 'deep.json', nestedJson(10000));
    await waitForError(page, /recursion limit|not a JSON object|nested deeper/);
    await uploadBuffer(page, 'deep-object.json', '{"a":'.repeat(10000) + '1' + '}'.repeat(10000));
    await waitForError(page, /recursion limit|not a JSON object|nested deeper/);
    await assertClean(page, problems);
    await stillUsable();
  });

  await t.test('invalid UTF-8 and NUL bytes', async () => {
    await uploadBuffer(page, 'bad-utf8.json', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]));
    await waitForError(page, /not valid UTF-8/);
    await uploadBuffer(page, 'nul.json', Buffer.from('{"schema_version":1,\u0000}'));
    await waitForError(page, /NUL/);
    await uploadBuffer(page, 'bad-config.json', Buffer.from([0xc3, 0x28]), '#config-file');
    await waitForError(page, /not valid UTF-8/);
    assert.ok(await page.getByRole('button', { name: 'Clear config' }).isDisabled(), 'a refused config is not applied');
    await assertClean(page, problems);
    await stillUsable();
  });

  await t.test('not a report at all', async () => {
    await uploadBuffer(page, 'empty.json', '');
    await waitForError(page, /empty/);
    await uploadBuffer(page, 'wrong.json', '{"schema_version": 2}');
    await waitForError(page, /schema_version/);
    await assertClean(page, problems);
    await stillUsable();
  });

  await assertClean(page, problems);
  await context.close();
});

test('screenshot of a rendered blocked report', async (t) => {
  const blocked = diagnosed().filter((f) => f.diagnosis.verdict === 'blocked');
  assert.ok(blocked.length > 0, 'no fixture is diagnosed as blocked');
  // The most telling one: an AppArmor profile to download, then the most kinds of artifact, then most findings.
  const score = (f) => {
    const kinds = new Set(f.diagnosis.findings.flatMap((x) => x.remediations.flatMap((r) => r.files.map((a) => a.kind))));
    return (kinds.has('apparmor-profile') ? 1000 : 0) + kinds.size * 100 + f.diagnosis.findings.length;
  };
  const f = blocked.slice().sort((a, b) => score(b) - score(a))[0];
  const { page, context, problems } = await openConsole();
  await page.setInputFiles('#report-file', f.path);
  await waitForResult(page, path.basename(f.path));
  assert.equal(await page.textContent('#verdict .verdict-value'), 'BLOCKED');
  const shot = path.join(outDir(), 'console-blocked.png');
  await page.screenshot({ path: shot, fullPage: true });
  await page.screenshot({ path: path.join(outDir(), 'console-blocked-top.png') });
  const firstFinding = page.locator('#findings > li.finding').first();
  await firstFinding.screenshot({ path: path.join(outDir(), 'console-blocked-finding.png') });
  t.diagnostic(`screenshot: ${shot} (${f.name})`);
  await assertClean(page, problems);
  await context.close();
});
