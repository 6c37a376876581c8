// DNS rebinding against an org's identity provider: its host name answers one address when the
// egress check resolves it and another when the socket opens. Every request to the provider goes
// to the address the check approved; the name is not looked up a second time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AuditLog } from '../../src/audit/log.ts';
import { fixedClock } from '../../src/core/clock.ts';
import { isWritError } from '../../src/errors/index.ts';
import { SingleSignOn } from '../../src/sso/service.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { LocalKeyProvider, parseMasterKeyRing } from '../../src/vault/crypto.ts';
import { Vault } from '../../src/vault/service.ts';
import { getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { rebindingLookup, rebindingPair, resolvingAgent } from '../support/rebinding.ts';

test('requests to an org\'s identity provider connect to the address its egress check approved, not to a later DNS answer', async (t) => {
  const pair = await rebindingPair(t);
  if ('skip' in pair) { t.skip(pair.skip); return; }
  // The operator's allow-list lets a loopback provider be called at all; its addresses are still pinned.
  const host = `idp.test:${pair.approved.port}`;
  const lookup = rebindingLookup('127.0.0.1', '127.0.0.2');
  // A plain fetch asks the resolver again when it connects, and here the resolver is the rebinding one.
  const previous = getGlobalDispatcher();
  const resolvingAgain = resolvingAgent(lookup);
  setGlobalDispatcher(resolvingAgain);
  t.after(async () => { setGlobalDispatcher(previous); await resolvingAgain.close(); });
  const store = openSqliteStore(':memory:');
  t.after(() => store.close());
  const clock = fixedClock(Date.parse('2026-12-02T09:00:00Z'));
  const vault = new Vault({ store: store.vault, keys: new LocalKeyProvider(parseMasterKeyRing(`v1:${randomBytes(32).toString('base64url')}`)), clock });
  const sso = new SingleSignOn({
    store: store.sso, directory: store.directory, audit: new AuditLog(store.audit, clock), secrets: vault, clock,
    issuer: 'https://writ.example', allowPrivateHosts: [host], lookup,
  });
  await sso.configure('org_1', {
    issuer: `http://${host}`, client_id: 'writ', client_secret: 'secret-at-the-idp', token_endpoint_auth_method: 'client_secret_basic',
    scopes: ['openid'], claims: { username: 'preferred_username', email: 'email', display_name: 'name', roles: 'groups' },
    admin_values: [], domains: [], local_passwords: true, sensitive_max_age: 300, accept_id_jag: false,
  }, { kind: 'admin' });

  // The approved address answers with no discovery document, so the sign-in cannot start; what
  // matters is where the request went.
  await assert.rejects(sso.begin('org_1', { next: '/account' }), (e) => isWritError(e) && e.code === 'temporarily_unavailable');
  assert.equal(pair.approved.requests(), 1, 'the discovery request reached the approved address');
  assert.equal(pair.rebound.requests(), 0, 'nothing reached the address the name answered later');
  assert.equal(lookup.calls, 1, 'the name is resolved once, by the egress check');
});
