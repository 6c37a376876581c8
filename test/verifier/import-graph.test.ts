import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reachableFrom } from '../architecture/graph.ts';

// The verifier ships to downstream services: its import graph (read by dependency-cruiser, as the
// architecture test reads it) must not reach Koa, MongoDB, oidc-provider or Writ's server rooms.

const FORBIDDEN_PACKAGES = ['koa', 'mongodb', 'oidc-provider', '@koa/router', 'koa-compose'];
const ALLOWED_SRC = ['src/verifier/', 'src/capability/', 'src/rights/', 'src/core/', 'src/errors/'];

test('src/verifier/index.ts reaches no koa, mongodb, oidc-provider or server code', async () => {
  const { files, packages } = await reachableFrom('src/verifier/index.ts');
  assert.ok(files.includes('src/capability/jwt.ts') && files.includes('src/capability/biscuit-open.ts'), 'the walk follows imports');
  for (const f of files) assert.ok(ALLOWED_SRC.some((prefix) => f.startsWith(prefix)), `${f} is outside the verifier's allowed rooms`);
  for (const p of packages) assert.ok(!FORBIDDEN_PACKAGES.includes(p), `imports ${p}`);
  assert.deepEqual(packages, ['@biscuit-auth/biscuit-wasm', 'jose', 'zod']);
});
