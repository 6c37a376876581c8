// A grant made while its user or agent is being disabled: the consent checked the user just
// before the lifecycle marked them disabled, and writes the grant just after the lifecycle swept
// their grants. Write-then-check in GrantService.create ends such a grant before anyone can use
// it. The interleaving is set up step by step on a real store, no timing involved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../src/audit/log.ts';
import { ConnectorCatalog } from '../../src/connectors/catalog.ts';
import { systemClock } from '../../src/core/clock.ts';
import { newId } from '../../src/core/ids.ts';
import { GrantService } from '../../src/grants/service.ts';
import { Lifecycle } from '../../src/lifecycle/service.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { LocalKeyProvider, parseMasterKeyRing } from '../../src/vault/crypto.ts';
import { Vault } from '../../src/vault/service.ts';

const DETAILS = [{ type: 'tool_access' as const, tools: ['demo.notes.create'] }];

test('a grant written after the lifecycle swept a disabled user or agent ends at once, and says why', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-holders-'));
  const store = openSqliteStore(dir);
  t.after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const clock = systemClock;
  const audit = new AuditLog(store.audit, clock);
  const grants = new GrantService(store.grants, store.oidc, audit, clock);
  const vault = new Vault({ store: store.vault, keys: new LocalKeyProvider(parseMasterKeyRing(`v1:${randomBytes(32).toString('base64url')}`)), clock });
  const lifecycle = new Lifecycle({ directory: store.directory, oidc: store.oidc, grants, vault, catalog: new ConnectorCatalog({ vault }), audit, clock });
  grants.checkHoldersWith(lifecycle.holderCheck);

  const org = { id: newId('org'), name: 'XCorp', created_at: new Date().toISOString() };
  await store.directory.createOrg(org);
  const user = { id: newId('usr'), org_id: org.id, username: 'john', roles: ['member' as const], password_hash: '', created_at: org.created_at };
  await store.directory.createUser(org.id, user);
  const agent = { client_id: newId('agt'), org_id: org.id, name: 'A', redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic' as const, tools: ['demo.notes.create'], created_at: org.created_at };
  await store.directory.createAgent(org.id, agent);

  // An enabled user and agent get their grant.
  const fine = await grants.create(org.id, { id: newId('grt'), user_id: user.id, agent_id: agent.client_id, authorization_details: DETAILS }, { kind: 'user', user_id: user.id });
  assert.equal((await store.grants.getGrant(org.id, fine.id))?.revoked_at, undefined);

  // The consent read John as enabled; then the lifecycle disables him and sweeps; then the consent writes.
  await lifecycle.disableUser(org.id, user.id, { kind: 'admin' }, 'admin');
  const late = newId('grt');
  await assert.rejects(grants.create(org.id, { id: late, user_id: user.id, agent_id: agent.client_id, authorization_details: DETAILS }, { kind: 'user', user_id: user.id }),
    (err: { code?: string }) => err.code === 'access_denied');
  assert.ok((await store.grants.getGrant(org.id, late))?.revoked_at, 'the late grant is revoked');
  const revoked = (await audit.query(org.id, { type: 'grant.revoked', limit: 10 })).find((e) => e.subject.grant_id === late);
  assert.equal(revoked?.details.reason, 'user disabled');

  // The same for an agent disabled while an admin made an org-level grant for it.
  await lifecycle.disableAgent(org.id, agent.client_id, { kind: 'admin' }, 'admin');
  const orgGrant = newId('grt');
  await assert.rejects(grants.create(org.id, { id: orgGrant, agent_id: agent.client_id, authorization_details: DETAILS }, { kind: 'admin' }));
  assert.ok((await store.grants.getGrant(org.id, orgGrant))?.revoked_at);
  assert.deepEqual((await store.grants.listGrants(org.id)).map((g) => g.id), [], 'no grant of theirs is in force');
});
