// Capabilities minted by a running Writ, for the middleware tests: a delegation through the
// authorization endpoint, then token exchange for a JWT and a Biscuit.
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { generateJwtKey, mintJwtCapability, type CapabilityClaims } from '../../src/capability/index.ts';
import { seedOrg, type TestWrit } from '../support/writ.ts';
import { startWritWithDemo } from '../support/connect.ts';
import { delegate, type Seeded } from '../support/delegation.ts';
import { exchange, ACCESS_TOKEN, BISCUIT } from '../support/exchange.ts';

export const TOOL = 'demo.notes.create';
export const OTHER_TOOL = 'demo.notes.list';

export interface CapabilityPair { jwt: string; biscuit: string; grant: string }

export interface WritWithCapabilities {
  writ: TestWrit;
  seeded: Seeded;
  /** A JWT and a Biscuit for `tool`, from one grant. */
  mint(tool: string): Promise<CapabilityPair>;
  /** A JWT with the server's key id and claims, signed by another key. */
  forge(pair: CapabilityPair): string;
  /** End a grant, and with it every capability minted from it. */
  revoke(pair: CapabilityPair): Promise<void>;
  stop(): Promise<void>;
}

export async function startWritWithCapabilities(): Promise<WritWithCapabilities> {
  const { writ, demo } = await startWritWithDemo();
  const seeded = await seedOrg(writ, { tools: [TOOL, OTHER_TOOL] });
  return {
    writ,
    seeded,
    async mint(tool) {
      const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [tool] }] });
      assert.ok(run.tokens, 'the delegation issued tokens');
      const subject = { subject_token: run.tokens.access_token, subject_token_type: ACCESS_TOKEN };
      const jwt = await exchange(writ, seeded.agent, subject);
      const biscuit = await exchange(writ, seeded.agent, { ...subject, requested_token_type: BISCUIT });
      assert.equal(jwt.status, 200, JSON.stringify(jwt.json));
      assert.equal(biscuit.status, 200, JSON.stringify(biscuit.json));
      const grant = (decodeJwt(jwt.json.access_token) as unknown as CapabilityClaims).auth_event_id;
      return { jwt: jwt.json.access_token, biscuit: biscuit.json.access_token, grant };
    },
    forge(pair) {
      const claims = decodeJwt(pair.jwt) as unknown as CapabilityClaims;
      return mintJwtCapability(claims, { kid: writ.keys.capabilitySigningKey.kid, privateKey: generateJwtKey('forger').privateKey });
    },
    async revoke(pair) {
      assert.equal((await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants/${pair.grant}`)).status, 204);
    },
    async stop() {
      await writ.stop();
      await demo.close();
    },
  };
}
