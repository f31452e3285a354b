// Size budget: wasm + JS glue, gzipped (level 9, like `gzip -9`), must stay within BUDGET_GZ_BYTES.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { BUDGET_GZ_BYTES, PKG } from './helpers.mjs';

test(`wasm + JS glue ≤ ${BUDGET_GZ_BYTES / 1000} KB gzipped`, (t) => {
  const sizes = {};
  for (const f of ['policy_wasm_bg.wasm', 'policy_wasm.js']) {
    const raw = readFileSync(path.join(PKG, f));
    sizes[f] = { raw: raw.length, gz: gzipSync(raw, { level: 9 }).length };
  }
  const raw = sizes['policy_wasm_bg.wasm'].raw + sizes['policy_wasm.js'].raw;
  const gz = sizes['policy_wasm_bg.wasm'].gz + sizes['policy_wasm.js'].gz;
  const line = `size: wasm ${sizes['policy_wasm_bg.wasm'].raw} B raw / ${sizes['policy_wasm_bg.wasm'].gz} B gz, ` +
    `JS glue ${sizes['policy_wasm.js'].raw} B raw / ${sizes['policy_wasm.js'].gz} B gz, ` +
    `total ${raw} B raw / ${gz} B gz (${(gz / 1000).toFixed(1)} KB gz; budget ${BUDGET_GZ_BYTES / 1000} KB)`;
  t.diagnostic(line);
  assert.ok(gz <= BUDGET_GZ_BYTES, `over budget: ${gz} B gz > ${BUDGET_GZ_BYTES} B`);
});
