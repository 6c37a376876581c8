// Property: whatever grant and whatever request, what token exchange issues is within the grant,
// the acting agent's ceiling and the subject's lifetime — or nothing is issued at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { AuditLog } from '../../src/audit/log.ts';
import { generateBiscuitRootKey, generateJwtKey, verifyJwtCapability } from '../../src/capability/index.ts';
import { fixedClock } from '../../src/core/clock.ts';
import { whyNotWithin, type ToolAccessDetail } from '../../src/core/rights.ts';
import { WritError } from '../../src/errors/index.ts';
import { exchangeToken } from '../../src/exchange/rfc8693.ts';
import { TOKEN_TYPE } from '../../src/exchange/params.ts';
import type { Subject } from '../../src/exchange/subject.ts';
import { createPolicySet, parsePolicyFile } from '../../src/policy/index.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';

const TOOLS = ['a.read', 'a.write', 'b.read', 'b.send'];
const RESOURCES = ['r:1', 'r:2', 'r:x*', 'r:*'];
const ISSUER = 'https://writ.test';
const AUDIENCE = `${ISSUER}/executor`;

const detail = fc.record({
  type: fc.constant('tool_access' as const),
  tools: fc.uniqueArray(fc.constantFrom(...TOOLS), { minLength: 1, maxLength: 3 }),
  resources: fc.option(fc.uniqueArray(fc.constantFrom(...RESOURCES), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  constraints: fc.option(fc.record({ amount: fc.record({ max: fc.integer({ min: 0, max: 100 }) }) }), { nil: undefined }),
}).map((d) => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as unknown as ToolAccessDetail);

test('token exchange never issues more than the grant, the ceiling and the subject allow', async (t) => {
  const store = openSqliteStore(':memory:');
  const clock = fixedClock(Date.parse('2026-01-01T00:00:00Z'));
  const audit = new AuditLog(store.audit, clock);
  const jwtKey = generateJwtKey('k1');
  const keys = {
    capabilitySigningKey: jwtKey, biscuitRootKey: generateBiscuitRootKey(1),
    jwtVerificationKey: (kid: string) => (kid === 'k1' ? jwtKey.publicKey : undefined),
    biscuitRootKeyById: () => undefined,
  };
  const policies = createPolicySet([parsePolicyFile(readFileSync(join(import.meta.dirname, '../../policies/default.yaml'), 'utf8'), 'default.yaml')]);
  await store.directory.createOrg({ id: 'org_1', name: 'Org', created_at: '2026-01-01T00:00:00Z' });
  let n = 0;
  let issued = 0;
  let refused = 0;

  await fc.assert(fc.asyncProperty(
    fc.array(detail, { minLength: 1, maxLength: 3 }),
    fc.uniqueArray(fc.constantFrom(...TOOLS), { minLength: 1, maxLength: 4 }),
    fc.option(fc.array(detail, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    fc.integer({ min: 1, max: 900 }),
    async (granted, ceiling, requested, subjectLife) => {
      n++;
      const agent = `agt_${n}`;
      const grant = `grt_${n}`;
      await store.directory.createAgent('org_1', { client_id: agent, org_id: 'org_1', name: 'A', redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', tools: ceiling, created_at: '2026-01-01T00:00:00Z' });
      await store.grants.createGrant('org_1', { id: grant, org_id: 'org_1', user_id: 'usr_1', agent_id: agent, authorization_details: granted, created_at: '2026-01-01T00:00:00Z' });
      const nowS = Math.floor(clock.now() / 1000);
      const subject: Subject = {
        kind: 'delegated', format: 'access_token', org_id: 'org_1', principal: 'user', sub: 'usr_1', chain: [agent],
        auth_event_id: grant, rights: granted, exp: nowS + subjectLife, ref: `at_${n}`,
      };
      try {
        const res = await exchangeToken({
          issuer: ISSUER, clock, directory: store.directory, grants: store.grants, capabilities: store.capabilities, audit, keys,
          policies: () => policies, isAudience: async (_o, a) => a === AUDIENCE, defaultAudience: AUDIENCE,
          resolveAccessToken: async () => subject,
        }, {
          client: { client_id: agent, org_id: 'org_1' },
          params: { subject_token: 'x', subject_token_type: TOKEN_TYPE.access_token, requested_token_type: TOKEN_TYPE.jwt, audience: undefined, requested, viaScope: false },
        });
        const claims = verifyJwtCapability(res.access_token, { issuer: ISSUER, audience: AUDIENCE, keys: keys.jwtVerificationKey, clock });
        assert.equal(whyNotWithin(claims.authorization_details, granted, clock.now()), undefined, 'issued ⊆ grant');
        for (const d of claims.authorization_details) for (const t of d.tools) assert.ok(ceiling.includes(t), 'issued ⊆ ceiling');
        if (requested) assert.equal(whyNotWithin(claims.authorization_details, requested, clock.now()), undefined, 'issued ⊆ request');
        assert.ok(claims.exp <= subject.exp, 'never outlives the subject');
        assert.ok(claims.exp - claims.iat <= 300, 'never outlives the policy');
        issued++;
      } catch (err) {
        assert.ok(err instanceof WritError, `a refusal, not a crash: ${String(err)}`);
        refused++;
        assert.ok(['invalid_authorization_details', 'invalid_scope', 'access_denied', 'invalid_grant'].includes(err.code), err.code);
      }
    },
  ), { numRuns: 300 });
  t.diagnostic(`issued ${issued}, refused ${refused}`);
  assert.ok(issued > 5 && refused > 5, 'both outcomes are exercised');
  await store.close();
});
