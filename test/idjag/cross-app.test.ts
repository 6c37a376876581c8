// Cross-app access with Identity Assertion JWT Authorization Grants, both directions, between two
// real Writs on loopback: XCorp's Writ is the identity provider of its people and issues an ID-JAG
// by token exchange; Acme's Writ trusts XCorp's as its org's identity provider and accepts the
// ID-JAG at /token (RFC 7523 jwt-bearer). Every refusal the draft asks for is tried as an attacker
// would: expired, replayed (also concurrently), another audience, another client, an untrusted
// issuer or key, and more than the agent's ceiling or the org's policy allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { delegate } from '../support/delegation.ts';
import { ACCESS_TOKEN, exchange, type Client } from '../support/exchange.ts';
import { seedOrg, startTestWrit, type TestWrit } from '../support/writ.ts';

const ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

async function token(writ: TestWrit, client: Client, params: Record<string, string>) {
  const res = await fetch(`${writ.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params),
  });
  return { status: res.status, json: (await res.json()) as any };
}

async function introspect(writ: TestWrit, client: Client, value: string) {
  const res = await fetch(`${writ.issuer}/introspect`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: value }),
  });
  return (await res.json()) as any;
}

test('ID-JAG between two Writs: issued by token exchange at the user\'s identity provider, accepted at the other server\'s /token', async (t) => {
  // XCorp's Writ: the identity provider of John.
  const idp = await startTestWrit();
  t.after(() => idp.stop());
  // Acme's Writ, on a clock the test moves.
  let skew = 0;
  const acme = await startTestWrit({ env: { WRIT_ALLOW_PRIVATE_EGRESS: 'localhost' }, writ: { clock: { now: () => Date.now() + skew } } });
  t.after(() => acme.stop());

  const x = await seedOrg(idp, { name: 'XCorp', tools: ['demo.notes.get', 'demo.notes.create'] });
  const other = (await idp.admin('POST', `/orgs/${x.org.id}/agents`, { name: 'Unlisted agent', redirect_uris: [x.redirect_uri], tools: ['demo.notes.get'] })).json;
  const a = await seedOrg(acme, { name: 'XCorp at Acme', tools: ['demo.notes.get'] });
  const a2 = (await acme.admin('POST', `/orgs/${a.org.id}/agents`, { name: 'Another Acme client', redirect_uris: [a.redirect_uri], tools: ['demo.notes.get'] })).json;

  // XCorp's policy: its people may be asserted to Acme, as Acme's client for this agent, with these scopes.
  const policy = await idp.admin('PUT', `/orgs/${x.org.id}/cross-app-access`, {
    targets: [
      { audience: acme.issuer, clients: { [x.agent.client_id]: a.agent.client_id }, scopes: ['tool:demo.notes.get', 'tool:demo.notes.create'], ttl: 300 },
      { audience: 'https://elsewhere.example', clients: { [x.agent.client_id]: 'someone-else' }, scopes: ['tool:demo.notes.get'] },
    ],
  });
  assert.equal(policy.status, 200, policy.text);
  // Acme trusts XCorp's Writ as the org's identity provider, for ID-JAGs too.
  const trust = await acme.admin('PUT', `/orgs/${a.org.id}/identity-provider`, {
    issuer: idp.issuer, client_id: 'acme-at-xcorp', client_secret: 'not-used-for-id-jag', accept_id_jag: true,
  });
  assert.equal(trust.status, 200, trust.text);
  // John at XCorp is John at Acme (a single sign-on would have made this link).
  await acme.store.sso.createLink(a.org.id, { org_id: a.org.id, issuer: idp.issuer, subject: x.user.id, user_id: a.user.id, created_at: new Date().toISOString() });

  const john = await delegate(idp, x, { scope: 'tool:demo.notes.get tool:demo.notes.create' });
  assert.ok(john.tokens?.access_token, 'John delegated to XCorp\'s agent');
  const subject = { subject_token: john.tokens!.access_token, subject_token_type: ACCESS_TOKEN, requested_token_type: ID_JAG };
  const issue = (extra: Record<string, string> = {}, client: Client = x.agent) => exchange(idp, client, { ...subject, audience: acme.issuer, scope: 'tool:demo.notes.get', ...extra });

  await t.test('discovery advertises the jwt-bearer grant', async () => {
    const meta = await (await fetch(`${acme.issuer}/.well-known/oauth-authorization-server`)).json() as any;
    assert.ok(meta.grant_types_supported.includes(JWT_BEARER));
    assert.ok(meta.grant_types_supported.includes('urn:ietf:params:oauth:grant-type:token-exchange'));
  });

  await t.test('XCorp\'s Writ issues an ID-JAG with the draft\'s claims, and Acme\'s Writ turns it into a delegated token within the agent\'s ceiling', async () => {
    const issued = await issue();
    assert.equal(issued.status, 200, JSON.stringify(issued.json));
    assert.equal(issued.json.issued_token_type, ID_JAG);
    assert.equal(issued.json.token_type, 'N_A');
    const header = decodeProtectedHeader(issued.json.access_token);
    assert.equal(header.typ, 'oauth-id-jag+jwt');
    const claims = decodeJwt(issued.json.access_token);
    assert.equal(claims.iss, idp.issuer);
    assert.equal(claims.sub, x.user.id);
    assert.equal(claims.aud, acme.issuer);
    assert.equal(claims.client_id, a.agent.client_id);
    assert.equal(claims.scope, 'tool:demo.notes.get');
    assert.ok(typeof claims.jti === 'string' && claims.jti.length >= 16);
    assert.ok(claims.exp! - claims.iat! <= 300);
    const issuedEvents = (await idp.admin('GET', `/orgs/${x.org.id}/audit?type=id_jag.issued`)).json.events;
    assert.equal(issuedEvents.length, 1);
    assert.equal(issuedEvents[0].details.jti, claims.jti);

    const accepted = await token(acme, a.agent, { grant_type: JWT_BEARER, assertion: issued.json.access_token });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
    assert.equal(accepted.json.scope, 'tool:demo.notes.get');
    assert.equal(accepted.json.refresh_token, undefined);
    const info = await introspect(acme, a.agent, accepted.json.access_token);
    assert.equal(info.active, true);
    assert.equal(info.sub, a.user.id);
    // Audited as a grant from the identity provider, not from a consent page.
    const grants = (await acme.admin('GET', `/orgs/${a.org.id}/audit?type=grant.created`)).json.events;
    assert.equal(grants.length, 1);
    assert.deepEqual(grants[0].actor, { kind: 'idp', issuer: idp.issuer, assertion_jti: claims.jti });
    assert.equal(grants[0].subject.user_id, a.user.id);
    // The token is a delegated token like any other: the exchange turns it into a capability.
    const cap = await exchange(acme, a.agent, { subject_token: accepted.json.access_token, subject_token_type: ACCESS_TOKEN, scope: 'tool:demo.notes.get' });
    assert.equal(cap.status, 200, JSON.stringify(cap.json));
    assert.equal(decodeJwt(cap.json.access_token).sub, a.user.id);

    // Replayed: the same assertion a second time.
    const again = await token(acme, a.agent, { grant_type: JWT_BEARER, assertion: issued.json.access_token });
    assert.equal(again.status, 400);
    assert.equal(again.json.error, 'invalid_grant');
    assert.match(again.json.error_description, /used already/);
  });

  await t.test('an ID token Writ issued to the agent is a subject too (draft §4.3), and another agent\'s is not', async () => {
    const signedIn = await delegate(idp, x, { scope: 'openid tool:demo.notes.get' });
    const idToken = signedIn.tokens!.id_token!;
    assert.ok(idToken, 'the agent asked for openid');
    const issued = await exchange(idp, x.agent, { subject_token: idToken, subject_token_type: ID_TOKEN, requested_token_type: ID_JAG, audience: acme.issuer, scope: 'tool:demo.notes.get' });
    assert.equal(issued.status, 200, JSON.stringify(issued.json));
    assert.equal(decodeJwt(issued.json.access_token).sub, x.user.id);
    assert.ok(decodeJwt(issued.json.access_token).exp! <= decodeJwt(idToken).exp!);
    const accepted = await token(acme, a.agent, { grant_type: JWT_BEARER, assertion: issued.json.access_token });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
    // Presented by another agent of the same org, the ID token is not its own.
    const otherClient = { client_id: other.client_id, client_secret: other.client_secret };
    const foreign = await exchange(idp, otherClient, { subject_token: idToken, subject_token_type: ID_TOKEN, requested_token_type: ID_JAG, audience: acme.issuer });
    assert.equal(foreign.json.error, 'invalid_grant');
    // Nor is a token that is not an ID token of this server.
    const forged = await exchange(idp, x.agent, { subject_token: `${idToken.split('.').slice(0, 2).join('.')}.AAAA`, subject_token_type: ID_TOKEN, requested_token_type: ID_JAG, audience: acme.issuer });
    assert.equal(forged.json.error, 'invalid_grant');
  });

  await t.test('one assertion presented many times at once is accepted once', async () => {
    const issued = await issue();
    const answers = await Promise.all(Array.from({ length: 8 }, () => token(acme, a.agent, { grant_type: JWT_BEARER, assertion: issued.json.access_token })));
    assert.equal(answers.filter((r) => r.status === 200).length, 1);
    assert.ok(answers.filter((r) => r.status !== 200).every((r) => r.json.error === 'invalid_grant'));
  });

  await t.test('Acme refuses an expired assertion, one for another audience or client, and one beyond the agent\'s ceiling', async () => {
    const expired = await issue();
    skew = 10 * 60_000;
    const late = await token(acme, a.agent, { grant_type: JWT_BEARER, assertion: expired.json.access_token });
    skew = 0;
    assert.equal(late.json.error, 'invalid_grant');
    assert.match(late.json.error_description, /expired/);
    // Not spent by the refusal: it still works in time.
    assert.equal((await token(acme, a.agent, { grant_type: JWT_BEARER, assertion: expired.json.access_token })).status, 200);

    const elsewhere = await issue({ audience: 'https://elsewhere.example' });
    assert.equal(elsewhere.status, 200);
    const wrongAud = await token(acme, a.agent, { grant_type: JWT_BEARER, assertion: elsewhere.json.access_token });
    assert.equal(wrongAud.json.error, 'invalid_grant');
    assert.match(wrongAud.json.error_description, /another audience/);

    const forA = await issue();
    const stolen = await token(acme, { client_id: a2.client_id, client_secret: a2.client_secret }, { grant_type: JWT_BEARER, assertion: forA.json.access_token });
    assert.equal(stolen.json.error, 'invalid_grant');
    assert.match(stolen.json.error_description, /another client/);

    // XCorp allows notes.create at Acme; the Acme agent's ceiling does not.
    const wide = await issue({ scope: 'tool:demo.notes.get tool:demo.notes.create' });
    assert.equal(wide.status, 200);
    const beyond = await token(acme, a.agent, { grant_type: JWT_BEARER, assertion: wide.json.access_token });
    assert.equal(beyond.status, 400);
    assert.equal(beyond.json.error, 'invalid_scope');
    assert.match(beyond.json.error_description, /demo\.notes\.create/);
    // Nor may the request widen what was asserted.
    const narrow = await issue();
    const widened = await token(acme, a.agent, { grant_type: JWT_BEARER, assertion: narrow.json.access_token, scope: 'tool:demo.notes.get tool:demo.notes.create' });
    assert.equal(widened.json.error, 'invalid_scope');

    const refused = (await acme.admin('GET', `/orgs/${a.org.id}/audit?type=id_jag.refused`)).json.events;
    assert.ok(refused.length >= 5);
    assert.ok(refused.every((e: any) => e.details.direction === 'accept' && typeof e.details.reason === 'string'));
  });

  await t.test('Acme refuses assertions from an issuer it does not trust, or signed with a key the issuer does not publish', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { privateKey } = generateKeyPairSync('ed25519');
    const forge = (iss: string) => new SignJWT({ sub: x.user.id, client_id: a.agent.client_id, scope: 'tool:demo.notes.get', jti: `forged-${iss}` })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'oauth-id-jag+jwt', kid: 'k' }).setIssuer(iss).setAudience(acme.issuer).setIssuedAt(now).setExpirationTime(now + 120).sign(privateKey);
    const untrusted = await token(acme, a.agent, { grant_type: JWT_BEARER, assertion: await forge('https://idp.attacker.example') });
    assert.equal(untrusted.json.error, 'invalid_grant');
    assert.match(untrusted.json.error_description, /issuer is not an identity provider this organisation trusts/);
    const badKey = await token(acme, a.agent, { grant_type: JWT_BEARER, assertion: await forge(idp.issuer) });
    assert.equal(badKey.json.error, 'invalid_grant');
    assert.match(badKey.json.error_description, /signature/);
    // A plain JWT that is not typed as an ID-JAG (a capability of XCorp's Writ, say) is not one.
    const capability = await exchange(idp, x.agent, { subject_token: john.tokens!.access_token, subject_token_type: ACCESS_TOKEN, scope: 'tool:demo.notes.get', audience: idp.executorResource });
    const notIdJag = await token(acme, a.agent, { grant_type: JWT_BEARER, assertion: capability.json.access_token });
    assert.equal(notIdJag.json.error, 'invalid_grant');
    // Another org of Acme's that does not trust XCorp's Writ refuses XCorp's genuine assertion.
    const lone = await seedOrg(acme, { name: 'Lone org', tools: ['demo.notes.get'] });
    const genuine = await issue();
    const elsewhereOrg = await token(acme, lone.agent, { grant_type: JWT_BEARER, assertion: genuine.json.access_token });
    assert.equal(elsewhereOrg.json.error, 'invalid_grant');
  });

  await t.test('XCorp\'s Writ issues only what its org policy allows, to listed agents, for a live grant', async () => {
    const unlisted = await issue({ audience: 'https://unknown.example' });
    assert.equal(unlisted.status, 400);
    assert.equal(unlisted.json.error, 'invalid_target');
    const tooWide = await issue({ scope: 'tool:notion.pages.create' });
    assert.equal(tooWide.json.error, 'invalid_scope');
    const otherAgent = await delegate(idp, { ...x, agent: other }, { scope: 'tool:demo.notes.get' });
    const notMapped = await exchange(idp, other, { ...subject, subject_token: otherAgent.tokens!.access_token, audience: acme.issuer });
    assert.equal(notMapped.json.error, 'unauthorized_client');
    // Another agent's token is not this agent's to assert.
    const foreign = await issue({}, other);
    assert.equal(foreign.json.error, 'invalid_grant');
    // Revoked: the grant behind the subject token ends, and so does every new assertion.
    const grantId = (await introspect(idp, x.agent, john.tokens!.access_token)).auth_event_id;
    assert.equal((await idp.admin('DELETE', `/orgs/${x.org.id}/grants/${grantId}`)).status < 300, true);
    const afterRevoke = await issue();
    assert.equal(afterRevoke.json.error, 'invalid_grant');
    const refused = (await idp.admin('GET', `/orgs/${x.org.id}/audit?type=id_jag.refused`)).json.events;
    assert.ok(refused.length >= 4);
    assert.ok(refused.every((e: any) => e.details.direction === 'issue'));
  });
});
