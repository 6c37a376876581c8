// A process killed inside a revocation, between the store update and its commit
// (WRIT_CRASH_POINTS=revocation:1 kills it there every time). The revocation, its feed entries and
// its audit event are one commit: after the restart either all of them exist or none does, and a
// retried DELETE completes it and publishes the entries, however often it is retried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { remoteWrit, seedOrg } from '../support/writ.ts';
import { serveWrit } from '../support/workers.ts';
import { exchange, ACCESS_TOKEN } from '../support/exchange.ts';

test('killed inside a revocation: nothing half-written survives, and a retry revokes, audits once and republishes', { timeout: 120_000 }, async (t) => {
  const crashing = await serveWrit({ WRIT_CRASH_POINTS: 'revocation:1', NODE_ENV: 'test' });
  let served = crashing;
  t.after(() => served.stop());
  const writ = remoteWrit(crashing.issuer, crashing.adminToken);

  const seeded = await seedOrg(writ, { tools: ['demo.notes.list'] });
  const org = seeded.org.id;
  const agent = seeded.agent;
  const grant = (await writ.admin('POST', `/orgs/${org}/agents/${agent.client_id}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.list'] }] })).json;
  const basic = `Basic ${Buffer.from(`${agent.client_id}:${agent.client_secret}`).toString('base64')}`;
  const token = async (form: Record<string, string>, path = '/token') => {
    const res = await fetch(`${writ.issuer}${path}`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
    return { status: res.status, json: await res.json() as any };
  };
  const delegated = (await token({ grant_type: 'client_credentials' })).json.access_token as string;
  const cap = await exchange(writ, agent, { subject_token: delegated, subject_token_type: ACCESS_TOKEN });
  assert.equal(cap.status, 200, JSON.stringify(cap.json));
  const capability = cap.json.access_token as string;
  const jti = JSON.parse(Buffer.from(capability.split('.')[1]!, 'base64url').toString()).jti as string;

  const feedCount = async (id: string) => {
    let n = 0;
    for (let cursor = '0'; ;) {
      const page = await (await fetch(`${writ.issuer}/v1/revocations?since=${cursor}`)).json() as { revoked: Array<{ id: string }>; cursor: string };
      n += page.revoked.filter((e) => e.id === id).length;
      if (page.revoked.length === 0) return n;
      cursor = page.cursor;
    }
  };
  const revokedEvents = async () => ((await writ.admin('GET', `/orgs/${org}/audit?type=grant.revoked&limit=100`)).json.events as unknown[]).length;
  const active = async () => (await token({ token: capability }, '/introspect')).json.active as boolean;

  // The DELETE never gets an answer: the process kills itself before the commit.
  const exited = new Promise((r) => crashing.child.once('exit', (_code, signal) => r(signal)));
  await assert.rejects(writ.admin('DELETE', `/orgs/${org}/grants/${grant.id}`), 'the connection dies with the process');
  assert.equal(await exited, 'SIGKILL');

  served = await serveWrit({ NODE_ENV: 'test' }, crashing);
  // None of it: the grant stands, the capability lives, and neither the feed nor the audit log
  // names a revocation that did not happen.
  const listed = (await writ.admin('GET', `/orgs/${org}/grants`)).json.grants as Array<{ id: string; revoked_at?: string }>;
  assert.equal(listed.find((g) => g.id === grant.id)?.revoked_at, undefined, 'the grant is not half-revoked');
  assert.equal(await active(), true, 'the capability is still alive, as the unanswered DELETE never committed');
  assert.equal(await feedCount(grant.id), 0);
  assert.equal(await revokedEvents(), 0);

  // The retry does all of it at once; a second retry publishes again and audits nothing new.
  assert.equal((await writ.admin('DELETE', `/orgs/${org}/grants/${grant.id}`)).status, 204);
  assert.equal(await active(), false);
  assert.equal(await feedCount(grant.id), 1);
  assert.equal(await feedCount(jti), 1);
  assert.equal(await revokedEvents(), 1);
  assert.equal((await writ.admin('DELETE', `/orgs/${org}/grants/${grant.id}`)).status, 204);
  assert.ok(await feedCount(grant.id) >= 2, 'a retry republishes the grant');
  assert.ok(await feedCount(jti) >= 2, 'and its capabilities');
  assert.equal(await revokedEvents(), 1, 'one revocation, one audit event');
  assert.equal((await writ.admin('POST', `/orgs/${org}/audit/verify`)).json.ok, true);
});
