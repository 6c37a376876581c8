// The Biscuit worker pool mints what the library mints, answers every task even while a worker is
// being replaced for its grown wasm memory, reports refusals as the same errors, and refuses work
// once closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BiscuitPool } from '../../src/capability/biscuit-pool.ts';
import { authorizeBiscuit, generateBiscuitRootKey, type CapabilityClaims } from '../../src/capability/index.ts';

const root = generateBiscuitRootKey(4);
const NOW = Math.floor(Date.now() / 1000);

const claims = (i: number): CapabilityClaims => ({
  iss: 'https://writ.example', aud: 'https://rs.example', sub: `usr_${i}`, principal: 'user', org_id: 'org_pool', client_id: 'agt_pool',
  authorization_details: [{ type: 'tool_access', tools: ['notes.create'], resources: [`notebook:${i}`], constraints: { title: { starts_with: 'weekly' } } }],
  scope: 'tool:notes.create', auth_event_id: `grt_${i}`, jti: `cap_pool_${i}`, iat: NOW, exp: NOW + 300,
});

test('tokens minted in the pool authorise and read back as the claims, through worker replacements', async (t) => {
  // A tiny bound: every few mints the worker is replaced while others are in flight.
  const pool = new BiscuitPool({ size: 2, recycleAfterBytes: 1 });
  t.after(() => pool.close());
  const count = 60;
  const minted = await Promise.all(Array.from({ length: count }, (_, i) => pool.mint(claims(i), root)));
  assert.ok(pool.recycled >= 2, `workers were replaced ${pool.recycled} times`);
  minted.forEach((m, i) => {
    assert.equal(m.revocation_ids.length, 1);
    const facts = authorizeBiscuit(m.token, {
      rootKey: (kid) => (kid === root.kid ? root.publicKey : undefined), now: NOW * 1000, audience: 'https://rs.example',
      tool: 'notes.create', resource: `notebook:${i}`, input: { title: 'weekly notes' },
    });
    assert.equal(facts.sub, `usr_${i}`);
    assert.equal(facts.jti, `cap_pool_${i}`);
    assert.deepEqual(facts.revocation_ids, m.revocation_ids);
  });
});

test('a refusal in a worker is the same error in the caller, and the worker goes on', async (t) => {
  const pool = new BiscuitPool({ size: 1 });
  t.after(() => pool.close());
  await assert.rejects(pool.mint({ ...claims(1), iss: '' } as CapabilityClaims, root), TypeError);
  assert.equal((await pool.mint(claims(2), root)).revocation_ids.length, 1);
});

test('a closed pool refuses new work', async () => {
  const pool = new BiscuitPool({ size: 1 });
  await pool.mint(claims(3), root);
  await pool.close();
  await assert.rejects(pool.mint(claims(4), root), /closed/);
});
