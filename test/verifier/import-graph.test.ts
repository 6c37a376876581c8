import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { reachableFrom } from '../architecture/graph.ts';

// The verifier ships to downstream services as @writ/verifier: its import graph (read by
// dependency-cruiser, as the architecture test reads it) must not reach Koa, MongoDB, oidc-provider
// or Writ's server rooms, and the packages it reaches are exactly the dependencies its package.json
// declares, so the published package brings what its code imports and nothing more. What a project
// that installs the tarball actually gets is checked in test/packages/packages.test.ts.

const FORBIDDEN_PACKAGES = ['koa', 'mongodb', 'oidc-provider', '@koa/router', 'koa-compose'];
const ALLOWED_SRC = ['src/verifier/', 'src/capability/', 'src/rights/', 'src/core/', 'src/errors/'];

const manifest = (workspace: string) => JSON.parse(readFileSync(new URL(`../../src/${workspace}/package.json`, import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>; peerDependencies?: Record<string, string>; exports: Record<string, unknown>;
};

test('src/verifier/index.ts reaches no koa, mongodb, oidc-provider or server code', async () => {
  const { files, packages } = await reachableFrom('src/verifier/index.ts');
  assert.ok(files.includes('src/capability/jwt.ts') && files.includes('src/capability/biscuit-open.ts'), 'the walk follows imports');
  for (const f of files) assert.ok(ALLOWED_SRC.some((prefix) => f.startsWith(prefix)), `${f} is outside the verifier's allowed rooms`);
  for (const p of packages) assert.ok(!FORBIDDEN_PACKAGES.includes(p), `imports ${p}`);
  assert.deepEqual(packages, ['@biscuit-auth/biscuit-wasm', 'jose', 'zod']);
  assert.deepEqual(packages, Object.keys(manifest('verifier').dependencies).sort(), '@writ/verifier declares exactly what its code imports');
});

test('each framework entry point of @writ/verifier reaches only the declared dependencies and its own framework, an optional peer', async () => {
  const { dependencies, peerDependencies = {}, exports } = manifest('verifier');
  for (const framework of ['express', 'fastify', 'hono', 'koa', 'mcp']) {
    assert.ok(exports[`./${framework}`], `@writ/verifier exports ./${framework}`);
    const { packages } = await reachableFrom(`src/verifier/${framework}.ts`);
    const outside = packages.filter((p) => !(p in dependencies));
    for (const p of outside) assert.ok(p in peerDependencies, `${framework}.ts imports ${p}, which is neither a dependency nor a peer`);
    assert.ok(outside.length <= 1, `${framework}.ts imports one framework at most: ${outside.join(', ')}`);
  }
});

test('@writ/client declares exactly what its code imports', async () => {
  const { files, packages } = await reachableFrom('src/client/index.ts');
  for (const f of files) assert.ok(f.startsWith('src/client/') || f.startsWith('src/core/') || f.startsWith('src/errors/'), `${f} is outside the SDK and the kernel`);
  assert.deepEqual(packages, Object.keys(manifest('client').dependencies).sort());
});
