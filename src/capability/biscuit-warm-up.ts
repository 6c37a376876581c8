import { TOOL_ACCESS } from '../rights/rights.ts';
import { authorizeBiscuit } from './biscuit-authorise.ts';
import { mintBiscuitCapability } from './biscuit-mint.ts';
import { loadBiscuit } from './biscuit-runtime.ts';

/**
 * Loads biscuit-wasm (loadBiscuit) and runs it a few times: the first evaluations after load are
 * slow enough to hit its 1 ms run limit (which the timeout retry absorbs at a cost). A process
 * that will authorise Biscuits calls this once at start to pay for both up front; importing any
 * module does no such work.
 */
export async function warmUpBiscuit(rounds = 20): Promise<void> {
  const { KeyPair, SignatureAlgorithm } = await loadBiscuit();
  const pair = new KeyPair(SignatureAlgorithm.Ed25519);
  const seed = new Uint8Array(32);
  pair.getPrivateKey().toBytes(seed);
  const publicKey = new Uint8Array(32);
  pair.getPublicKey().toBytes(publicKey);
  const publicHex = Buffer.from(publicKey).toString('hex');
  pair.free();
  const now = Date.now();
  const minted = mintBiscuitCapability(
    {
      iss: 'https://warm.up', aud: 'https://warm.up/rs', sub: 'usr_warm', principal: 'user', org_id: 'org_warm',
      client_id: 'agt_warm', authorization_details: [{ type: TOOL_ACCESS, tools: ['warm.up'], resources: ['w:*'], constraints: { n: { max: 1 } } }],
      scope: 'tool:warm.up', auth_event_id: 'grt_warm', jti: 'cap_warm', iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 60,
    },
    { kid: 0, privateKey: Buffer.from(seed).toString('hex'), publicKey: '' },
  );
  for (let i = 0; i < rounds; i++) {
    try {
      authorizeBiscuit(minted.token, { rootKey: () => publicHex, now, tool: 'warm.up', resource: 'w:1', audience: 'https://warm.up/rs', input: { n: 1 } });
    } catch {
      // Only warming; the real calls report their own errors.
    }
  }
}
