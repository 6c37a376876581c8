import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The verifier ships to downstream services: its import graph must not reach Koa, MongoDB,
// oidc-provider or Writ's server-side rooms.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FORBIDDEN_PACKAGES = ['koa', 'mongodb', 'oidc-provider', '@koa/router', 'koa-body'];
const ALLOWED_SRC = ['src/verifier/', 'src/capability/', 'src/core/', 'src/errors/'];

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) {
    specifiers.push((match[1] ?? match[2] ?? match[3])!);
  }
  return specifiers;
}

test('src/verifier/index.ts reaches no koa, mongodb, oidc-provider or server code', () => {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [resolve(root, 'src/verifier/index.ts')];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
    }
  }
  const files = [...seen].map((f) => f.slice(root.length + 1));
  assert.ok(files.includes('src/capability/jwt.ts') && files.includes('src/capability/biscuit-open.ts'), 'the walk follows imports');
  for (const f of files) assert.ok(ALLOWED_SRC.some((prefix) => f.startsWith(prefix)), `${f} is outside the verifier's allowed rooms`);
  for (const p of packages) assert.ok(!FORBIDDEN_PACKAGES.includes(p), `imports ${p}`);
  const external = [...packages].filter((p) => !p.startsWith('node:')).sort();
  assert.deepEqual(external, ['@biscuit-auth/biscuit-wasm', 'jose', 'zod']);
});
