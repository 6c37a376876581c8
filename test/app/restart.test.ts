import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as oauth from 'openid-client';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate, agentClient } from '../support/delegation.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

test('a restart on the same data dir keeps orgs, users, agents, grants and tokens', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-restart-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { WRIT_MASTER_KEY: `v1:${randomBytes(32).toString('base64url')}` };

  const first = await startTestWrit({ dataDir, env });
  const seeded = await seedOrg(first);
  const run = await delegate(first, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const jwks = await (await fetch(`${first.issuer}/jwks`)).json();
  await first.stop({ keepData: true });
  // Let the client's pooled sockets to the old server see their close before reusing the port.
  await new Promise((resolve) => setTimeout(resolve, 100));

  // Same data dir, same issuer (same port), same master key: a plain restart.
  const second = await startTestWrit({ dataDir, env: { ...env, PORT: String(first.port) } });
  t.after(() => second.stop());
  assert.equal(second.issuer, first.issuer);
  const config = await agentClient(second, seeded.agent);
  assert.equal((await oauth.tokenIntrospection(config, run.tokens!.access_token)).active, true, 'access tokens survive');
  assert.equal((await second.admin('GET', `/orgs/${seeded.org.id}`)).json.name, 'XCorp');
  assert.equal((await second.admin('GET', `/orgs/${seeded.org.id}/users`)).json.users[0].username, 'john');
  assert.equal((await second.admin('GET', `/orgs/${seeded.org.id}/agents`)).json.agents[0].client_id, seeded.agent.client_id);
  assert.equal((await second.admin('GET', `/orgs/${seeded.org.id}/grants`)).json.grants.length, 1);
  assert.deepEqual((await (await fetch(`${second.issuer}/jwks`)).json()).keys.map((k: any) => k.kid).sort(), jwks.keys.map((k: any) => k.kid).sort(), 'the same signing keys');
  const refreshed = await oauth.refreshTokenGrant(config, run.tokens!.refresh_token!);
  assert.ok(refreshed.access_token);
  assert.equal((await second.admin('POST', `/orgs/${seeded.org.id}/audit/verify`)).json.ok, true);
});

test('first start generates development secrets mode 0600 and warns without printing them', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-secrets-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ WRIT_DATA_DIR: dataDir, PORT: '0' });
  assert.equal(config.generatedSecrets.length, 2);
  for (const file of config.generatedSecrets) assert.equal(statSync(file).mode & 0o777, 0o600);
  const again = loadConfig({ WRIT_DATA_DIR: dataDir, PORT: '0' });
  assert.equal(again.adminToken, config.adminToken, 'reused on the next start');
  assert.equal(again.generatedSecrets.length, 0);

  const logs: string[] = [];
  const { startWrit } = await import('../../src/app/writ.ts');
  const { createLogger } = await import('../../src/core/log.ts');
  const writ = await startWrit(config, { logger: createLogger({ sink: (l) => logs.push(l) }) });
  await writ.close();
  const warning = logs.find((l) => l.includes('generated development secrets'));
  assert.ok(warning);
  assert.ok(warning.includes(join(dataDir, 'admin-token')));
  assert.ok(!logs.join('\n').includes(config.adminToken));
  assert.ok(!logs.join('\n').includes(config.masterKey.slice(3)));
});

test('production mode refuses generated or missing secrets, naming the setting', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-prod-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  assert.throws(() => loadConfig({ WRIT_DATA_DIR: dataDir, NODE_ENV: 'production' }), (err: unknown) => err instanceof ConfigError && err.setting === 'WRIT_ADMIN_TOKEN');
  assert.throws(() => loadConfig({ WRIT_DATA_DIR: dataDir, NODE_ENV: 'production', WRIT_ADMIN_TOKEN: 'a'.repeat(40) }), (err: unknown) => err instanceof ConfigError && err.setting === 'WRIT_MASTER_KEY');
  assert.throws(() => loadConfig({ WRIT_DATA_DIR: dataDir, NODE_ENV: 'production', WRIT_ADMIN_TOKEN: 'a'.repeat(40), WRIT_MASTER_KEY: 'v1:x', WRIT_ISSUER: 'http://writ.example' }), (err: unknown) => err instanceof ConfigError && err.setting === 'WRIT_ISSUER');
  // With real secrets and no WRIT_ISSUER, the issuer would be derived as plain http://localhost.
  assert.throws(() => loadConfig({ WRIT_DATA_DIR: dataDir, NODE_ENV: 'production', WRIT_ADMIN_TOKEN: 'a'.repeat(40), WRIT_MASTER_KEY: 'v1:x' }), (err: unknown) => err instanceof ConfigError && err.setting === 'WRIT_ISSUER' && /https/.test(err.message));
  assert.doesNotThrow(() => loadConfig({ WRIT_DATA_DIR: dataDir, NODE_ENV: 'production', WRIT_ADMIN_TOKEN: 'a'.repeat(40), WRIT_MASTER_KEY: `v1:${'A'.repeat(43)}`, WRIT_ISSUER: 'https://writ.example' }));
  assert.throws(() => loadConfig({ PORT: 'eighty' }), (err: unknown) => err instanceof ConfigError && err.setting === 'PORT');

  // The real entry point exits non-zero and says which setting.
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'serve'], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production', WRIT_DATA_DIR: dataDir, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(stderr, /WRIT_ADMIN_TOKEN/);
});
