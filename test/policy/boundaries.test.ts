// Policy is pure: the decision code imports only plain data helpers, and nothing under
// src/policy reaches for HTTP, storage or the OAuth server. files.ts is the one place with I/O.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../src/policy/', import.meta.url));

function importsOf(file: string): string[] {
  const text = readFileSync(DIR + file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
}

test('engine.ts depends only on the shared rights shape, the schema limits, the approval rules and the types', () => {
  assert.deepEqual(new Set(importsOf('engine.ts')), new Set(['../rights/rights.ts', './schema.ts', './approval.ts', './types.ts']));
  assert.deepEqual(new Set(importsOf('approval.ts')), new Set(['../rights/rights.ts', './types.ts']));
});

test('no policy module imports Koa, oidc-provider, storage, network or other rooms', () => {
  const forbidden = /^(koa|oidc-provider|mongodb|node:(http|https|net|dns|sqlite|child_process)|\.\.\/(storage|as|exchange|vault|executor|app)\b)/;
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts'))) {
    for (const spec of importsOf(file)) assert.doesNotMatch(spec, forbidden, `${file} imports ${spec}`);
  }
});

test('only files.ts touches the file system', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts') && f !== 'files.ts')) {
    for (const spec of importsOf(file)) assert.doesNotMatch(spec, /^node:fs/, `${file} imports ${spec}`);
  }
  assert.ok(importsOf('files.ts').some((s) => s.startsWith('node:fs')));
});
