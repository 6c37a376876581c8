import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { CapabilityClaims } from '../../src/capability/claims.ts';
import { generateBiscuitRootKey, generateJwtKey } from '../../src/capability/keys.ts';
import { mintJwtCapability } from '../../src/capability/jwt.ts';
import { mintBiscuitCapability } from '../../src/capability/index.ts';

// A service that only ever sees JWTs never loads biscuit-wasm (tens of megabytes once loaded); the
// first Biscuit loads it, and verifies. Checked in a fresh process, where a module resolution hook
// records every module URL the process resolves: biscuit-wasm cannot be loaded without one.

const root = resolve(import.meta.dirname, '../..');
const ISSUER = 'https://writ.example';
const AUDIENCE = 'https://mail.example/api';
const NOW = Math.floor(Date.now() / 1000);

const claims = (): CapabilityClaims => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'usr_ann',
  principal: 'user',
  org_id: 'org_x',
  client_id: 'agt_mailer',
  authorization_details: [{ type: 'tool_access', tools: ['gmail.messages.send'], resources: ['gmail:mailbox:*'] }],
  scope: 'tool:gmail.messages.send',
  auth_event_id: `grt_${randomUUID()}`,
  jti: `cap_${randomUUID()}`,
  iat: NOW,
  exp: NOW + 300,
});

interface ChildReport {
  jwt: string;
  biscuitWasmAfterJwt: string[];
  modulesAfterJwt: number;
  biscuit: string;
  forgedBiscuit: string;
  biscuitWasmAfterBiscuit: string[];
}

test('a JWT-only service never loads biscuit-wasm; the first Biscuit loads it and verifies', async () => {
  const jwtKey = generateJwtKey('k1');
  const rootKey = generateBiscuitRootKey(7);
  const otherRoot = generateBiscuitRootKey(7);
  const jwt = mintJwtCapability(claims(), jwtKey);
  const biscuit = mintBiscuitCapability(claims(), rootKey).token;
  // The same claims under a root key the service does not trust.
  const forged = mintBiscuitCapability(claims(), otherRoot).token;

  const script = `
import { registerHooks } from 'node:module';
import { createPublicKey } from 'node:crypto';
const resolved = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); resolved.push(r.url); return r; } });
const input = JSON.parse(process.env.LAZY_INPUT);
const { createVerifier, VerifierError } = await import(${JSON.stringify(pathToFileURL(join(root, 'src/verifier/index.ts')).href)});
const jwtKey = createPublicKey({ key: input.jwk, format: 'jwk' });
const verifier = createVerifier({
  issuer: input.issuer, audience: input.audience,
  keys: { jwtKey: (kid) => (kid === input.jwk.kid ? jwtKey : undefined), biscuitRootKey: (id) => (id === input.rootKid ? input.rootPublic : undefined) },
  revocations: { isRevoked: () => false },
});
const request = { tool: 'gmail.messages.send', resource: 'gmail:mailbox:ann' };
const outcome = async (token) => {
  try { return (await verifier.verify(token, request)).format; }
  catch (error) { if (error instanceof VerifierError) return error.code; throw error; }
};
const biscuitWasm = () => resolved.filter((url) => url.includes('/@biscuit-auth/biscuit-wasm/'));
const report = { jwt: await outcome(input.jwt), biscuitWasmAfterJwt: biscuitWasm(), modulesAfterJwt: resolved.length };
report.biscuit = await outcome(input.biscuit);
report.forgedBiscuit = await outcome(input.forged);
report.biscuitWasmAfterBiscuit = biscuitWasm();
verifier.close();
process.stderr.write('REPORT=' + JSON.stringify(report));`;
  const env = {
    ...process.env,
    LAZY_INPUT: JSON.stringify({ issuer: ISSUER, audience: AUDIENCE, jwk: jwtKey.publicJwk, rootKid: rootKey.kid, rootPublic: rootKey.publicKey, jwt, biscuit, forged }),
  };
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { cwd: root, env });
  const at = stderr.lastIndexOf('REPORT=');
  assert.ok(at >= 0, stderr);
  const report = JSON.parse(stderr.slice(at + 'REPORT='.length)) as ChildReport;

  assert.equal(report.jwt, 'jwt', 'the JWT verifies');
  assert.ok(report.modulesAfterJwt > 0, 'the hook saw the verifier\'s own modules resolve');
  assert.deepEqual(report.biscuitWasmAfterJwt, [], 'biscuit-wasm was never resolved while only a JWT was verified');
  assert.equal(report.biscuit, 'biscuit', 'the first Biscuit still verifies');
  assert.equal(report.forgedBiscuit, 'invalid_token', 'and one under an untrusted root key is refused');
  assert.ok(report.biscuitWasmAfterBiscuit.length > 0, 'the first Biscuit loaded biscuit-wasm');
  // biscuit-wasm announces its load on standard output; the service's output stays its own.
  assert.equal(stdout, '');
  assert.equal(stderr.slice(0, at), '');
});
