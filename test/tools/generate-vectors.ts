// Writ's golden capability vectors: tokens minted from fixed keys at a fixed clock, with the outcome
// every verifier must reach. Writes test/vectors/writ/vectors.json; with --check, regenerates what
// is deterministic (JWT: Ed25519 signatures are) and re-evaluates every stored token (Biscuit block
// keys are random, so stored Biscuits are checked by outcome), exiting 1 on any drift.
//
//   node scripts/gen-vectors.ts          # write
//   node scripts/gen-vectors.ts --check  # verify, change nothing
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fixedClock } from '../../src/core/clock.ts';
import { decideAccess } from '../../src/capability/access.ts';
import { attenuateBiscuit, authorizeBiscuit, mintBiscuitCapability } from '../../src/capability/index.ts';
import type { CapabilityClaims } from '../../src/capability/claims.ts';
import { CapabilityError } from '../../src/capability/errors.ts';
import { mintJwtCapability, verifyJwtCapability } from '../../src/capability/jwt.ts';
import type { BiscuitRootKey, JwtKeyPair } from '../../src/capability/keys.ts';

const OUT = fileURLToPath(new URL('../vectors/writ/vectors.json', import.meta.url));
const NOW = 1_714_000_000;
const ISSUER = 'https://writ.example';
const AUDIENCE = 'https://writ.example/executor';

// Test-only keys from fixed seeds. Never use them for anything else.
const JWT_SEED = '0101010101010101010101010101010101010101010101010101010101010101';
const BISCUIT_SEED = '0202020202020202020202020202020202020202020202020202020202020202';

function jwtKeyFromSeed(kid: string, seedHex: string): JwtKeyPair {
  // RFC 8410 §7: a PKCS#8 Ed25519 private key is a fixed prefix followed by the 32-byte seed.
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]);
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const derived = publicKey.export({ format: 'jwk' });
  return { kid, privateKey, publicKey, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: derived.x!, kid, alg: 'EdDSA', use: 'sig' } };
}

function biscuitKeyFromSeed(kid: number, seedHex: string): BiscuitRootKey {
  const jwt = jwtKeyFromSeed('unused', seedHex);
  return { kid, privateKey: seedHex, publicKey: Buffer.from(jwt.publicJwk.x, 'base64url').toString('hex') };
}

const jwtKey = jwtKeyFromSeed('writ-vectors-1', JWT_SEED);
const rootKey = biscuitKeyFromSeed(1, BISCUIT_SEED);

function claims(over: Partial<CapabilityClaims> = {}): CapabilityClaims {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'usr_01HVECTORUSER',
    principal: 'user',
    org_id: 'org_01HVECTORORG',
    client_id: 'agt_content_mgr',
    act: { sub: 'agt_content_mgr', act: { sub: 'agt_orchestrator' } },
    authorization_details: [
      { type: 'tool_access', tools: ['gmail.messages.send'], resources: ['gmail:mailbox:*'], constraints: { to: { ends_with: '@customer.com' } } },
      { type: 'tool_access', tools: ['notion.pages.create'], resources: ['notion:page:8a1f'] },
    ],
    scope: 'tool:gmail.messages.send tool:notion.pages.create',
    auth_event_id: 'grt_01HVECTORGRANT',
    jti: 'cap_01HVECTOR0001',
    parent_jti: 'at_01HVECTOR0001',
    iat: NOW,
    exp: NOW + 300,
    ...over,
  };
}

export interface VectorRequest {
  /** Seconds since the epoch at which to verify. */
  now: number;
  tool: string;
  resource?: string;
  input?: Record<string, unknown>;
  /** Thumbprint of an already validated DPoP proof key, if one was presented. */
  dpop_jkt?: string;
}

export interface VectorCase {
  name: string;
  format: 'jwt' | 'biscuit';
  token: string;
  request: VectorRequest;
  expected: { outcome: 'allow'; org_id: string; principal: string; sub: string; actor_chain: string[]; jti: string; auth_event_id: string } | { outcome: 'deny'; code: string };
}

const send: VectorRequest = { now: NOW + 10, tool: 'gmail.messages.send', resource: 'gmail:mailbox:ann', input: { to: 'bob@customer.com' } };
const allow = (c: CapabilityClaims) => ({
  outcome: 'allow' as const,
  org_id: c.org_id,
  principal: c.principal,
  sub: c.sub,
  actor_chain: c.act ? ['agt_content_mgr', 'agt_orchestrator'] : [c.client_id],
  jti: c.jti,
  auth_event_id: c.auth_event_id,
});
const deny = (code: string) => ({ outcome: 'deny' as const, code });

/** The cases; `biscuit` tokens are taken from `stored` when checking, so only JWTs must re-mint identically. */
function buildCases(stored: Map<string, string>): VectorCase[] {
  const cases: VectorCase[] = [];
  const base = claims();
  const org = claims({ principal: 'org', sub: 'org_01HVECTORORG', act: undefined, jti: 'cap_01HVECTOR0002' });
  const bound = claims({ cnf: { jkt: 'oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U' }, jti: 'cap_01HVECTOR0003', single_use: true });
  const other = claims({ aud: 'https://other.example/api', jti: 'cap_01HVECTOR0004' });

  const formats = {
    jwt: (c: CapabilityClaims) => mintJwtCapability(c, jwtKey),
    biscuit: (c: CapabilityClaims) => mintBiscuitCapability(c, rootKey).token,
  };
  for (const format of ['jwt', 'biscuit'] as const) {
    // Cases sharing a key share one token (Biscuits differ on every mint, JWTs never do).
    const memo = new Map<string, string>(format === 'biscuit' ? stored : []);
    const token = (name: string, make: () => string) => {
      const key = `${format}:${name}`;
      if (!memo.has(key)) memo.set(key, make());
      return memo.get(key)!;
    };
    const add = (name: string, mint: () => string, request: VectorRequest, expected: VectorCase['expected'], key = name) =>
      cases.push({ name: `${format}: ${name}`, format, token: token(key, mint), request, expected });

    const user = () => formats[format](base);
    add('valid', user, send, allow(base), 'user');
    add('other tool', user, { ...send, tool: 'github.repos.delete' }, deny('insufficient_scope'), 'user');
    add('resource outside the pattern', user, { ...send, resource: 'slack:channel:1' }, deny('insufficient_scope'), 'user');
    add('exact resource', user, { now: NOW + 10, tool: 'notion.pages.create', resource: 'notion:page:8a1f' }, allow(base), 'user');
    add('constraint violated: to', user, { ...send, input: { to: 'eve@evil.com' } }, deny('constraint_failed'), 'user');
    add('constraint input missing', user, { ...send, input: {} }, deny('constraint_failed'), 'user');
    add('expired', user, { ...send, now: NOW + 300 }, deny('expired'), 'user');
    add('wrong audience', () => formats[format](other), send, deny('invalid_token'), 'other-audience');
    add('org principal', () => formats[format](org), send, allow(org), 'org');
    add('DPoP bound, no proof', () => formats[format](bound), send, deny('dpop_required'), 'bound');
    add('DPoP bound, other key', () => formats[format](bound), { ...send, dpop_jkt: 'another-thumbprint' }, deny('invalid_dpop_proof'), 'bound');
    add('DPoP bound, bound key', () => formats[format](bound), { ...send, dpop_jkt: bound.cnf!.jkt }, allow(bound), 'bound');
    if (format === 'jwt') {
      const tampered = () => {
        const [h, , s] = formats.jwt(base).split('.');
        return `${h}.${Buffer.from(JSON.stringify({ ...base, org_id: 'org_other' })).toString('base64url')}.${s}`;
      };
      add('tampered payload', tampered, send, deny('invalid_token'), 'tampered');
    } else {
      const attenuated = () =>
        attenuateBiscuit(formats.biscuit(base), rootKey.publicKey, {
          tools: ['gmail.messages.send'], resources: ['gmail:mailbox:ann'], expires_in: 60, constraints: { subject: { starts_with: '[ext]' } }, clock: fixedClock(NOW * 1000),
        });
      const within = { ...send, input: { to: 'bob@customer.com', subject: '[ext] hello' } };
      add('attenuated: within its checks', attenuated, within, allow(base), 'attenuated');
      add('attenuated: other mailbox', attenuated, { ...within, resource: 'gmail:mailbox:bob' }, deny('insufficient_scope'), 'attenuated');
      add('attenuated: other tool it once had', attenuated, { now: NOW + 10, tool: 'notion.pages.create', resource: 'notion:page:8a1f', input: { subject: '[ext] x' } }, deny('insufficient_scope'), 'attenuated');
      add('attenuated: subject constraint', attenuated, { ...within, input: { to: 'bob@customer.com', subject: 'hello' } }, deny('constraint_failed'), 'attenuated');
      add('attenuated: its own expiry', attenuated, { ...within, now: NOW + 61 }, deny('expired'), 'attenuated');
    }
  }
  return cases;
}

/** Run one case through the capability verifiers; returns what happened in the vectors' terms. */
export async function evaluate(c: VectorCase): Promise<VectorCase['expected']> {
  try {
    if (c.format === 'jwt') {
      const verified = await verifyJwtCapability(c.token, {
        issuer: ISSUER, audience: AUDIENCE, keys: (kid) => (kid === jwtKey.kid ? jwtKey.publicKey : undefined), clock: fixedClock(c.request.now * 1000),
      });
      if (verified.cnf) {
        if (c.request.dpop_jkt === undefined) throw new CapabilityError('dpop_required', 'bound');
        if (c.request.dpop_jkt !== verified.cnf.jkt) throw new CapabilityError('invalid_dpop_proof', 'other key');
      }
      decideAccess(verified.authorization_details, c.request);
      return { ...allow(verified), actor_chain: verified.act ? chain(verified.act) : [verified.client_id] };
    }
    const facts = authorizeBiscuit(c.token, {
      rootKey: (kid) => (kid === rootKey.kid ? rootKey.publicKey : undefined),
      now: c.request.now * 1000,
      audience: AUDIENCE,
      tool: c.request.tool,
      ...(c.request.resource !== undefined && { resource: c.request.resource }),
      ...(c.request.input !== undefined && { input: c.request.input }),
      ...(c.request.dpop_jkt !== undefined && { dpopJkt: c.request.dpop_jkt }),
    });
    return { outcome: 'allow', org_id: facts.org_id, principal: facts.principal, sub: facts.sub, actor_chain: facts.actor_chain, jti: facts.jti, auth_event_id: facts.auth_event_id };
  } catch (error) {
    if (error instanceof CapabilityError) return deny(error.code);
    throw error;
  }
}

function chain(act: { sub: string; act?: unknown }): string[] {
  const out: string[] = [];
  for (let link: { sub: string; act?: unknown } | undefined = act; link; link = link.act as typeof link) out.push(link.sub);
  return out;
}

export function document(stored: Map<string, string>) {
  return {
    description: 'Writ capability vectors: verify each token at request.now (seconds) as audience, with the public keys below, and reach `expected`.',
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: { keys: [jwtKey.publicJwk] },
    biscuit_public_keys: [{ kid: rootKey.kid, algorithm: 'ed25519', public_key: rootKey.publicKey }],
    cases: buildCases(stored),
  };
}

function storedBiscuits(doc: { cases: VectorCase[] }): Map<string, string> {
  // Biscuit cases that share a token share a key; recover it from the name used when generating.
  const keys: Record<string, string> = {
    valid: 'user', 'other tool': 'user', 'resource outside the pattern': 'user', 'exact resource': 'user',
    'constraint violated: to': 'user', 'constraint input missing': 'user', expired: 'user', 'wrong audience': 'other-audience',
    'org principal': 'org', 'DPoP bound, no proof': 'bound', 'DPoP bound, other key': 'bound', 'DPoP bound, bound key': 'bound',
  };
  const map = new Map<string, string>();
  for (const c of doc.cases) {
    if (c.format !== 'biscuit') continue;
    const name = c.name.slice('biscuit: '.length);
    map.set(`biscuit:${name.startsWith('attenuated') ? 'attenuated' : keys[name] ?? name}`, c.token);
  }
  return map;
}

/** Compare a stored vectors file with a fresh generation; returns the list of drifts. */
export async function check(path = OUT): Promise<string[]> {
  const stored = JSON.parse(readFileSync(path, 'utf8')) as ReturnType<typeof document>;
  const fresh = document(storedBiscuits(stored));
  const drift: string[] = [];
  if (JSON.stringify(fresh) !== JSON.stringify(stored)) drift.push('the file differs from a fresh generation (run scripts/gen-vectors.ts)');
  for (const c of stored.cases) {
    const got = await evaluate(c);
    if (JSON.stringify(got) !== JSON.stringify(c.expected)) drift.push(`${c.name}: expected ${JSON.stringify(c.expected)}, got ${JSON.stringify(got)}`);
  }
  return drift;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const drift = await check();
    for (const line of drift) console.error(`drift: ${line}`);
    console.log(drift.length === 0 ? 'vectors: up to date' : `vectors: ${drift.length} drift(s)`);
    process.exit(drift.length === 0 ? 0 : 1);
  }
  let previous = new Map<string, string>();
  try {
    previous = storedBiscuits(JSON.parse(readFileSync(OUT, 'utf8')));
  } catch {
    // first generation
  }
  const doc = document(process.argv.includes('--fresh-biscuits') ? new Map() : previous);
  for (const c of doc.cases) {
    const got = await evaluate(c);
    if (JSON.stringify(got) !== JSON.stringify(c.expected)) throw new Error(`${c.name}: generated token gives ${JSON.stringify(got)}`);
  }
  mkdirSync(fileURLToPath(new URL('../vectors/writ/', import.meta.url)), { recursive: true });
  writeFileSync(OUT, JSON.stringify(doc, null, 2) + '\n');
  console.log(`wrote ${doc.cases.length} vectors to test/vectors/writ/vectors.json`);
}
