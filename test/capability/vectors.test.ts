import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check } from '../tools/generate-vectors.ts';

const vectors = fileURLToPath(new URL('../vectors/writ/vectors.json', import.meta.url));
const script = fileURLToPath(new URL('../tools/generate-vectors.ts', import.meta.url));

test('the golden vectors are up to date (test/tools/generate-vectors.ts --check exits 0)', () => {
  const out = execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', script, '--check'], { encoding: 'utf8' });
  assert.match(out, /vectors: up to date/);
});

test('the check notices drift in outcomes and in deterministic tokens', async () => {
  const doc = JSON.parse(readFileSync(vectors, 'utf8'));
  assert.ok(doc.cases.length >= 25);
  assert.ok(doc.cases.some((c: { format: string; name: string }) => c.format === 'biscuit' && c.name.includes('attenuated')));
  const dir = mkdtempSync(join(tmpdir(), 'writ-vectors-'));

  const flipped = structuredClone(doc);
  const constraint = flipped.cases.find((c: { name: string }) => c.name === 'biscuit: constraint violated: to');
  constraint.expected = { outcome: 'allow' };
  writeFileSync(join(dir, 'flipped.json'), JSON.stringify(flipped));
  const drift = await check(join(dir, 'flipped.json'));
  assert.ok(drift.some((d) => d.startsWith('biscuit: constraint violated: to: expected')));

  const resigned = structuredClone(doc);
  const jwt = resigned.cases.find((c: { name: string }) => c.name === 'jwt: valid');
  jwt.token = jwt.token.slice(0, -4) + (jwt.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  writeFileSync(join(dir, 'resigned.json'), JSON.stringify(resigned));
  const drift2 = await check(join(dir, 'resigned.json'));
  assert.ok(drift2.some((d) => d.includes('differs from a fresh generation')));
  assert.ok(drift2.some((d) => d.startsWith('jwt: valid:')));
});
