// The verifier library with its Biscuits opened on worker threads decides every request exactly as
// it does on its own thread: the same refusals with the same codes, the same variant budget, the
// same answer for a second request on a token already verified, across worker replacements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BiscuitPool } from '../../src/capability/biscuit-pool.ts';
import { attenuateBiscuit, generateBiscuitRootKey, mintBiscuitCapability, type CapabilityClaims } from '../../src/capability/index.ts';
import { createVerifier, VerifierError, type VerifyRequest } from '../../src/verifier/index.ts';
import { startIssuer } from './issuer.ts';

const AUDIENCE = 'https://notes.example/api';
const TOOL = 'notes.create';

test('worker-opened Biscuits get the same decisions as Biscuits opened in process', async (t) => {
  const root = generateBiscuitRootKey(5);
  const stranger = generateBiscuitRootKey(5);
  const issuer = await startIssuer({ jwt: [], biscuit: [root] });
  t.after(() => issuer.close());
  // A tiny bound, so workers are replaced while the table runs.
  const pool = new BiscuitPool({ size: 2, recycleAfterBytes: 1 });
  t.after(() => pool.close());
  let opens = 0;
  const counted = { open: (...args: Parameters<BiscuitPool['open']>) => { opens++; return pool.open(...args); } };
  const limits = { maxVariants: 2 };
  const inProcess = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, feed: { wait: 1 }, biscuitLimits: limits });
  const onWorkers = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, feed: { wait: 1 }, biscuitLimits: limits, biscuitWorkers: counted });
  t.after(() => { inProcess.close(); onWorkers.close(); });

  const now = Math.floor(Date.now() / 1000);
  let n = 0;
  const claims = (over: Partial<CapabilityClaims> = {}): CapabilityClaims => ({
    iss: issuer.issuer, aud: AUDIENCE, sub: 'usr_1', principal: 'user', org_id: 'org_1', client_id: 'agt_1',
    authorization_details: [{ type: 'tool_access', tools: [TOOL, 'notes.read'], resources: ['notebook:team-*', 'a*b*c'], constraints: { title: { starts_with: 'weekly' } } }],
    scope: `tool:${TOOL}`, auth_event_id: 'grt_1', jti: `cap_${++n}`, iat: now, exp: now + 300, ...over,
  });
  const mint = (over: Partial<CapabilityClaims> = {}, key = root) => mintBiscuitCapability(claims(over), key).token;
  const ok: VerifyRequest = { tool: TOOL, resource: 'notebook:team-a', input: { title: 'weekly notes' } };
  const base = mint();

  const rows: Array<[string, () => string, VerifyRequest]> = [
    ['allowed', () => mint(), ok],
    ['another tool', () => mint(), { ...ok, tool: 'notes.delete' }],
    ['a resource outside the pattern', () => mint(), { ...ok, resource: 'notebook:private' }],
    ['a many-star pattern the verifier matches', () => mint(), { ...ok, resource: 'aXbYc' }],
    ['an input outside the constraint', () => mint(), { ...ok, input: { title: 'monthly' } }],
    ['expired', () => mint({ iat: now - 600, exp: now - 60 }), ok],
    ['another audience', () => mint({ aud: 'https://other.example' }), ok],
    ['another issuer', () => mint({ iss: 'https://evil.example' }), ok],
    ['signed by a stranger under the same key id', () => mint({}, stranger), ok],
    ['attenuated within', () => attenuateBiscuit(mint(), root.publicKey, { tools: [TOOL] }), ok],
    ['attenuated against', () => attenuateBiscuit(mint(), root.publicKey, { tools: ['notes.read'] }), ok],
    // The same token attenuated three ways: the third variant is over the budget of 2.
    ['variant 1', () => attenuateBiscuit(base, root.publicKey, { expires_in: 100 }), ok],
    ['variant 2', () => attenuateBiscuit(base, root.publicKey, { expires_in: 200 }), ok],
    ['variant 3, over the budget', () => attenuateBiscuit(base, root.publicKey, { expires_in: 250 }), ok],
  ];
  const outcome = async (verifier: typeof inProcess, token: string, request: VerifyRequest) => {
    try {
      const verified = await verifier.verify(token, request);
      return `allowed ${verified.jti}`;
    } catch (error) {
      if (error instanceof VerifierError) return error.code;
      throw error;
    }
  };
  const seen: string[] = [];
  for (const [name, make, request] of rows) {
    const token = make();
    const here = await outcome(inProcess, token, request);
    const there = await outcome(onWorkers, token, request);
    assert.equal(there, here, name);
    seen.push(`${name}: ${here}`);
    // A second request on a token already verified: decided again on a worker.
    const second = { ...request, input: { title: 'weekly plan' } };
    assert.equal(await outcome(onWorkers, token, second), await outcome(inProcess, token, second), `${name}, second request`);
  }
  const decided = new Set(seen.map((s) => s.split(': ')[1]!.split(' ')[0]));
  for (const code of ['allowed', 'insufficient_scope', 'constraint_failed', 'expired', 'invalid_token']) assert.ok(decided.has(code), `the table reaches ${code}: ${seen.join('; ')}`);
  assert.ok(opens >= rows.length, 'the worker verifier opened its Biscuits on the pool');
  assert.ok(pool.recycled > 0, 'workers were replaced while the table ran');
});
