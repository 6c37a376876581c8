import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { CapabilityClaims } from '../../src/capability/claims.ts';
import { generateBiscuitRootKey, generateJwtKey } from '../../src/capability/keys.ts';
import { mintJwtCapability } from '../../src/capability/jwt.ts';
import { mintBiscuitCapability } from '../../src/capability/index.ts';
import { jwkThumbprint } from '../../src/verifier/index.ts';
import { startService } from '../../docs/examples/verifier-service.ts';
import { startIssuer } from './issuer.ts';

// Runs the documented example service (docs/examples/verifier-service.ts) and so the Koa
// middleware: RFC 6750 challenges, 401/403, and the DPoP scheme for bound tokens.

const AUDIENCE = 'https://mail.example/api';
const jwtKey = generateJwtKey('k1');
const rootKey = generateBiscuitRootKey(1);
let issuer: Awaited<ReturnType<typeof startIssuer>>;
let service: Awaited<ReturnType<typeof startService>>;

const claims = (over: Partial<CapabilityClaims> = {}): CapabilityClaims => {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer.issuer, aud: AUDIENCE, sub: 'usr_ann', principal: 'user', org_id: 'org_x', client_id: 'agt_mailer',
    authorization_details: [{ type: 'tool_access', tools: ['gmail.messages.send'], resources: ['gmail:mailbox:ann'], constraints: { to: { ends_with: '@customer.com' } } }],
    scope: 'tool:gmail.messages.send', auth_event_id: 'grt_1', jti: `cap_${randomUUID()}`, iat: now, exp: now + 300, ...over,
  };
};

before(async () => {
  issuer = await startIssuer({ jwt: [jwtKey], biscuit: [rootKey] });
  service = await startService({ issuer: issuer.issuer, audience: AUDIENCE });
});
after(async () => {
  await service.close();
  await issuer.close();
});

const call = (mailbox: string, headers: Record<string, string>, to = 'bob@customer.com') =>
  fetch(`${service.url}/mailboxes/${mailbox}/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ input: { to, subject: 'hi' }, user: 'usr_someone_else' }),
  });

test('a valid capability in either format reaches the handler, which acts for the token\'s principal', async () => {
  for (const token of [mintJwtCapability(claims(), jwtKey), mintBiscuitCapability(claims(), rootKey).token]) {
    const response = await call('ann', { authorization: `Bearer ${token}` });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { sent: true, on_behalf_of: 'usr_ann', org: 'org_x', via: ['agt_mailer'] });
  }
});

test('RFC 6750 challenges: missing, invalid, insufficient scope, constraint', async () => {
  const missing = await call('ann', {});
  assert.equal(missing.status, 401);
  assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);

  const invalid = await call('ann', { authorization: 'Bearer abc.def.ghi' });
  assert.equal(invalid.status, 401);
  assert.match(invalid.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
  assert.equal(((await invalid.json()) as { error: string }).error, 'invalid_token');

  const token = mintJwtCapability(claims(), jwtKey);
  const otherMailbox = await call('bob', { authorization: `Bearer ${token}` });
  assert.equal(otherMailbox.status, 403);
  assert.match(otherMailbox.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_scope"/);

  const wrongRecipient = await call('ann', { authorization: `Bearer ${token}` }, 'eve@evil.com');
  assert.equal(wrongRecipient.status, 403);
  assert.equal(((await wrongRecipient.json()) as { error: string }).error, 'constraint_failed');
});

test('a DPoP-bound capability answers with the DPoP scheme and accepts a proof', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const token = mintJwtCapability(claims({ cnf: { jkt: jwkThumbprint(jwk) } }), jwtKey);
  const asBearer = await call('ann', { authorization: `Bearer ${token}` });
  assert.equal(asBearer.status, 401);
  assert.match(asBearer.headers.get('www-authenticate') ?? '', /^DPoP /);

  const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'EdDSA', jwk })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({
    jti: randomUUID(), htm: 'POST', htu: `${service.url}/mailboxes/ann/send`, iat: Math.floor(Date.now() / 1000),
    ath: createHash('sha256').update(token).digest('base64url'),
  })).toString('base64url');
  const proof = `${header}.${payload}.${sign(null, Buffer.from(`${header}.${payload}`), privateKey).toString('base64url')}`;
  const bound = await call('ann', { authorization: `DPoP ${token}`, dpop: proof });
  assert.equal(bound.status, 200);
  const replayed = await call('ann', { authorization: `DPoP ${token}`, dpop: proof });
  assert.equal(replayed.status, 401);
  assert.match(replayed.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_dpop_proof"/);
});
