// At rest: a copy of the data dir yields no usable delegated token, and only its owner can read
// it. After a full delegation (code, tokens, a refresh, an exchange) with secrets from the
// environment, the bytes of writ.sqlite and its WAL hold no code or token; the data dir is
// 0700 and every file in it 0600.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import * as oauth from 'openid-client';
import { createAdapterClass } from '../../src/as/adapter.ts';
import { bearerDigest } from '../../src/storage/ports/oidc.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { delegate } from '../support/delegation.ts';
import { ACCESS_TOKEN, details, exchange } from '../support/exchange.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

function assertPrivate(dir: string): void {
  assert.equal(mode(dir).toString(8), '700', 'the data dir');
  const files = readdirSync(dir);
  assert.ok(files.includes('writ.sqlite'), files.join(', '));
  for (const f of files) assert.equal(mode(join(dir, f)).toString(8), '600', f);
}

/** The database file and its WAL, as bytes, with the text a token would be stored as. */
function fileBytes(dir: string): Buffer {
  return Buffer.concat(['writ.sqlite', 'writ.sqlite-wal'].map((f) => join(dir, f)).filter(existsSync).map((f) => readFileSync(f)));
}

test('a copy of the data dir holds no delegated code or token, and only its owner can read it', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'writ-at-rest-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  // Secrets from the environment (startTestWrit sets them), a data dir Writ creates itself.
  const dataDir = join(parent, 'data');
  const writ = await startTestWrit({ dataDir });
  let running = true;
  t.after(() => (running ? writ.stop({ keepData: true }) : undefined));
  const seeded = await seedOrg(writ, { tools: ['notion.pages.create'] });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['notion.pages.create'] }] });
  assert.ok(run.tokens && run.callback);
  const code = run.callback.searchParams.get('code')!;
  const refreshed = await oauth.refreshTokenGrant(run.config, run.tokens.refresh_token!);
  const exchanged = await exchange(writ, seeded.agent, { subject_token: refreshed.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['notion.pages.create']) });
  assert.equal(exchanged.status, 200, 'the refreshed token is found by its digest');
  const introspected = await oauth.tokenIntrospection(run.config, refreshed.refresh_token!);
  assert.equal(introspected.active, true);

  const secrets: Record<string, string> = {
    code, 'access token': run.tokens.access_token, 'refresh token': run.tokens.refresh_token!,
    'rotated access token': refreshed.access_token, 'rotated refresh token': refreshed.refresh_token!,
  };

  await t.test('the database file and its WAL hold no code or token, while running and after stop', async () => {
    const check = () => {
      const bytes = fileBytes(dataDir);
      assert.ok(bytes.length > 0);
      for (const [name, value] of Object.entries(secrets)) {
        assert.ok(value.length >= 20, name);
        assert.equal(bytes.indexOf(Buffer.from(value)), -1, `the ${name} is in the file`);
      }
    };
    check();
    const db = new DatabaseSync(join(dataDir, 'writ.sqlite'), { readOnly: true });
    const rows = db.prepare('SELECT model, id, payload FROM oidc_models').all() as Array<{ model: string; id: string; payload: string }>;
    db.close();
    const tokens = rows.filter((r) => ['AccessToken', 'RefreshToken', 'AuthorizationCode'].includes(r.model));
    assert.ok(tokens.length >= 3, rows.map((r) => r.model).join(', '));
    for (const r of tokens) {
      assert.match(r.id, /^sha256:[A-Za-z0-9_-]{43}$/, `${r.model} is keyed by a digest`);
      assert.equal(JSON.parse(r.payload).jti, r.id, 'the payload names the digest, not the token');
    }
    assert.ok(rows.some((r) => r.id === bearerDigest(refreshed.refresh_token!)));
    for (const [name, value] of Object.entries(secrets)) assert.ok(!JSON.stringify(rows).includes(value), `the ${name} is in oidc_models`);
    assertPrivate(dataDir);
    running = false;
    await writ.stop({ keepData: true });
    check();
  });

  await t.test('a data dir and files left open by an older release are closed on the next start', async () => {
    chmodSync(dataDir, 0o755);
    for (const f of readdirSync(dataDir)) chmodSync(join(dataDir, f), 0o644);
    // Same port, so the agent's client configuration still names this issuer.
    const again = await startTestWrit({ dataDir, env: { PORT: new URL(writ.issuer).port, WRIT_ADMIN_TOKEN: writ.adminToken, WRIT_MASTER_KEY: writ.masterKey } });
    let stopped = false;
    t.after(() => (stopped ? undefined : again.stop({ keepData: true })));
    assertPrivate(dataDir);
    // The refresh token stored as a digest still works after the restart.
    const next = await oauth.refreshTokenGrant(run.config, refreshed.refresh_token!);
    assert.ok(next.access_token);
    stopped = true;
    await again.stop({ keepData: true });
  });
});

test('rows stored before ids were digests are rekeyed on open, still found by the token, and gone from the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-at-rest-upgrade-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const plain = 'refresh-token-stored-in-plain-0123456789abcdef';
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const before = openSqliteStore(dir);
  // As an older release wrote it: the token is the row id and the payload's jti.
  before.database.run('INSERT INTO oidc_models (model, id, payload, uid, user_code, grant_id, expires_at) VALUES (?, ?, ?, NULL, NULL, ?, ?)',
    'RefreshToken', plain, JSON.stringify({ jti: plain, kind: 'RefreshToken', iat: exp - 3600, exp, grantId: 'grant-1', accountId: 'usr_1', clientId: 'agt_1' }), 'grant-1', exp * 1000);
  await before.close();
  assert.notEqual(fileBytes(dir).indexOf(Buffer.from(plain)), -1, 'the old row is in the file');

  const store = openSqliteStore(dir);
  t.after(() => store.close());
  assert.equal(fileBytes(dir).indexOf(Buffer.from(plain)), -1, 'the plain token is gone from the file and the WAL');
  assert.equal(await store.oidc.find('RefreshToken', plain), undefined);
  const Adapter = createAdapterClass(store.oidc, store.directory, Date.now);
  const refresh = new Adapter('RefreshToken');
  const found = await refresh.find(plain);
  assert.equal(found?.jti, plain, 'oidc-provider gets the token back as its jti');
  assert.equal(await refresh.find(bearerDigest(plain)), undefined, 'a digest copied out of the store finds nothing');
  await refresh.revokeByGrantId('grant-1');
  assert.equal(await refresh.find(plain), undefined, 'revocation by grant still reaches it');
});

test('models read by uid or user code keep working: saved, consumed and destroyed by their stored digest', async (t) => {
  const store = openSqliteStore(':memory:');
  t.after(() => store.close());
  const Adapter = createAdapterClass(store.oidc, store.directory, Date.now);
  const device = new Adapter('DeviceCode');
  await device.upsert('device-code-value-0123456789abcdef', { jti: 'device-code-value-0123456789abcdef', userCode: 'ABCD-EFGH', kind: 'DeviceCode' } as never, 600);
  const byUserCode = await device.findByUserCode('ABCD-EFGH');
  assert.equal(byUserCode?.jti, bearerDigest('device-code-value-0123456789abcdef'));
  await device.upsert(byUserCode!.jti as string, { ...byUserCode, accountId: 'usr_1' } as never, 600);
  await device.consume(byUserCode!.jti as string);
  const found = await device.find('device-code-value-0123456789abcdef');
  assert.equal(found?.accountId, 'usr_1');
  assert.ok(found?.consumed);
  await device.destroy(byUserCode!.jti as string);
  assert.equal(await device.find('device-code-value-0123456789abcdef'), undefined);
  // Sessions are not bearer models: kept by id, found by uid as before.
  const session = new Adapter('Session');
  await session.upsert('session-id', { jti: 'session-id', uid: 'session-uid', kind: 'Session' } as never, 600);
  assert.equal((await session.findByUid('session-uid'))?.jti, 'session-id');
});
