// What was tried against `POST /v1/tools/:tool/execute`: path-template injection, egress to
// private and metadata addresses, redirects, oversized bodies both ways, credential echoes, token
// presentation tricks and inputs naming someone else. Every case asserts the exact refusal and
// that nothing was spent: the demo provider's API calls and notes, and the audit record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import * as oauth from 'openid-client';
import { startTestWrit, seedOrg, type TestWrit } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { connectDemo, demoScene, execute, providerSecrets, recorder, spent, type DemoScene } from './executor-support.ts';
import type { Seeded } from './support.ts';

async function refusedWithoutSpending(s: DemoScene, before: Awaited<ReturnType<typeof spent>>, audited: 'denied' | 'nothing', label = '') {
  const after = await spent(s.writ, s.demo, s.seeded.org.id);
  assert.equal(after.apiCalls, before.apiCalls, 'the provider was not called');
  assert.equal(after.notes, before.notes, 'no note was written');
  assert.equal(after.executed, before.executed, 'no tool.executed event');
  assert.equal(after.denied, before.denied + (audited === 'denied' ? 1 : 0), `${label} ${audited === 'denied' ? 'one tool.denied event' : 'no event: the token was never verified'}`);
}

test('path-template injection: the provider sees one encoded segment, or the input is refused', async (t) => {
  const s = await demoScene();
  t.after(() => s.stop());
  const cap = await s.capability('demo.notes.get');
  const own = await execute(s.writ, 'demo.notes.create', await s.capability('demo.notes.create'), { title: 'mine', body: 'x' });
  assert.equal(own.status, 200, own.text);
  const control = await execute(s.writ, 'demo.notes.get', cap, { id: own.json.data.id });
  assert.equal(control.status, 200, 'a genuine id reads the note');
  assert.equal(s.demo.stats.lastApiRequest?.target, `/api/notes/${own.json.data.id}`);

  const encoded = [
    '../notes', '../../token', '..%2Fnotes', '..%2f..%2ftoken', '%2e%2e', '%2e%2e%2fnotes', 'a/b', '%2F', '?x=1', 'a?x=1&y=2',
    '#frag', 'a#frag', '%00', '\u0000', '..;/notes', '..\\notes', '\u2024\u2024', '\uFF0E\uFF0E', '\u2025', '\uFF0E\uFF0E\uFF0Fnotes', 'é/../x',
  ];
  for (const id of encoded) {
    const before = await spent(s.writ, s.demo, s.seeded.org.id);
    const res = await execute(s.writ, 'demo.notes.get', cap, { id });
    assert.equal(res.status, 502, `${JSON.stringify(id)}: ${res.text}`);
    assert.equal(res.json.error.code, 'upstream_error');
    assert.equal(res.json.error.provider_status, 404, 'the provider found no such note');
    const target = s.demo.stats.lastApiRequest!.target;
    assert.equal(s.demo.stats.apiCalls, before.apiCalls + 1);
    const m = /^\/api\/notes\/([^/?#]+)$/.exec(target);
    assert.ok(m, `${JSON.stringify(id)} reached ${target}`);
    assert.equal(decodeURIComponent(m[1]!), id, 'the segment is the input, byte for byte');
  }

  // Refused once the token is identified: each is a denial on the org's record (invariant 8).
  const refused: Array<[string, 'denied']> = [
    ['.', 'denied'], ['..', 'denied'], ['x\r\nHost: evil', 'denied'], ['x\nX-Injected: 1', 'denied'], ['a b', 'denied'], ['*', 'denied'], ['\uD800', 'denied'], ['x\uDFFFy', 'denied'],
  ];
  for (const [id, audited] of refused) {
    const before = await spent(s.writ, s.demo, s.seeded.org.id);
    const res = await execute(s.writ, 'demo.notes.get', cap, { id });
    assert.equal(res.status, 400, `${JSON.stringify(id)}: ${res.text}`);
    assert.equal(res.json.error.code, 'invalid_input');
    await refusedWithoutSpending(s, before, audited, JSON.stringify(id));
  }
});

/** A TCP listener on every loopback address that counts connections: did anything try to reach it? */
async function connectionCounter() {
  const sockets: Socket[] = [];
  let connections = 0;
  const server = createTcpServer((socket) => { connections++; sockets.push(socket); socket.on('error', () => {}); socket.destroy(); });
  await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  return {
    port: (server.address() as { port: number }).port,
    get connections() { return connections; },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** A host name (not `localhost`) that this machine resolves to a loopback address, if any. */
async function loopbackName(): Promise<string | undefined> {
  for (const name of [hostname(), 'vm', 'runsc', 'ip6-localhost']) {
    try {
      const addresses = await lookup(name, { all: true });
      if (name !== 'localhost' && addresses.length > 0 && addresses.every((a) => a.address.startsWith('127.') || a.address === '::1')) return name;
    } catch { /* not resolvable here */ }
  }
  return undefined;
}

function evilConnector(api_base_url: string) {
  return {
    display_name: 'Evil', api_base_url,
    auth: { type: 'api_key', header: 'X-Api-Key' },
    tools: { ping: { description: 'Ping.', method: 'GET', path: '/ping', input_schema: { type: 'object', properties: {} } } },
  };
}

test('egress: connectors pointing at loopback, link-local, private or metadata hosts never receive the call', async (t) => {
  const counter = await connectionCounter();
  t.after(() => counter.close());
  // 127.0.0.2 is the operator's allow-listed host: reachable on purpose, to show the list works.
  const writ = await startTestWrit({ env: { WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.2', WRIT_EXECUTOR_TIMEOUT_MS: '1000' } });
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { tools: ['evil.ping'], connectors: { evil: evilConnector('https://api.evil.example') } });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['evil.ping'] }] });
  const org = seeded.org.id;
  const P = counter.port;
  const put = (url: string) => writ.admin('PUT', `/orgs/${org}/connectors/evil`, evilConnector(url));
  // The connector and its account exist first, at a harmless public-looking host.
  assert.equal((await put('https://api.evil.example')).status, 200);
  const account = await writ.admin('POST', `/orgs/${org}/connected-accounts`, { connector: 'evil', user_id: seeded.user.id, api_key: 'evil-api-key-of-some-length' });
  assert.equal(account.status, 201, account.text);
  const cap = (await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['evil.ping']) })).json.access_token as string;
  const counts = async () => ({
    executed: (await writ.admin('GET', `/orgs/${org}/audit?type=tool.executed`)).json.events.length as number,
    denied: (await writ.admin('GET', `/orgs/${org}/audit?type=tool.denied`)).json.events.length as number,
  });

  const named = await loopbackName();
  if (!named) t.diagnostic('no host name other than localhost resolves to loopback here: the DNS case is not run');
  const targets = [
    `https://127.0.0.1:${P}`, `https://127.0.0.3:${P}`, `https://127.1:${P}`, `https://2130706433:${P}`, `https://0x7f.0.0.1:${P}`, `https://0.0.0.0:${P}`,
    `https://localhost:${P}`, `https://api.localhost:${P}`, `https://[::1]:${P}`, `https://[::ffff:127.0.0.1]:${P}`, `https://[::ffff:7f00:1]:${P}`, `https://[::127.0.0.1]:${P}`,
    'https://169.254.169.254', 'https://[::ffff:169.254.169.254]', 'https://metadata.google.internal', 'https://METADATA.google.internal.', 'https://metadata',
    'https://10.0.0.1', 'https://10.255.255.254:8443', 'https://192.168.1.1', 'https://172.16.0.1', 'https://100.64.0.1', 'https://[fd00:ec2::254]', 'https://[fe80::1]', 'https://[fc00::1]',
    ...(named ? [`https://${named}:${P}`] : []),
  ];
  const outcome: string[] = [];
  for (const target of targets) {
    const registered = await put(target);
    outcome.push(`${target} → ${registered.status === 400 ? 'registration 400' : 'execute 403'}`);
    const before = await counts();
    if (registered.status === 400) {
      assert.equal(registered.json.error, 'invalid_request', `${target}: ${registered.text}`);
    } else {
      assert.equal(registered.status, 200, `${target}: ${registered.text}`);
      const res = await execute(writ, 'evil.ping', cap, {});
      assert.equal(res.status, 403, `${target}: ${res.text}`);
      assert.equal(res.json.error.code, 'forbidden', target);
      const after = await counts();
      assert.equal(after.executed, before.executed, target);
      assert.equal(after.denied, before.denied + 1, target);
    }
    assert.equal(counter.connections, 0, `${target}: something connected to the loopback listener`);
  }

  t.diagnostic(outcome.join('; '));
  const listed = await writ.admin('GET', `/orgs/${org}/connectors`);
  assert.equal(listed.status, 200, `the org's connectors can still be listed: ${listed.text}`);
  assert.equal((await fetch(`${writ.issuer}/v1/tools`, { headers: { authorization: `Bearer ${cap}` } })).status, 200);

  await t.test('an http base URL is refused at registration unless the operator allow-listed its host', async () => {
    for (const target of ['http://api.evil.example', `http://127.0.0.3:${P}`, `http://localhost:${P}`]) {
      const res = await put(target);
      assert.equal(res.status, 400, target);
      assert.equal(res.json.error, 'invalid_request');
    }
    // Development: the allow-listed host may be plain http (production refuses the allow-list itself).
    assert.equal((await put(`http://127.0.0.2:${P}`)).status, 200);
    assert.equal(counter.connections, 0, 'registering calls nothing');
  });

  await t.test('the operator allow-list names a host, and only that host is reached', async () => {
    assert.equal((await put(`https://127.0.0.2:${P}`)).status, 200);
    const res = await execute(writ, 'evil.ping', cap, {});
    // The listener speaks no TLS: the call was attempted (one connection) and failed upstream.
    assert.equal(res.status, 502, res.text);
    assert.equal(res.json.error.code, 'upstream_error');
    assert.equal(counter.connections, 1);
  });
});

test('a provider redirect is never followed with the credential', async (t) => {
  const s = await demoScene();
  t.after(() => s.stop());
  const target = await recorder();
  t.after(() => target.close());
  const cap = await s.capability('demo.notes.list');
  for (const status of [301, 302, 303, 307, 308] as const) {
    for (const location of [`${target.url}/steal`, `//127.0.0.1:${target.port}/steal`, '/api/notes']) {
      s.demo.setFault({ kind: 'redirect', status, location, times: 1 });
      const before = await spent(s.writ, s.demo, s.seeded.org.id);
      const res = await execute(s.writ, 'demo.notes.list', cap, {});
      assert.equal(res.status, 502, res.text);
      assert.equal(res.json.error.code, 'upstream_error');
      assert.equal(res.json.error.provider_status, status);
      assert.equal(s.demo.stats.apiCalls, before.apiCalls + 1, 'one call, no second hop to the provider either');
    }
  }
  assert.equal(target.requests.length, 0, 'the redirect target saw nothing');
});

test('oversized input, oversized answers and a provider echoing the credential', async (t) => {
  const s = await demoScene();
  t.after(() => s.stop());
  const cap = await s.capability('demo.notes.create');

  await t.test('a tool input over 1 MiB is refused before anything is read into the pipeline', async () => {
    const before = await spent(s.writ, s.demo, s.seeded.org.id);
    const res = await execute(s.writ, 'demo.notes.create', cap, { title: 'big', body: 'x'.repeat(1024 * 1024 + 1) });
    assert.equal(res.status, 413, res.text);
    assert.equal(res.json.error.code, 'invalid_input');
    await refusedWithoutSpending(s, before, 'nothing');
  });

  await t.test('a provider answer over the 5 MiB limit is not passed on', async () => {
    const list = await s.capability('demo.notes.list');
    s.demo.setFault({ kind: 'huge', bytes: 6 * 1024 * 1024, times: 1 });
    const res = await execute(s.writ, 'demo.notes.list', list, {});
    assert.equal(res.status, 502);
    assert.equal(res.json.error.code, 'upstream_error');
    assert.equal(res.json.error.provider_status, 200);
    assert.ok(res.text.length < 1024, 'the answer is the error, not the payload');
    const after = await execute(s.writ, 'demo.notes.list', list, {});
    assert.equal(after.status, 200, 'the next call succeeds');
  });

  await t.test('a provider echoing the access token: [redacted], byte for byte absent', async () => {
    const secrets = await providerSecrets(s.writ, s.seeded.org.id, s.account_id);
    s.demo.setFault({ kind: 'echo_token', times: 1 });
    const res = await execute(s.writ, 'demo.notes.create', cap, { title: 'echo', body: 'echo' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.received_token, '[redacted]');
    const audit = (await s.writ.admin('GET', `/orgs/${s.seeded.org.id}/audit?limit=1000`)).text;
    for (const secret of secrets) {
      for (const where of [res.text, audit, s.writ.logs.join('\n')]) {
        assert.ok(!where.includes(secret), 'a provider token left the executor');
        assert.ok(!where.includes(Buffer.from(secret).toString('base64')), 'a provider token left base64-encoded');
      }
    }
  });
});

/** An RFC 9449 proof for the executor call. */
async function dpopProof(key: CryptoKey, publicJwk: Record<string, unknown>, htu: string, token: string) {
  const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).toString('base64url');
  return new SignJWT({ htm: 'POST', htu, jti: randomUUID(), iat: Math.floor(Date.now() / 1000), ath })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: publicJwk as never }).sign(key);
}

test('token presentation: wrong scheme, missing or foreign proofs, another audience → invalid_token, nothing spent', async (t) => {
  const s = await demoScene();
  t.after(() => s.stop());
  const url = `${s.writ.issuer}/v1/tools/demo.notes.list/execute`;
  const bearerCap = await s.capability('demo.notes.list');

  // A DPoP-bound capability (RFC 9449): exchanged with a proof of the agent's key.
  const holder = await oauth.randomDPoPKeyPair('EdDSA');
  const bound = await oauth.genericGrantRequest(s.run.config, 'urn:ietf:params:oauth:grant-type:token-exchange', {
    subject_token: s.run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['demo.notes.list']),
  }, { DPoP: oauth.getDPoPHandle(s.run.config, holder) });
  assert.equal(bound.token_type.toLowerCase(), 'dpop');
  const holderJwk = await exportJWK(holder.publicKey);
  const thief = await generateKeyPair('EdDSA');
  const thiefJwk = await exportJWK(thief.publicKey);
  assert.notEqual(await calculateJwkThumbprint(thiefJwk), await calculateJwkThumbprint(holderJwk));

  // A capability for a downstream resource server of the org, not the executor.
  assert.equal((await s.writ.admin('POST', '/resource-servers', { identifier: 'https://billing.example/api', name: 'Billing', org_id: s.seeded.org.id })).status, 201);
  const elsewhere = await s.capability('demo.notes.list', { audience: 'https://billing.example/api' });

  const cases: Array<[string, string, string, Record<string, string>]> = [
    ['DPoP scheme, no proof', 'DPoP', bearerCap, {}],
    ['DPoP scheme, an unbound capability, a proof of some key', 'DPoP', bearerCap, { dpop: await dpopProof(thief.privateKey, thiefJwk, url, bearerCap) }],
    ['DPoP-bound capability presented as Bearer', 'Bearer', bound.access_token, {}],
    ['DPoP-bound capability, DPoP scheme, no proof', 'DPoP', bound.access_token, {}],
    ['DPoP-bound capability, proof signed by another key', 'DPoP', bound.access_token, { dpop: await dpopProof(thief.privateKey, thiefJwk, url, bound.access_token) }],
    ['DPoP-bound capability, proof for another URL', 'DPoP', bound.access_token, { dpop: await dpopProof(holder.privateKey, holderJwk, `${s.writ.issuer}/v1/tools/demo.notes.create/execute`, bound.access_token) }],
    ['DPoP-bound capability, proof bound to another token', 'DPoP', bound.access_token, { dpop: await dpopProof(holder.privateKey, holderJwk, url, bearerCap) }],
    ['capability for another audience', 'Bearer', elsewhere, {}],
    ['lower-case scheme', 'bearer', bearerCap, {}],
    ['capability with a byte appended', 'Bearer', `${bearerCap}A`, {}],
  ];
  for (const [name, scheme, token, headers] of cases) {
    const before = await spent(s.writ, s.demo, s.seeded.org.id);
    const res = await execute(s.writ, 'demo.notes.list', token, {}, { scheme, headers });
    assert.equal(res.status, 401, `${name}: ${res.text}`);
    assert.equal(res.json.error.code, 'invalid_token', name);
    assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/, name);
    const after = await spent(s.writ, s.demo, s.seeded.org.id);
    assert.equal(after.apiCalls, before.apiCalls, `${name}: the provider was called`);
    assert.equal(after.executed, before.executed, name);
  }

  // The holder with a correct proof is served: the refusals above were about the proof.
  const ok = await execute(s.writ, 'demo.notes.list', bound.access_token, {}, { scheme: 'DPoP', headers: { dpop: await dpopProof(holder.privateKey, holderJwk, url, bound.access_token) } });
  assert.equal(ok.status, 200, ok.text);
});

test('inputs naming another user or org change nothing: the account spent is the token\'s', async (t) => {
  const s = await demoScene();
  t.after(() => s.stop());
  const org = s.seeded.org.id;
  // Alice, in the same org, has her own demo account: the one a confused executor would spend.
  const alice = (await s.writ.admin('POST', `/orgs/${org}/users`, { username: 'alice', password: 'alice password 1' })).json;
  const aliceSeeded: Seeded = { ...s.seeded, user: { ...alice, password: 'alice password 1' } };
  await connectDemo(s.writ, aliceSeeded);
  const other = await seedOrg(s.writ, { name: 'TechCorp', username: 'alice', tools: ['demo.notes.create'] });
  const cap = await s.capability('demo.notes.create');

  const before = await spent(s.writ, s.demo, org);
  for (const extra of [{ user_id: alice.id }, { owner: 'alice' }, { org_id: other.org.id }, { sub: alice.id, account_id: 'acc_x' }]) {
    const res = await execute(s.writ, 'demo.notes.create', cap, { title: 'x', body: 'y', ...extra });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error.code, 'invalid_input');
  }
  const afterRefusals = await spent(s.writ, s.demo, org);
  assert.equal(afterRefusals.apiCalls, before.apiCalls);
  assert.equal(afterRefusals.notes, before.notes);

  const smuggled = {
    'x-user-id': alice.id, 'x-org-id': other.org.id, 'x-writ-org': other.org.id, 'x-account-id': 'acc_alice',
    'x-forwarded-user': 'alice', forwarded: 'for=alice', 'x-on-behalf-of': alice.id,
  };
  const res = await execute(s.writ, 'demo.notes.create', cap, { title: 'for whom?', body: 'y' }, {
    headers: smuggled, query: `?user_id=${alice.id}&org_id=${other.org.id}&owner=alice&account_id=acc_alice`,
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.data.owner, 'john', 'John\'s account was spent, by John\'s token');
  const notes = s.demo.notes;
  assert.equal(notes.filter((n) => n.owner === 'alice').length, 0, 'nothing was written to Alice\'s account');
  const executed = (await s.writ.admin('GET', `/orgs/${org}/audit?type=tool.executed`)).json.events;
  assert.equal(executed.length, before.executed + 1);
  for (const event of executed) assert.equal(event.subject.user_id, s.seeded.user.id, 'every execution is recorded as John\'s');
  assert.equal((await s.writ.admin('GET', `/orgs/${other.org.id}/audit?type=tool.executed`)).json.events.length, 0, 'nothing in the other org');
});
