// The admin API under attack: no token, wrong tokens, another org's ids, mass assignment and
// operator-like values. Each refusal leaves every org's records as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedOrg } from '../support/writ.ts';
import { ledger, scene } from './support.ts';

// Every admin route, with placeholders filled per test. Keep in step with src/admin/.
const ROUTES: Array<[string, string]> = [
  ['POST', '/orgs'], ['GET', '/orgs'], ['GET', '/orgs/:org'],
  ['POST', '/orgs/:org/users'], ['GET', '/orgs/:org/users'],
  ['POST', '/orgs/:org/agents'], ['GET', '/orgs/:org/agents'], ['GET', '/orgs/:org/agents/:agent'], ['DELETE', '/orgs/:org/agents/:agent'],
  ['POST', '/orgs/:org/agents/:agent/org-grants'],
  ['GET', '/orgs/:org/grants'], ['DELETE', '/orgs/:org/grants'], ['DELETE', '/orgs/:org/grants/:grant'],
  ['GET', '/orgs/:org/audit'], ['POST', '/orgs/:org/audit/verify'],
  ['POST', '/resource-servers'], ['GET', '/resource-servers'],
  ['POST', '/orgs/:org/policy/dry-run'], ['POST', '/keys/rotate'],
  ['PUT', '/orgs/:org/connectors/demo'], ['GET', '/orgs/:org/connectors'], ['DELETE', '/orgs/:org/connectors/demo'],
  ['POST', '/orgs/:org/connected-accounts'], ['GET', '/orgs/:org/connected-accounts'], ['DELETE', '/orgs/:org/connected-accounts/:account'],
];

test('every admin route refuses a missing, malformed or wrong admin token with 401 and changes nothing', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const { writ, seeded } = s;
  const grant = (await writ.admin('GET', `/orgs/${seeded.org.id}/grants`)).json.grants[0];
  const before = await ledger(writ, seeded.org.id);
  const orgsBefore = (await writ.admin('GET', '/orgs')).json.orgs.length;
  const headers: Array<[string, Record<string, string>]> = [
    ['no header', {}],
    ['empty bearer', { authorization: 'Bearer ' }],
    ['basic scheme', { authorization: `Basic ${Buffer.from(`admin:${writ.adminToken}`).toString('base64')}` }],
    ['lower-case scheme', { authorization: `bearer ${writ.adminToken}x` }],
    ['a prefix of the token', { authorization: `Bearer ${writ.adminToken.slice(0, -1)}` }],
    ['the token plus a byte', { authorization: `Bearer ${writ.adminToken}x` }],
    ['an agent secret', { authorization: `Bearer ${seeded.agent.client_secret}` }],
    ['a delegated access token', { authorization: `Bearer ${s.subject}` }],
  ];
  for (const [method, template] of ROUTES) {
    const path = template.replace(':org', seeded.org.id).replace(':agent', seeded.agent.client_id).replace(':grant', grant.id).replace(':account', 'acc_x');
    await t.test(`${method} ${template}`, async () => {
      for (const [name, h] of headers) {
        const res = await fetch(`${writ.issuer}/admin/v1${path}`, { method, headers: { ...h, 'content-type': 'application/json' }, body: method === 'GET' ? null : '{"name":"x"}' });
        assert.equal(res.status, 401, `${name}: ${res.status}`);
        const body = await res.json() as any;
        assert.equal(body.error, 'unauthorized');
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
    });
  }
  await t.test('spellings of the admin prefix that a router may still match', async () => {
    for (const path of [`/ADMIN/v1/orgs/${seeded.org.id}/connected-accounts`, `/Admin/V1/orgs/${seeded.org.id}/grants`, `//admin/v1/orgs/${seeded.org.id}/connectors`, `/admin%2Fv1/orgs`]) {
      const res = await fetch(`${writ.issuer}${path}`);
      assert.ok(res.status === 401 || res.status === 404, `${path}: ${res.status}`);
      assert.notEqual(res.status, 200);
    }
  });
  assert.deepEqual(await ledger(writ, seeded.org.id), before, 'no record or event was written');
  assert.equal((await writ.admin('GET', '/orgs')).json.orgs.length, orgsBefore);
});

test('another org\'s ids answer 404 and change nothing in either org', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const { writ, seeded } = s;
  const other = await seedOrg(writ, { name: 'TechCorp', username: 'alice' });
  const grant = (await writ.admin('GET', `/orgs/${seeded.org.id}/grants`)).json.grants[0];
  const mine = await ledger(writ, seeded.org.id);
  const theirs = await ledger(writ, other.org.id);
  const cross: Array<[string, string, unknown?]> = [
    ['GET', `/orgs/${other.org.id}/agents/${seeded.agent.client_id}`],
    ['DELETE', `/orgs/${other.org.id}/agents/${seeded.agent.client_id}`],
    ['POST', `/orgs/${other.org.id}/agents/${seeded.agent.client_id}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] }],
    ['DELETE', `/orgs/${other.org.id}/grants/${grant.id}`],
    ['GET', `/orgs/org_01NOSUCHORG00000000000000/grants`],
    ['DELETE', `/orgs/org_01NOSUCHORG00000000000000/grants/${grant.id}`],
    ['POST', `/orgs/org_01NOSUCHORG00000000000000/users`, { username: 'eve', password: 'long enough pass' }],
  ];
  for (const [method, path, body] of cross) {
    await t.test(`${method} ${path.replace(other.org.id, ':other')}`, async () => {
      const res = await writ.admin(method, path, body);
      assert.equal(res.status, 404, res.text);
      assert.equal(res.json.error, 'not_found');
    });
  }
  assert.deepEqual(await ledger(writ, seeded.org.id), mine);
  assert.deepEqual(await ledger(writ, other.org.id), theirs);
  assert.equal((await writ.admin('GET', `/orgs/${seeded.org.id}/grants`)).json.grants[0].revoked_at, undefined, 'the grant still stands');
  assert.equal((await writ.admin('GET', `/orgs/${seeded.org.id}/agents/${seeded.agent.client_id}`)).status, 200, 'the agent still exists');
  // Listing with a filter that names the other org's user finds nothing of theirs.
  const filtered = await writ.admin('GET', `/orgs/${other.org.id}/grants?user_id=${seeded.user.id}`);
  assert.equal(filtered.status, 200);
  assert.equal(filtered.json.grants.length, 0);
});

test('mass assignment and operator-like values are refused with 400 and write nothing', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const { writ, seeded } = s;
  const org = seeded.org.id;
  const before = await ledger(writ, org);
  const orgsBefore = (await writ.admin('GET', '/orgs')).json.orgs.length;
  const bodies: Array<[string, string, unknown]> = [
    ['POST', '/orgs', { name: 'X', id: 'org_chosen' }],
    ['POST', '/orgs', { name: 'X', created_at: '1970-01-01T00:00:00Z' }],
    ['POST', '/orgs', { name: { $gt: '' } }],
    ['POST', '/orgs', { name: ['a', 'b'] }],
    
    ['POST', '/orgs', '{"name":"X","constructor":{"prototype":{"admin":true}}}'],
    ['POST', '/orgs', '{"name":"X","__proto__":{"admin":true}}'],
    ['POST', `/orgs/${org}/users`, { username: 'eve', password: 'long enough pass', org_id: 'org_other' }],
    ['POST', `/orgs/${org}/users`, { username: 'eve', password: 'long enough pass', id: 'usr_chosen' }],
    ['POST', `/orgs/${org}/users`, { username: 'eve', password: 'long enough pass', roles: ['owner'] }],
    ['POST', `/orgs/${org}/users`, { username: 'eve', password: 'long enough pass', password_hash: 'scrypt$...' }],
    ['POST', `/orgs/${org}/users`, { username: { $ne: null }, password: 'long enough pass' }],
    ['POST', `/orgs/${org}/users`, { username: 'eve$where', password: 'long enough pass' }],
    ['POST', `/orgs/${org}/agents`, { name: 'A', tools: ['demo.notes.create'], client_id: 'agt_chosen' }],
    ['POST', `/orgs/${org}/agents`, { name: 'A', tools: ['demo.notes.create'], client_secret: 'mine' }],
    ['POST', `/orgs/${org}/agents`, { name: 'A', tools: ['demo.notes.create'], org_id: 'org_other' }],
    ['POST', `/orgs/${org}/agents`, { name: 'A', tools: ['*'] }],
    ['POST', `/orgs/${org}/agents`, { name: 'A', tools: [{ $regex: '.*' }] }],
    ['POST', `/orgs/${org}/agents`, { name: 'A', tools: ['demo.notes.create'], redirect_uris: ['javascript:alert(1)'] }],
    ['POST', `/orgs/${org}/agents`, { name: 'A', tools: ['demo.notes.create'], jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'a', d: 'private' }] } }],
    ['POST', `/orgs/${org}/agents/${seeded.agent.client_id}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }], user_id: seeded.user.id }],
    ['POST', `/orgs/${org}/agents/${seeded.agent.client_id}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'], $where: '1' }] }],
    ['POST', '/resource-servers', { identifier: 'https://rs.example/api', name: 'RS', org_id: { $exists: true } }],
    ['POST', '/resource-servers', { identifier: { $gt: '' }, name: 'RS' }],
  ];
  for (const [method, path, body] of bodies) {
    await t.test(`${method} ${path.replace(org, ':org')} ${typeof body === 'string' ? body : JSON.stringify(body)}`, async () => {
      const res = await writ.admin(method, path, body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error, 'invalid_request');
      assert.equal(typeof res.json.error_description, 'string');
    });
  }
  for (const query of ['limit=-1', 'limit=1e9', 'type[$ne]=x', 'user_id[]=a&user_id[]=b', 'since=not-a-date', 'extra=1']) {
    await t.test(`GET audit?${query}`, async () => {
      const res = await writ.admin('GET', `/orgs/${org}/audit?${query}`);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error, 'invalid_request');
    });
  }
  assert.deepEqual(await ledger(writ, org), before, 'nothing was written');
  assert.equal((await writ.admin('GET', '/orgs')).json.orgs.length, orgsBefore);
});
