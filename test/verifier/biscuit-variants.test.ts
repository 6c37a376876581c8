// A holder of one Biscuit can append blocks offline and so make endless distinct, validly signed
// tokens. Presented one after another to a verifier, they must not make it grow or slow down:
// the token cache is bounded in bytes, and each variant reuses its authority block's facts.
// WRIT_BISCUIT_VARIANTS sets how many (default 2,400; the long form runs 20,000 or more).
//
// What is measured is biscuit-wasm's linear memory, which is never returned to the system. In
// biscuit-wasm 0.6.0 every parse and every authorisation also leaves memory behind that is never
// reused (the library's own leak, measured here as a baseline): past the point where the cache is
// full, a variant may cost that much and no more. Times are compared as ratios only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { generateBiscuitRootKey } from '../../src/capability/keys.ts';
import { attenuateBiscuit, authorityFactsStats, authorizeOpenedBiscuit, mintBiscuitCapability, openBiscuit } from '../../src/capability/biscuit.ts';
import { DEFAULT_BISCUIT_LIMITS } from '../../src/capability/envelope.ts';
import { createVerifier } from '../../src/verifier/index.ts';
import { wasmMemoryBytes } from '../bench/wasm-memory.ts';
import { withBlocks } from '../capability/biscuit-limits-support.ts';
import { startIssuer } from './issuer.ts';

const VARIANTS = Number(process.env.WRIT_BISCUIT_VARIANTS ?? 2400);
const AUDIENCE = 'https://mail.example/api';
const MiB = 1024 * 1024;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test(`${VARIANTS} attenuated variants of one Biscuit: the verifier keeps nothing per variant beyond biscuit-wasm's own cost, and time per new token stays flat`, async (t) => {
  const rootKey = generateBiscuitRootKey(5);
  const issuer = await startIssuer({ jwt: [], biscuit: [rootKey] });
  // A small cache budget, so the plateau is reached within the first fraction of the run.
  const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, feed: { wait: 5 }, cacheBytes: 8 * MiB });
  t.after(async () => {
    verifier.close();
    await issuer.close();
  });
  const now = Math.floor(Date.now() / 1000);
  const token = mintBiscuitCapability({
    iss: issuer.issuer, aud: AUDIENCE, sub: 'usr_ann', principal: 'user', org_id: 'org_x', client_id: 'agt_mailer',
    authorization_details: [{ type: 'tool_access', tools: ['gmail.messages.send'], resources: ['gmail:mailbox:*'] }],
    scope: 'tool:gmail.messages.send', auth_event_id: `grt_${randomUUID()}`, jti: `cap_${randomUUID()}`, iat: now, exp: now + 3600,
  }, rootKey).token;
  // Every variant has the most blocks allowed: the common chain, then one block of its own.
  const chain = withBlocks(token, rootKey.publicKey, DEFAULT_BISCUIT_LIMITS.maxBlocks - 1);
  const request = { tool: 'gmail.messages.send', resource: 'gmail:mailbox:ann' };
  await verifier.verify(chain, request);

  const readsBefore = authorityFactsStats().reads;
  const times: number[] = [];
  const memory = { start: wasmMemoryBytes(), half: 0, end: 0 };
  const rss = { start: process.memoryUsage().rss, half: 0, end: 0 };
  for (let i = 0; i < VARIANTS; i++) {
    const variant = attenuateBiscuit(chain, rootKey.publicKey, { expires_in: 600 + i });
    const started = performance.now();
    await verifier.verify(variant, request);
    times.push(performance.now() - started);
    if (i === Math.floor(VARIANTS / 2) - 1) {
      memory.half = wasmMemoryBytes();
      rss.half = process.memoryUsage().rss;
    }
  }
  memory.end = wasmMemoryBytes();
  rss.end = process.memoryUsage().rss;

  // What biscuit-wasm 0.6.0 itself keeps per token, whoever calls it: every parse and every
  // authorisation leaves wasm memory behind that is never reused. Measured on fresh variants
  // opened, authorised and freed directly, with nothing cached.
  const baselineRuns = Math.floor(VARIANTS / 4);
  const baselineStart = wasmMemoryBytes();
  for (let i = 0; i < baselineRuns; i++) {
    const opened = openBiscuit(attenuateBiscuit(chain, rootKey.publicKey, { expires_in: 10_000 + i }), (kid) => (kid === 5 ? rootKey.publicKey : undefined));
    authorizeOpenedBiscuit(opened, { now: Date.now(), audience: AUDIENCE, ...request });
    opened.biscuit.free();
  }
  const leakPerToken = (wasmMemoryBytes() - baselineStart) / baselineRuns;

  const quarter = Math.floor(VARIANTS / 4);
  const quarters = [0, 1, 2, 3].map((q) => mean(times.slice(q * quarter, (q + 1) * quarter)));
  const timeRatio = quarters[3]! / quarters[0]!;
  const perVariantSecondHalf = (memory.end - memory.half) / (VARIANTS - Math.floor(VARIANTS / 2));
  t.diagnostic(`wasm memory ${(memory.start / MiB).toFixed(1)} → ${(memory.half / MiB).toFixed(1)} → ${(memory.end / MiB).toFixed(1)} MiB; ` +
    `RSS ${(rss.start / MiB).toFixed(0)} → ${(rss.half / MiB).toFixed(0)} → ${(rss.end / MiB).toFixed(0)} MiB; ` +
    `second half ${(perVariantSecondHalf / 1024).toFixed(1)} KiB per variant, biscuit-wasm's own ${(leakPerToken / 1024).toFixed(1)} KiB per token; ` +
    `time per new token by quarter ${quarters.map((q) => q.toFixed(2)).join(', ')} ms (last / first ${timeRatio.toFixed(2)}); ` +
    `authority facts read ${authorityFactsStats().reads - readsBefore} times`);

  assert.equal(authorityFactsStats().reads - readsBefore, 0, 'every variant reused the authority block\'s facts');
  // Once the 8 MiB cache is full, a variant may cost what biscuit-wasm keeps anyway, and no more:
  // the verifier holds nothing further per token.
  assert.ok(perVariantSecondHalf <= 1.06 * leakPerToken,
    `the second half grew wasm memory ${(perVariantSecondHalf / 1024).toFixed(1)} KiB per variant; biscuit-wasm alone keeps ${(leakPerToken / 1024).toFixed(1)} KiB`);
  assert.ok(timeRatio < 3, `the last quarter's tokens took ${timeRatio.toFixed(2)} times as long as the first quarter's`);
});
