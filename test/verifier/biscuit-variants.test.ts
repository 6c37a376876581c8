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
import { attenuateBiscuit } from '../../src/capability/index.ts';
import { wasmMemoryBytes } from '../bench/wasm-memory.ts';
import { MiB, VARIANTS, issuerAndVerifier, median, mintFor, request } from './biscuit-variants-support.ts';

test(`${VARIANTS} attenuated variants of one capability: ${DEFAULT_BISCUIT_LIMITS.maxVariants} distinct tokens per capability are accepted, the rest refused before parsing, and memory and time stay flat`, async (t) => {
  const { rootKey, issuer, verifier } = await issuerAndVerifier(t, 5);
  const chain = mintFor(issuer.issuer, rootKey);
  await verifier.verify(chain, request);
  // Made before anything is measured: attenuating is the holder's work, not the verifier's.
  const variants = Array.from({ length: VARIANTS }, (_, i) => attenuateBiscuit(chain, rootKey.publicKey, { expires_in: 600 + i }));

  const budget = DEFAULT_BISCUIT_LIMITS.maxVariants!;
  const acceptedAt: number[] = [];
  const times: number[] = [];
  const outcomes = { accepted: 0, refused: 0 };
  const memory = { start: wasmMemoryBytes(), half: 0, end: 0 };
  for (let i = 0; i < VARIANTS; i++) {
    const started = performance.now();
    try {
      await verifier.verify(variants[i]!, request);
      outcomes.accepted++;
      acceptedAt.push(i);
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'invalid_token');
      assert.match((err as Error).message, /attenuated into more than/);
      outcomes.refused++;
    }
    times.push(performance.now() - started);
    if (i === Math.floor(VARIANTS / 2) - 1) memory.half = wasmMemoryBytes();
  }
  memory.end = wasmMemoryBytes();
  // The accepted ones stay accepted (from the cache or opened again).
  for (const i of [acceptedAt[0]!, acceptedAt.at(-1)!]) await verifier.verify(variants[i]!, request);

  const quarter = Math.floor(VARIANTS / 4);
  const quarters = [1, 2, 3].map((q) => median(times.slice(q * quarter, (q + 1) * quarter)));
  const timeRatio = quarters[2]! / quarters[0]!;
  t.diagnostic(`${outcomes.accepted} accepted, ${outcomes.refused} refused; wasm memory ${(memory.start / MiB).toFixed(1)} → ${(memory.half / MiB).toFixed(1)} → ${(memory.end / MiB).toFixed(1)} MiB; ` +
    `median time per token in quarters 2–4 ${quarters.map((q) => q.toFixed(3)).join(', ')} ms (last / second ${timeRatio.toFixed(2)})`);
  // The chain (maxBlocks - 1 blocks) and the attenuated tokens on the way to it (each opened to
  // be attenuated once more) took their places in the budget; the variants had the rest, in the
  // order they came.
  const beforeFlood = DEFAULT_BISCUIT_LIMITS.maxBlocks - 2;
  assert.deepEqual(outcomes, { accepted: budget - beforeFlood, refused: VARIANTS - (budget - beforeFlood) });
  assert.deepEqual(acceptedAt, Array.from({ length: budget - beforeFlood }, (_, i) => i));
  assert.equal(memory.end - memory.half, 0, 'the second half of the flood did not grow wasm memory at all');
  assert.ok(timeRatio < 3, `the last quarter's tokens took ${timeRatio.toFixed(2)} times as long as the second quarter's`);
});
