// The folder tree is the architecture: rooms with one-way doors. This test reads every import
// in src/ and fails when a door is used the wrong way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\s)(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

interface Edge { from: string; room: string; target: string; kind: 'room' | 'package' }

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of files(SRC)) {
    const from = relative(SRC, file);
    const room = from.split('/')[0]!;
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.')) {
        const target = relative(SRC, resolve(dirname(file), spec));
        out.push({ from, room, target, kind: 'room' });
      } else if (!spec.startsWith('node:')) {
        out.push({ from, room, target: spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!, kind: 'package' });
      }
    }
  }
  return out;
}

const roomOf = (target: string) => target.split('/')[0]!;

// Rooms every other room may use: the shared kernel.
const KERNEL = new Set(['core', 'errors', 'types']);

/** room -> rooms it may import (besides the kernel and itself). */
const DOORS: Record<string, string[]> = {
  app: ['*'],
  cli: ['app', 'config', 'policy', 'keys', 'storage', 'vault', 'audit', 'capability', 'connectors', 'demo-provider', 'exchange', 'client', 'demo'],
  config: [],
  storage: ['vault', 'connectors', 'capability', 'exchange', 'revocation'],
  audit: ['storage'],
  grants: ['audit', 'storage'],
  keys: ['capability', 'storage'],
  web: [],
  as: ['audit', 'grants', 'storage', 'web', 'exchange', 'capability', 'keys', 'policy', 'revocation'],
  // Users are created with a password hashed the way sign-in checks it (as/passwords.ts).
  admin: ['as', 'audit', 'grants', 'keys', 'storage', 'web', 'policy', 'vault', 'connectors', 'revocation', 'exchange'],
  exchange: ['capability', 'policy', 'storage', 'audit', 'revocation'],
  revocation: ['storage', 'capability'],
  policy: [],
  capability: [],
  verifier: ['capability'],
  vault: ['storage'],
  // The catalog keeps org connectors' client secrets sealed in the vault.
  connectors: ['vault', 'storage'],
  executor: ['verifier', 'capability', 'vault', 'connectors', 'storage', 'audit', 'web', 'revocation'],
  connect: ['audit', 'connectors', 'storage', 'vault', 'web'],
  'demo-provider': [],
  // The quickstart story: a whole Writ and the notes provider, driven as a person and an agent would.
  demo: ['app', 'config', 'demo-provider', 'client'],
  // The admin console: pages (as's page helpers and sign-in form), grants to revoke, policy to explain.
  console: ['as', 'audit', 'grants', 'policy', 'storage', 'web'],
  // Operations: request schemas for the OpenAPI document, store ports to observe.
  ops: ['admin', 'storage'],
  // The agent SDK stands alone: a published subpath with no server code behind it.
  client: [],
};

/** Packages confined to the rooms that own them. */
const PACKAGE_OWNERS: Record<string, string[]> = {
  'oidc-provider': ['as', 'demo-provider', 'types'],
  mongodb: ['storage'],
  koa: ['as', 'admin', 'web', 'app', 'executor', 'revocation', 'connect', 'demo-provider', 'console'],
  '@koa/router': ['as', 'admin', 'app', 'executor', 'revocation', 'connect', 'demo-provider', 'console'],
  'koa-compose': ['app'],
  '@biscuit-auth/biscuit-wasm': ['capability'],
};

test('imports only use the doors the architecture allows', () => {
  const violations: string[] = [];
  for (const e of edges()) {
    if (e.kind === 'room') {
      const to = roomOf(e.target);
      if (to === e.room || KERNEL.has(to)) continue;
      const allowed = DOORS[e.room];
      if (!allowed) { violations.push(`${e.from}: room '${e.room}' has no entry in DOORS`); continue; }
      if (!allowed.includes('*') && !allowed.includes(to)) violations.push(`${e.from} imports ${e.target} (${e.room} → ${to})`);
    } else {
      const owners = PACKAGE_OWNERS[e.target];
      if (owners && !owners.includes(e.room)) violations.push(`${e.from} imports package ${e.target}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('only the composition root opens a storage adapter', () => {
  const offenders = edges().filter((e) => e.kind === 'room' && /^storage\/(sqlite|mongodb)/.test(e.target) && e.room !== 'app' && e.room !== 'storage');
  assert.deepEqual(offenders.map((e) => e.from), []);
});

test('the kernel imports no room', () => {
  const offenders = edges().filter((e) => KERNEL.has(e.room) && e.kind === 'room' && !KERNEL.has(roomOf(e.target)));
  assert.deepEqual(offenders.map((e) => `${e.from} → ${e.target}`), []);
});
