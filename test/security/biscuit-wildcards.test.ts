// Resource patterns with any number of `*` in Biscuit capabilities: exchanged like JWTs (never a
// 5xx), and deciding exactly as the JWT path does. fast-check; WRIT_PROPERTY_RUNS sets the HTTP runs
// (default 40), ten times that for the in-process property.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideAccess } from '../../src/capability/access.ts';
import { authorizeBiscuit, mintBiscuitCapability } from '../../src/capability/index.ts';
import { CapabilityError } from '../../src/capability/errors.ts';
import { generateBiscuitRootKey } from '../../src/capability/keys.ts';
import { createVerifier, VerifierError, type Verifier } from '../../src/verifier/index.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, ACCESS_TOKEN, BISCUIT, JWT } from '../support/exchange.ts';
import { claims, AUDIENCE, NOW } from '../capability/fixtures.ts';

const RUNS = Number(process.env.WRIT_PROPERTY_RUNS ?? 40);
const TOOL = 'demo.notes.create';

const pattern = fc.string({ unit: fc.constantFrom('a', 'b', ':', '*'), minLength: 1, maxLength: 8 });
const resource = fc.string({ unit: fc.constantFrom('a', 'b', ':'), minLength: 1, maxLength: 8 });

const outcome = (decide: () => unknown): string => {
  try {
    decide();
    return 'allowed';
  } catch (error) {
    if (error instanceof CapabilityError || error instanceof VerifierError) return error.code;
    throw error;
  }
};

test('in process: a Biscuit and a JWT with the same resource patterns decide every resource alike', () => {
  const root = generateBiscuitRootKey(1);
  fc.assert(fc.property(fc.uniqueArray(pattern, { minLength: 1, maxLength: 3 }), fc.array(resource, { minLength: 1, maxLength: 6 }), (patterns, resources) => {
    const details = [{ type: 'tool_access' as const, tools: [TOOL], resources: patterns }];
    const token = mintBiscuitCapability(claims({ authorization_details: details, scope: `tool:${TOOL}` }), root).token;
    for (const r of resources) {
      const jwt = outcome(() => decideAccess(details, { tool: TOOL, resource: r }));
      const biscuit = outcome(() => authorizeBiscuit(token, { rootKey: () => root.publicKey, now: NOW * 1000 + 1000, audience: AUDIENCE, tool: TOOL, resource: r }));
      assert.equal(biscuit, jwt, `patterns ${JSON.stringify(patterns)}, resource ${r}`);
    }
  }), { numRuns: RUNS * 10 });
});

test('over HTTP: a grant on demo:*:* exchanges for a Biscuit (200, as the JWT does), and random patterns never answer 5xx and agree', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const verifier: Verifier = createVerifier({ issuer: writ.issuer, audience: writ.executorResource });
  t.after(() => verifier.close());

  const wild = await seedOrg(writ, { tools: [TOOL] });
  const wildRun = await delegate(writ, wild, { authorization_details: [{ type: 'tool_access', tools: [TOOL], resources: ['demo:*:*'] }] });
  const ask = (subject: string, resources: string[], type: string) => exchange(writ, wild.agent, {
    subject_token: subject, subject_token_type: ACCESS_TOKEN, requested_token_type: type,
    authorization_details: JSON.stringify([{ type: 'tool_access', tools: [TOOL], resources }]),
  });
  for (const type of [JWT, BISCUIT]) {
    const answer = await ask(wildRun.tokens!.access_token, ['demo:*:*'], type);
    assert.equal(answer.status, 200, `${type}: ${JSON.stringify(answer.json)}`);
    const token = answer.json.access_token as string;
    assert.equal((await verifier.verify(token, { tool: TOOL, resource: 'demo:notebook:team' })).org_id, wild.org.id);
    await assert.rejects(verifier.verify(token, { tool: TOOL, resource: 'demo:notebook' }), (e: unknown) => e instanceof VerifierError && e.code === 'insufficient_scope');
  }

  // Any resource granted: each exchange asks for random patterns, in both formats.
  const any = await seedOrg(writ, { tools: [TOOL] });
  const anyRun = await delegate(writ, any, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
  const subject = anyRun.tokens!.access_token;
  const askAny = (resources: string[], type: string) => exchange(writ, any.agent, {
    subject_token: subject, subject_token_type: ACCESS_TOKEN, requested_token_type: type,
    authorization_details: JSON.stringify([{ type: 'tool_access', tools: [TOOL], resources }]),
  });
  await fc.assert(fc.asyncProperty(fc.uniqueArray(pattern, { minLength: 1, maxLength: 3 }), fc.array(resource, { minLength: 1, maxLength: 4 }), async (patterns, resources) => {
    const [jwt, biscuit] = [await askAny(patterns, JWT), await askAny(patterns, BISCUIT)];
    assert.ok(jwt.status < 500 && biscuit.status < 500, `${jwt.status} / ${biscuit.status}: ${JSON.stringify(biscuit.json)}`);
    assert.equal(biscuit.status, jwt.status, `patterns ${JSON.stringify(patterns)}: ${JSON.stringify([jwt.json, biscuit.json])}`);
    if (jwt.status !== 200) return;
    for (const r of resources) {
      const decide = async (token: string) => {
        try {
          await verifier.verify(token, { tool: TOOL, resource: r });
          return 'allowed';
        } catch (error) {
          if (error instanceof VerifierError) return error.code;
          throw error;
        }
      };
      assert.equal(await decide(biscuit.json.access_token), await decide(jwt.json.access_token), `patterns ${JSON.stringify(patterns)}, resource ${r}`);
    }
  }), { numRuns: RUNS });
});
