// Minting parses each statement shape once and sets its parameters for every token after. Whatever
// the claims, the authority block must be exactly the one parsing the whole block's Datalog writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Biscuit, BiscuitBuilder, PrivateKey, PublicKey, SignatureAlgorithm } from '@biscuit-auth/biscuit-wasm';
import { authorityBlock, generateBiscuitRootKey, mintBiscuitCapability, type CapabilityClaims } from '../../src/capability/index.ts';
import { addTo } from '../../src/capability/datalog.ts';

const root = generateBiscuitRootKey(3);
const publicKey = () => PublicKey.fromBytes(Buffer.from(root.publicKey, 'hex'), SignatureAlgorithm.Ed25519);

function printedAuthority(token: string): string {
  const biscuit = Biscuit.fromBase64(token, publicKey());
  try {
    return biscuit.getBlockSource(0);
  } finally {
    biscuit.free();
  }
}

/** The same block through biscuit-wasm's parser, all at once. */
function parsedWhole(claims: CapabilityClaims): string {
  const builder = new BiscuitBuilder();
  addTo(builder, authorityBlock(claims));
  builder.setRootKeyId(root.kid);
  const token = builder.build(PrivateKey.fromBytes(Buffer.from(root.privateKey, 'hex'), SignatureAlgorithm.Ed25519));
  try {
    return printedAuthority(token.toBase64());
  } finally {
    token.free();
  }
}

// Strings a caller may put in a token: quotes, braces, Datalog punctuation, non-ASCII.
const text = fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom('a', 'z', '0', '"', '\\', '{', '}', ';', ',', ' ', 'é', '$', '(', ')', '/') });
const id = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);
const constraint = fc.oneof(
  fc.record({ eq: fc.oneof(text, fc.integer({ min: -1000, max: 1000 })) }),
  fc.record({ one_of: fc.oneof(fc.uniqueArray(text, { minLength: 1, maxLength: 3 }), fc.uniqueArray(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 3 })) }),
  fc.record({ starts_with: text }, { requiredKeys: [] }),
  fc.record({ max: fc.integer({ min: 0, max: 10 }), min: fc.integer({ min: -10, max: 0 }) }, { requiredKeys: ['max'] }),
);
const detail = fc.record({
  type: fc.constant('tool_access' as const),
  tools: fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}\.[a-z]{1,6}$/), { minLength: 1, maxLength: 2 }),
  resources: fc.option(fc.uniqueArray(fc.oneof(fc.constant('*'), text.map((t) => `r:${t.replace(/\*/g, '')}`), text.map((t) => `p:${t.replace(/\*/g, '')}*`)), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  constraints: fc.option(fc.dictionary(id, constraint, { minKeys: 1, maxKeys: 2 }), { nil: undefined }),
}).map((d) => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as unknown as CapabilityClaims['authorization_details'][number]);

const claims = fc.record({
  sub: id, principal: fc.constantFrom('user' as const, 'org' as const), aud: text.map((t) => `https://rs.example/${encodeURIComponent(t)}`),
  chain: fc.array(id, { minLength: 0, maxLength: 2 }), details: fc.array(detail, { minLength: 1, maxLength: 2 }),
  parent: fc.option(id, { nil: undefined }), jkt: fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), { nil: undefined }), singleUse: fc.boolean(),
}).map(({ sub, principal, aud, chain, details, parent, jkt, singleUse }): CapabilityClaims => {
  const now = 1_760_000_000;
  const act = chain.reduceRight<CapabilityClaims['act']>((inner, agent) => ({ sub: agent, ...(inner && { act: inner }) }), undefined);
  return {
    iss: 'https://writ.example', aud, sub: principal === 'org' ? 'org_1' : `usr_${sub}`, principal, org_id: 'org_1', client_id: 'agt_1',
    ...(act && { act: { sub: 'agt_1', act } }),
    authorization_details: details, scope: 'tool:x', auth_event_id: 'grt_1', jti: `cap_${sub}`, iat: now, exp: now + 300,
    ...(parent !== undefined && { parent_jti: `cap_${parent}` }), ...(jkt !== undefined && { cnf: { jkt } }), ...(singleUse && { single_use: true }),
  };
});

test('a minted authority block is exactly what parsing its whole Datalog gives, for any claims', () => {
  let compared = 0;
  fc.assert(fc.property(claims, (c) => {
    let minted: string;
    try {
      minted = mintBiscuitCapability(c, root).token;
    } catch (error) {
      // Claims the schema refuses are refused alike by both; nothing to compare.
      if (error instanceof TypeError) return;
      throw error;
    }
    assert.equal(printedAuthority(minted), parsedWhole(c));
    compared++;
  }), { numRuns: Number(process.env.WRIT_PROPERTY_RUNS ?? 150) });
  assert.ok(compared > 50, `only ${compared} claims were valid to compare`);
});
