// nsdoctor web console. Every string from a report, an error text or the engine is put into the page with
// textContent / Text nodes (never as HTML); the CSP in index.html forbids inline script on top of that.
import init, * as nsd from '../pkg/policy_wasm.js';

/** Files above this are refused before reading (the engine's own limit is far lower and reported precisely). */
const READ_CAP = 64 * 1024 * 1024;

const $ = (id) => document.getElementById(id);

/** Creates an element; `text` sets textContent, `attrs` go through setAttribute; children are nodes or strings. */
function h(tag, opts = {}, ...children) {
  const e = document.createElement(tag);
  if (opts.class) e.className = opts.class;
  if (opts.text !== undefined) e.textContent = opts.text;
  for (const [k, v] of Object.entries(opts.attrs || {})) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const state = { report: null, config: null, blobUrls: [] };

// ---------------------------------------------------------------- status, errors

function announce(message) {
  const s = $('status');
  s.textContent = '';
  // A fresh text node so repeated identical messages are announced again.
  setTimeout(() => { s.textContent = message; }, 30);
}

function showError(context, message) {
  const box = $('error');
  box.replaceChildren(h('strong', { text: context }), ': ', h('span', { class: 'error-message', text: message }));
  box.hidden = false;
  $('result').hidden = true;
}

function clearError() {
  $('error').hidden = true;
  $('error').replaceChildren();
}

/** Calls the engine; returns the parsed value or `{ error: { kind, message } }`. Never throws. */
function call(fn, ...args) {
  let text;
  try {
    text = fn(...args);
  } catch (e) {
    return { error: { kind: 'internal', message: `the engine failed (${String(e && e.message || e)}); reload the page` } };
  }
  try {
    return { value: JSON.parse(text), text };
  } catch {
    return { error: { kind: 'internal', message: 'the engine returned something that is not JSON' } };
  }
}

// ---------------------------------------------------------------- clipboard and downloads

async function copyText(text, button) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    const ta = h('textarea', { class: 'visually-hidden', attrs: { 'aria-hidden': 'true', tabindex: '-1' } });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    button.focus();
  }
  const label = button.textContent;
  button.textContent = ok ? 'Copied' : 'Copy failed';
  announce(ok ? 'Copied to the clipboard' : 'Copying failed: select the text and press Ctrl+C');
  setTimeout(() => { button.textContent = label; }, 1500);
}

function copyButton(text, what, label = 'Copy') {
  const b = h('button', { class: 'copy', text: label, attrs: { type: 'button', 'aria-label': `Copy ${what}` } });
  b.addEventListener('click', () => copyText(text, b));
  return b;
}

function safeFileName(path, fallback) {
  const base = String(path).split('/').filter(Boolean).pop() || '';
  const clean = base.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 100);
  return clean || fallback;
}

function downloadLink(content, fileName, type, what) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  state.blobUrls.push(url);
  const a = h('a', { class: 'download', text: `Download ${fileName}`, attrs: { href: url, download: fileName, type } });
  if (what) a.setAttribute('aria-label', `Download ${what} as ${fileName}`);
  return a;
}

function releaseDownloads() {
  for (const u of state.blobUrls) URL.revokeObjectURL(u);
  state.blobUrls = [];
}

// ---------------------------------------------------------------- rendering a diagnosis

const KIND_LABELS = {
  'apparmor-profile': 'AppArmor profile',
  'sysctl-d': 'sysctl.d file',
  'systemd-dropin': 'systemd drop-in',
  'docker-run': 'docker run options',
  compose: 'Compose snippet',
  kubernetes: 'Kubernetes snippet',
  'selinux-module': 'SELinux module',
  text: 'text',
};

function codeBlock(text, cls) {
  return h('pre', { class: cls || 'code' }, h('code', { text }));
}

function letter(i) {
  return String.fromCharCode(97 + (i % 26));
}

function renderRemediation(r, i, finding) {
  const li = h('li', { class: 'remediation', attrs: { 'data-id': String(r.id) } });
  const fix = `fix ${letter(i)} of ${finding.code}`;
  li.append(h('h6', { class: 'remediation-title' }, h('span', { class: 'fix-letter', text: `Fix ${letter(i)}: ` }), h('span', { class: 'remediation-name', text: r.title })));
  li.append(h('p', { class: 'flags' },
    h('span', { class: r.needs_root ? 'flag root' : 'flag', text: r.needs_root ? 'needs root' : 'no root needed' }), ' · ',
    h('span', { class: 'flag', text: r.persists ? 'persists across reboot' : 'until reboot or undone' })));
  li.append(h('p', { class: 'trade-off' }, h('strong', { text: 'Trade-off: ' }), r.trade_off));
  for (const f of r.files) {
    const name = safeFileName(f.path, 'artifact.txt');
    const kind = KIND_LABELS[f.kind] || String(f.kind);
    li.append(h('div', { class: 'artifact', attrs: { 'data-kind': String(f.kind) } },
      h('p', { class: 'artifact-head' }, h('span', { class: 'kind', text: kind }), ' ', h('code', { class: 'artifact-path', text: f.path })),
      codeBlock(f.content, 'code artifact-content'),
      h('div', { class: 'actions' },
        copyButton(f.content, `${kind} ${f.path}`),
        downloadLink(f.content, name, 'application/octet-stream', `${kind} ${f.path}`))));
  }
  if (r.commands.length) {
    const cmds = r.commands.join('\n');
    li.append(h('div', { class: 'commands' },
      h('p', { class: 'label', text: 'Run:' }), codeBlock(cmds, 'code shell'),
      h('div', { class: 'actions' }, copyButton(cmds, `commands of ${fix}`))));
  }
  if (r.verify.length) {
    const v = r.verify.join('\n');
    li.append(h('div', { class: 'verify' },
      h('p', { class: 'label', text: 'Check that it worked:' }), codeBlock(v, 'code shell'),
      h('div', { class: 'actions' }, copyButton(v, `check commands of ${fix}`))));
  }
  return li;
}

function renderFinding(f) {
  const li = h('li', { class: 'finding', attrs: { 'data-code': String(f.code), 'data-severity': String(f.severity), 'data-cause': String(f.cause) } });
  const art = h('article', { attrs: { 'aria-labelledby': `finding-${f.rank}` } });
  art.append(h('h4', { attrs: { id: `finding-${f.rank}` } },
    h('span', { class: 'rank', text: `${f.rank}. ` }),
    h('span', { class: 'finding-code', text: f.code }), ' ',
    h('span', { class: 'finding-title', text: f.title })));
  art.append(h('p', { class: 'badges' },
    h('span', { class: `badge sev-${f.severity}`, text: f.severity }),
    h('span', { class: 'badge' }, 'cause ', h('code', { class: 'finding-cause', text: f.cause })),
    h('span', { class: 'badge', text: `confidence ${f.confidence}` }),
    h('span', { class: f.blocking ? 'badge blocking' : 'badge', text: f.blocking ? 'blocking' : 'not blocking' }),
    h('span', { class: 'badge' }, 'rule ', h('code', { text: f.name }))));
  art.append(h('p', { class: 'summary', text: f.summary }));
  if (f.evidence.length) {
    art.append(h('h5', { text: 'Evidence' }));
    const tbody = h('tbody');
    for (const e of f.evidence) {
      tbody.append(h('tr', {}, h('td', {}, h('code', { text: e.pointer })), h('td', {}, h('code', { text: e.observed })), h('td', { text: e.meaning })));
    }
    art.append(h('div', { class: 'table-wrap' }, h('table', { class: 'evidence' },
      h('thead', {}, h('tr', {}, h('th', { text: 'Fact', attrs: { scope: 'col' } }), h('th', { text: 'Observed', attrs: { scope: 'col' } }), h('th', { text: 'Meaning', attrs: { scope: 'col' } }))),
      tbody)));
  }
  art.append(h('p', { class: 'ranking' }, h('strong', { text: 'Ranked here because: ' }), f.ranking));
  if (f.remediations.length) {
    art.append(h('h5', { text: 'Fixes, least privilege first' }));
    const ol = h('ol', { class: 'remediations' });
    f.remediations.forEach((r, i) => ol.append(renderRemediation(r, i, f)));
    art.append(ol);
  }
  const explainBtn = h('button', { class: 'explain', text: `Read rule ${f.code}`, attrs: { type: 'button' } });
  explainBtn.addEventListener('click', () => { selectTab('tab-rules', true); showRule(f.code, true); });
  art.append(h('p', {}, explainBtn));
  li.append(art);
  return li;
}

function configEntries(c) {
  const ns = Object.entries(c.namespaces || {}).filter(([, on]) => on).map(([k]) => k).join(' + ') || 'none';
  const rows = [['Tool', c.tool], ['Network', c.network], ['Namespaces', ns]];
  for (const [label, key] of [['Launcher', 'launcher'], ['bwrap', 'bwrap_path'], ['Service user', 'service_user'], ['Manager', 'manager'], ['Unit', 'unit'], ['Container runtime', 'container_runtime']]) {
    if (c[key] !== undefined && c[key] !== null && !(key === 'manager' && c[key] === 'none')) rows.push([label, c[key]]);
  }
  return rows;
}

/**
 * The "Fix script" block: `fixScript`'s answer for a probe report (`{status, remediation, message, script}`), or
 * `{ skipped }` with the reason there is none to show; `undefined` (an error text) hides the block.
 */
function showFix(fix) {
  const block = $('fix-block');
  const box = $('fix');
  box.replaceChildren();
  block.hidden = true;
  block.removeAttribute('data-status');
  if (!fix) return false;
  if (fix.skipped) {
    box.append(h('p', { class: 'fix-message', text: fix.skipped }));
    block.setAttribute('data-status', 'skipped');
    block.hidden = false;
    return false;
  }
  const status = String(fix.status);
  if (status !== 'script' && status !== 'manual') return false;
  const script = String(fix.script);
  const message = String(fix.message);
  const line = h('p', { class: 'fix-message' }, h('strong', { class: 'fix-what', text: message }));
  if (status === 'script') {
    if (fix.remediation) line.append(' (remediation ', h('code', { class: 'fix-remediation', text: String(fix.remediation) }), ')');
    line.append('. This is the script ', h('code', { text: 'nsdoctor fix' }), ' prints: it checks, applies, verifies with '
      + 'nsdoctor and undoes itself if the sandbox is still blocked. Read it, then run it as root: ',
    h('code', { class: 'cmd', text: 'sh fix.sh' }), '; ', h('code', { class: 'cmd', text: 'sh fix.sh --check' }), ' only checks, ',
    h('code', { class: 'cmd', text: 'sh fix.sh --undo' }), ' restores.');
  } else {
    line.append(/[.!?]$/.test(message) ? ' ' : '. ', 'Below are the fixes to apply by hand, as ', h('code', { text: 'nsdoctor fix' }),
      ' prints them: a commented script that changes nothing (it only exits 1).');
  }
  const lines = script.split('\n').length - (script.endsWith('\n') ? 1 : 0);
  box.append(line,
    h('details', { class: 'fix-script' },
      h('summary', { text: `Show the ${status === 'script' ? 'script' : 'commented fixes'} (${lines} lines)` }),
      codeBlock(script, 'code shell fix-script-content')),
    h('div', { class: 'actions' },
      downloadLink(script, 'fix.sh', 'text/x-shellscript', 'the fix script'),
      copyButton(script, 'the fix script')));
  block.setAttribute('data-status', status);
  block.hidden = false;
  return status === 'script';
}

function showDiagnosis(d, json, source, fix) {
  clearError();
  releaseDownloads();
  $('result-source').textContent = source;
  const v = $('verdict');
  v.setAttribute('data-verdict', String(d.verdict));
  v.replaceChildren(h('span', { class: 'verdict-label', text: 'Verdict: ' }), h('strong', { class: 'verdict-value', text: String(d.verdict).toUpperCase() }));
  $('headline').textContent = d.headline;
  const dl = $('config');
  dl.replaceChildren();
  for (const [k, val] of configEntries(d.config || {})) dl.append(h('dt', { text: k }), h('dd', { text: String(val) }));
  $('findings-heading').textContent = `Findings (${d.findings.length})`;
  $('no-findings').hidden = d.findings.length > 0;
  $('findings').replaceChildren(...d.findings.map(renderFinding));
  const applicable = showFix(fix);
  const confirm = d.confirm || [];
  $('confirm-block').hidden = confirm.length === 0;
  $('confirm').replaceChildren();
  if (confirm.length) {
    const text = confirm.join('\n');
    $('confirm').append(codeBlock(text, 'code shell'), h('div', { class: 'actions' }, copyButton(text, 'confirmation commands')));
  }
  const exports = $('exports');
  exports.replaceChildren();
  const stem = safeFileName(source.replace(/\.json$/i, ''), 'nsdoctor') + '.diagnosis';
  const formats = [['json', 'JSON', 'application/json', json], ['markdown', 'Markdown', 'text/markdown;charset=utf-8'], ['text', 'plain text', 'text/plain;charset=utf-8'], ['html', 'HTML fragment', 'text/html;charset=utf-8']];
  for (const [fmt, label, type, given] of formats) {
    const body = given ?? nsd.render(json, fmt);
    const ext = { json: 'json', markdown: 'md', text: 'txt', html: 'html' }[fmt];
    exports.append(downloadLink(body, `${stem}.${ext}`, type, `the diagnosis as ${label}`));
  }
  const md = nsd.render(json, 'markdown');
  exports.append(copyButton(md, 'the diagnosis as Markdown (for an issue comment)', 'Copy as Markdown'));
  const result = $('result');
  result.hidden = false;
  announce(`Diagnosis ready: ${String(d.verdict).toUpperCase()}. ${d.headline}${applicable ? ' A fix script is available.' : ''}`);
  result.focus();
}

function handleResult(r, source, context, planFix) {
  if (r.error) {
    showError(context, r.error.message);
    return false;
  }
  const v = r.value;
  if (v && v.error) {
    showError(context, String(v.error.message));
    return false;
  }
  showDiagnosis(v, r.text, source, planFix ? planFix() : undefined);
  return true;
}

// ---------------------------------------------------------------- probe report input

function runReport() {
  if (!state.report) return;
  const label = state.config ? `${state.report.name} with config ${state.config.name}` : state.report.name;
  const r = call(nsd.diagnose, state.report.bytes, state.config ? state.config.text : undefined);
  handleResult(r, label, `Could not diagnose ${label}`, () => fixFor(state.report.bytes, !!state.config));
}

/** `nsdoctor fix --report` for the diagnosed report (only once it diagnosed): what `showFix` takes. */
function fixFor(bytes, overridden) {
  // fixScript plans from the report's own config, as `nsdoctor fix --report` without --config does; next to a
  // diagnosis made with another config it would answer a different question.
  if (overridden) {
    return { skipped: 'No fix script while a config override is loaded: it is planned from the config carried in the report. Clear the override to see it, or run nsdoctor fix --report REPORT.json --config CONFIG.json.' };
  }
  const r = call(nsd.fixScript, bytes);
  const err = r.error || (r.value && r.value.error);
  if (err) return { skipped: `No fix script: ${String(err.message)}` };
  return r.value;
}

async function readFile(file) {
  if (file.size > READ_CAP) throw new Error(`the file is ${file.size} bytes; that cannot be a probe report`);
  return new Uint8Array(await file.arrayBuffer());
}

async function loadReport(file) {
  if (!file) return;
  try {
    state.report = { name: file.name, bytes: await readFile(file) };
  } catch (e) {
    state.report = null;
    showError(`Could not read ${file.name}`, String(e.message || e));
    return;
  }
  runReport();
}

async function loadConfig(file) {
  if (!file) return;
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(file));
  } catch (e) {
    showError(`Could not read config ${file.name}`, e instanceof TypeError ? 'config is not valid UTF-8' : String(e.message || e));
    return;
  }
  state.config = { name: file.name, text };
  $('config-clear').disabled = false;
  announce(`Config ${file.name} loaded`);
  runReport();
}

function setupReportInput() {
  const input = $('report-file');
  input.addEventListener('change', () => loadReport(input.files[0]));
  const cfg = $('config-file');
  cfg.addEventListener('change', () => loadConfig(cfg.files[0]));
  $('config-clear').addEventListener('click', () => {
    state.config = null;
    cfg.value = '';
    $('config-clear').disabled = true;
    announce('Config override cleared');
    runReport();
  });
  const zone = $('drop-zone');
  const over = (e) => { e.preventDefault(); zone.classList.add('dragging'); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; };
  zone.addEventListener('dragenter', over);
  zone.addEventListener('dragover', over);
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file) loadReport(file);
  });
  // A file dropped elsewhere must not make the browser navigate away from the console.
  for (const t of ['dragover', 'drop']) document.addEventListener(t, (e) => { if (!zone.contains(e.target)) e.preventDefault(); });
}

// ---------------------------------------------------------------- error text input

function setupErrorText() {
  const keys = call(nsd.factKeys);
  const box = $('facts');
  for (const { key, help } of keys.value || []) {
    const id = `fact-${key}`;
    const hintId = `${id}-hint`;
    const wrap = h('div', { class: 'fact' }, h('label', { text: key, attrs: { for: id } }));
    const choices = /^[\w.+~-]+(\|[\w.+~-]+)+$/.test(help) ? help.split('|') : null;
    let field;
    if (choices) {
      field = h('select', { attrs: { id, name: key } }, h('option', { text: 'not known', attrs: { value: '' } }), ...choices.map((c) => h('option', { text: c, attrs: { value: c } })));
    } else {
      field = h('input', { attrs: { id, name: key, type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': hintId } });
      wrap.append(field, h('p', { class: 'hint', text: help, attrs: { id: hintId } }));
    }
    if (choices) wrap.append(field);
    box.append(wrap);
  }
  $('error-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const facts = {};
    for (const f of box.querySelectorAll('input, select')) if (f.value.trim() !== '') facts[f.name] = f.value.trim();
    const r = call(nsd.diagnoseErrorText, $('error-text').value, JSON.stringify(facts));
    handleResult(r, 'pasted error text', 'Could not diagnose the error text');
  });
}

// ---------------------------------------------------------------- rules and their docs

/** Inline Markdown (`code`, **bold**) → nodes. Link targets are kept as text. */
function inline(text) {
  const out = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)]+)\)/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1] !== undefined) out.push(h('code', { text: m[1] }));
    else if (m[2] !== undefined) out.push(h('strong', { text: m[2] }));
    else out.push(`${m[3]} (${m[4]})`);
    last = re.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** A small, safe Markdown subset (headings, paragraphs, lists, fences, tables as text) → DOM nodes. */
function markdown(md) {
  const nodes = [];
  const lines = md.replace(/\r\n?/g, '\n').split('\n');
  let para = [];
  let list = null;
  const flush = () => {
    if (para.length) nodes.push(h('p', {}, ...inline(para.join(' '))));
    para = [];
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = line.match(/^\s*(`{3,}|~{3,})/);
    if (fence) {
      flush();
      const body = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(fence[1]); i++) body.push(lines[i]);
      nodes.push(codeBlock(body.join('\n')));
      continue;
    }
    const head = line.match(/^(#{1,6})\s+(.*)$/);
    if (head) {
      flush();
      const level = Math.min(6, head[1].length + 2); // the doc's `##` sits under the rule's h3
      nodes.push(h(`h${Math.max(4, level)}`, {}, ...inline(head[2])));
      continue;
    }
    if (/^\s*\|/.test(line)) {
      flush();
      const rows = [];
      for (; i < lines.length && /^\s*\|/.test(lines[i]); i++) rows.push(lines[i]);
      i--;
      nodes.push(codeBlock(rows.join('\n')));
      continue;
    }
    const item = line.match(/^\s*(?:[-*]|(\d+)[.)])\s+(.*)$/);
    if (item) {
      if (para.length) flush();
      const tag = item[1] ? 'ol' : 'ul';
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = h(tag);
        nodes.push(list);
      }
      list.append(h('li', {}, ...inline(item[2])));
      continue;
    }
    if (line.trim() === '') { flush(); continue; }
    if (list && /^\s+/.test(line)) {
      list.lastChild.append(' ', ...inline(line.trim()));
      continue;
    }
    list = null;
    para.push(line.trim());
  }
  flush();
  return nodes;
}

/**
 * The rule docs and schemas are not in the engine: they are the docs asset next to it, fetched the first time a
 * rule's doc is opened (a rejected fetch is retried on the next click).
 */
let docsAsset = null;
function docs() {
  if (!docsAsset) {
    docsAsset = fetch(new URL('../pkg/policy_wasm_docs.json', import.meta.url)).then((res) => {
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.text();
    });
    docsAsset.catch(() => { docsAsset = null; });
  }
  return docsAsset;
}

async function showRule(code, focus) {
  const doc = $('rule-doc');
  // Focus moves at once; the doc fills in when the asset is there (aria-live announces it).
  if (focus) doc.focus();
  let text;
  try {
    text = await docs();
  } catch (e) {
    doc.replaceChildren(h('p', { class: 'error-message', text: `The rule docs could not be loaded: ${String(e && e.message || e)}` }));
    return;
  }
  const r = call(nsd.explain, code, text);
  if (r.error || (r.value && r.value.error)) {
    doc.replaceChildren(h('p', { class: 'error-message', text: (r.error || r.value.error).message }));
    return;
  }
  const rule = r.value;
  for (const b of document.querySelectorAll('#rule-list button')) b.setAttribute('aria-current', String(b.dataset.code === rule.code));
  doc.replaceChildren(
    h('h3', { attrs: { id: 'rule-doc-title' } }, h('span', { class: 'rule-code', text: rule.code }), ' ', h('span', { class: 'rule-name', text: rule.name })),
    h('p', { class: 'rule-title', text: rule.title }),
    h('p', { class: 'badges' }, h('span', { class: `badge sev-${rule.severity}`, text: rule.severity }), h('span', { class: 'badge' }, 'cause ', h('code', { text: rule.cause }))),
    // The doc's own `# CODE name` title line repeats the h3 above.
    h('div', { class: 'doc' }, ...markdown(rule.doc.replace(/^#\s[^\n]*\n/, ''))));
  doc.setAttribute('aria-labelledby', 'rule-doc-title');
}

function setupRules() {
  const r = call(nsd.rules);
  const list = $('rule-list');
  for (const rule of r.value || []) {
    const b = h('button', { class: 'rule', attrs: { type: 'button', 'data-code': rule.code, 'aria-current': 'false' } },
      h('span', { class: 'rule-code', text: rule.code }), ' ', h('span', { class: 'rule-title', text: rule.title }));
    b.addEventListener('click', () => showRule(rule.code, true));
    list.append(h('li', {}, b));
  }
}

// ---------------------------------------------------------------- tabs (WAI-ARIA tabs, automatic activation)

function selectTab(id, focus) {
  for (const t of document.querySelectorAll('[role="tab"]')) {
    const on = t.id === id;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute('aria-controls')).hidden = !on;
    if (on && focus) t.focus();
  }
}

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  tabs.forEach((t, i) => {
    t.addEventListener('click', () => selectTab(t.id, true));
    t.addEventListener('keydown', (e) => {
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      selectTab(tabs[(next + tabs.length) % tabs.length].id, true);
    });
  });
}

// ---------------------------------------------------------------- start

async function main() {
  setupTabs();
  try {
    await init();
  } catch (e) {
    $('loading').textContent = `The diagnosis engine could not be loaded: ${String(e && e.message || e)}`;
    return;
  }
  $('version').textContent = `policy-core ${nsd.version()} (WebAssembly)`;
  setupReportInput();
  setupErrorText();
  setupRules();
  $('loading').remove();
  document.body.dataset.ready = '1';
}

main();
