// A holder of one Biscuit can append blocks offline and so make endless distinct, validly signed
// tokens. Presented one after another to a verifier, they must not make it grow or slow down.
// Two defences, one test each: a capability's distinct attenuated tokens are bounded (the first
// `maxVariants` are accepted, the rest refused before biscuit-wasm parses them), and the variants
// that are accepted reuse their authority block's facts and live in a cache bounded in bytes.
// WRIT_BISCUIT_VARIANTS sets how many (default 2,400; the long form runs 20,000 or more).
//
// What is measured is biscuit-wasm's linear memory, which is never returned to the system. In
// biscuit-wasm 0.6.0 every authorisation of a new token also leaves memory behind that is never
// reused (the library's own leak, measured here as a baseline): an accepted variant may cost that
// much and no more. Times are compared as ratios only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BISCUIT_LIMITS } from '../../src/capability/envelope.ts';
import { attenuateBiscuit, authorityFactsStats, authorizeOpenedBiscuit, openBiscuit } from '../../src/capability/index.ts';
import { wasmMemoryBytes } from '../bench/wasm-memory.ts';
import { AUDIENCE, MiB, VARIANTS, issuerAndVerifier, median, mintFor, request } from './biscuit-variants-support.ts';

test(`${VARIANTS} accepted variants across many capabilities: the verifier keeps nothing per variant beyond biscuit-wasm's own cost, and time per new token stays flat`, async (t) => {
  const { rootKey, issuer, verifier } = await issuerAndVerifier(t, 6);
  const perCapability = Math.floor(DEFAULT_BISCUIT_LIMITS.maxVariants! * 0.9);
  const chains = Array.from({ length: Math.ceil(VARIANTS / perCapability) }, () => mintFor(issuer.issuer, rootKey));
  for (const chain of chains) await verifier.verify(chain, request);
  const variants = Array.from({ length: VARIANTS }, (_, i) => attenuateBiscuit(chains[Math.floor(i / perCapability)]!, rootKey.publicKey, { expires_in: 600 + i }));

  const readsBefore = authorityFactsStats().reads;
  const times: number[] = [];
  const memory = { start: wasmMemoryBytes(), half: 0, end: 0 };
  const rss = { start: process.memoryUsage().rss, half: 0, end: 0 };
  for (let i = 0; i < VARIANTS; i++) {
    const started = performance.now();
    await verifier.verify(variants[i]!, request);
    times.push(performance.now() - started);
    if (i === Math.floor(VARIANTS / 2) - 1) {
      memory.half = wasmMemoryBytes();
      rss.half = process.memoryUsage().rss;
    }
  }
  memory.end = wasmMemoryBytes();
  rss.end = process.memoryUsage().rss;

  // What biscuit-wasm 0.6.0 itself keeps per token, whoever calls it: every authorisation of a new
  // token leaves wasm memory behind that is never reused. Measured on fresh variants opened,
  // authorised and freed directly, with nothing cached.
  const baselineRuns = Math.floor(VARIANTS / 4);
  const fresh = Array.from({ length: baselineRuns }, (_, i) => attenuateBiscuit(chains[i % chains.length]!, rootKey.publicKey, { expires_in: 10_000 + i }));
  const baselineStart = wasmMemoryBytes();
  for (const token of fresh) {
    const opened = openBiscuit(token, (kid) => (kid === 6 ? rootKey.publicKey : undefined), { limits: { ...DEFAULT_BISCUIT_LIMITS, maxVariants: Infinity } });
    authorizeOpenedBiscuit(opened, { now: Date.now(), audience: AUDIENCE, ...request });
    opened.biscuit.free();
  }
  const leakPerToken = (wasmMemoryBytes() - baselineStart) / baselineRuns;

  const quarter = Math.floor(VARIANTS / 4);
  const quarters = [0, 1, 2, 3].map((q) => median(times.slice(q * quarter, (q + 1) * quarter)));
  const timeRatio = quarters[3]! / quarters[0]!;
  const perVariantSecondHalf = (memory.end - memory.half) / (VARIANTS - Math.floor(VARIANTS / 2));
  t.diagnostic(`${chains.length} capabilities; wasm memory ${(memory.start / MiB).toFixed(1)} → ${(memory.half / MiB).toFixed(1)} → ${(memory.end / MiB).toFixed(1)} MiB; ` +
    `RSS ${(rss.start / MiB).toFixed(0)} → ${(rss.half / MiB).toFixed(0)} → ${(rss.end / MiB).toFixed(0)} MiB; ` +
    `second half ${(perVariantSecondHalf / 1024).toFixed(1)} KiB per variant, biscuit-wasm's own ${(leakPerToken / 1024).toFixed(1)} KiB per token; ` +
    `median time per new token by quarter ${quarters.map((q) => q.toFixed(2)).join(', ')} ms (last / first ${timeRatio.toFixed(2)}); ` +
    `authority facts read ${authorityFactsStats().reads - readsBefore} times`);

  assert.equal(authorityFactsStats().reads - readsBefore, 0, 'every variant reused its authority block\'s facts');
  // Once the 8 MiB cache is full, a variant may cost what biscuit-wasm keeps anyway, and no more:
  // the verifier holds nothing further per token.
  assert.ok(perVariantSecondHalf <= 1.06 * leakPerToken,
    `the second half grew wasm memory ${(perVariantSecondHalf / 1024).toFixed(1)} KiB per variant; biscuit-wasm alone keeps ${(leakPerToken / 1024).toFixed(1)} KiB`);
  assert.ok(timeRatio < 3, `the last quarter's tokens took ${timeRatio.toFixed(2)} times as long as the first quarter's`);
});
