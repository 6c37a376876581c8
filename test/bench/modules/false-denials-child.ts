// Runs in its own process: mints `count` Biscuit capabilities with varied rights (half with an
// attenuation block), authorises a request each should allow, and counts denials. Also measures
// the wasm memory each authorisation leaves behind. Prints one JSON line.
import { randomUUID } from 'node:crypto';
import { attenuateBiscuit, authorizeBiscuit, mintBiscuitCapability } from '../../../src/capability/index.ts';
import { generateBiscuitRootKey } from '../../../src/capability/keys.ts';
import { wasmMemoryBytes } from '../wasm-memory.ts';

const count = Number(process.argv[2] ?? 1000);
const seed = Number(process.argv[3] ?? 0);
const key = generateBiscuitRootKey(7);
const ISSUER = 'https://writ.bench';
const AUDIENCE = 'https://notes.example/api';
const TOOLS = ['demo.notes.create', 'demo.notes.read', 'notion.pages.create', 'gmail.messages.send', 'slack.chat.post'];

// A pool of distinct tokens, each authorised many times with different requests: every
// authorisation is a fresh open + authorise (no cache), as a verifier that sees the token first.
const POOL = Math.min(count, 400);
interface Minted { token: string; tool: string; resources: string[] }
const pool: Minted[] = [];
for (let j = 0; j < POOL; j++) {
  const k = seed * 1_000_003 + j;
  const tool = TOOLS[k % TOOLS.length]!;
  const id = (Math.imul(k, 2654435761) >>> 0).toString(16);
  const shape = k % 3;
  const grant = shape === 0 ? `res:${k % 7}:*` : shape === 1 ? `res:*:${id}` : `res:${k % 7}:${id}`;
  const now = Math.floor(Date.now() / 1000);
  let token = mintBiscuitCapability({
    iss: ISSUER, aud: AUDIENCE, sub: `usr_${k % 1000}`, principal: 'user', org_id: `org_${k % 13}`, client_id: 'agt_bench',
    authorization_details: [{ type: 'tool_access', tools: [tool, TOOLS[(k + 1) % TOOLS.length]!], resources: [grant], constraints: { n: { max: 100 + (k % 50) } } }],
    scope: `tool:${tool}`, auth_event_id: `grt_${k}`, jti: `cap_${randomUUID()}`, iat: now, exp: now + 3600,
  }, key).token;
  // Resources each token allows: for the exact grant only itself, for the globs several.
  const resources = shape === 2 ? [grant] : [0, 1, 2].map((m) => shape === 0 ? `res:${k % 7}:${id}${m}` : `res:${m}:${id}`);
  if (k % 2 === 0) {
    // One attenuation block that still allows `resources[0]`.
    token = attenuateBiscuit(token, key.publicKey, { tools: [tool], resources: [resources[0]!], constraints: { n: { max: 100 } } });
    resources.length = 1;
  }
  pool.push({ token, tool, resources });
}

let denials = 0;
const reasons: Record<string, number> = {};
let authorizeMs = 0;
const warmup = Math.min(200, Math.floor(count / 10));
let wasmAfterWarmup = wasmMemoryBytes();
for (let i = 0; i < count; i++) {
  if (i === warmup) wasmAfterWarmup = wasmMemoryBytes();
  const minted = pool[i % POOL]!;
  const resource = minted.resources[i % minted.resources.length]!;
  const t0 = performance.now();
  try {
    authorizeBiscuit(minted.token, { rootKey: () => key.publicKey, now: Date.now(), tool: minted.tool, resource, audience: AUDIENCE, input: { n: i % 100 } });
  } catch (error) {
    denials++;
    const reason = (error as { code?: string; message?: string }).code ?? (error as Error).message ?? String(error);
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  authorizeMs += performance.now() - t0;
}
const wasmEnd = wasmMemoryBytes();
process.stdout.write(JSON.stringify({
  authorizations: count, denials, reasons, authorizeMs, wasmEndBytes: wasmEnd,
  leakBytesPerAuthorization: count - warmup > 0 ? (wasmEnd - wasmAfterWarmup) / (count - warmup) : 0,
}) + '\n');
