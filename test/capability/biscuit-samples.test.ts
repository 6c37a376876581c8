import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { authorizeRawBiscuit, biscuitErrorClass } from './raw-biscuit.ts';
import { CapabilityError } from '../../src/capability/errors.ts';

// The Biscuit specification's sample tokens, run through Writ's wrapper: its run limits and
// timeout retries, and its error mapping. Every expected success must succeed, every expected
// failure must fail with the same error class.

const dir = new URL('../vectors/biscuit-samples/', import.meta.url);
// Origins are u64 (the authorizer's is 2^64-1): quote long integers before JSON.parse rounds them.
const text = readFileSync(new URL('samples.json', dir), 'utf8').replace(/([[,:]\s*)(\d{16,})(?=\s*[,\]}])/g, '$1"$2"');
const samples = JSON.parse(text) as {
  root_public_key: string;
  testcases: Array<{
    title: string;
    filename: string;
    validations: Record<string, { result: { Ok?: number; Err?: Record<string, unknown> }; authorizer_code: string; revocation_ids: string[]; world: { facts: Array<{ origin: Array<number | string | null> }> } | null }>;
  }>;
};

// biscuit-wasm 0.6.0 has no API to register extern functions, so test035's `extern::test` call
// cannot be evaluated; the authorizer reports it as an execution error instead of succeeding.
const CANNOT_EXPRESS: Record<string, { why: string; expectedClass: string }> = {
  'test035_ffi.bc': { why: 'biscuit-wasm 0.6.0 cannot register the extern function "test" (no extern-function API in its bindings)', expectedClass: 'Execution' },
};

test('samples.json keeps 64-bit origins exact', () => {
  const origins: unknown[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'origin') origins.push(...(Array.isArray(v) ? v : [v]));
        else walk(v);
      }
    }
  };
  walk(samples.testcases);
  const big = origins.filter((o) => typeof o === 'string');
  assert.ok(big.length > 0, 'the authorizer origin appears in the worlds');
  for (const o of big) assert.equal(o, '18446744073709551615');
});

for (const testcase of samples.testcases) {
  for (const [name, validation] of Object.entries(testcase.validations)) {
    test(`${testcase.filename} ${name || '(default)'}: ${testcase.title}`, (t) => {
      const token = readFileSync(new URL(testcase.filename, dir));
      const run = () => authorizeRawBiscuit(new Uint8Array(token), samples.root_public_key, validation.authorizer_code);
      const gap = CANNOT_EXPRESS[testcase.filename];
      if (gap) {
        t.diagnostic(`not expressible: ${gap.why}`);
        assert.throws(run, (error: unknown) => biscuitErrorClass(error) === gap.expectedClass);
        return;
      }
      const expected = validation.result;
      if (expected.Ok !== undefined) {
        const result = run();
        assert.equal(result.policy, expected.Ok);
        assert.deepEqual(result.revocation_ids, validation.revocation_ids);
        return;
      }
      const expectedClass = Object.keys(expected.Err!)[0]!;
      assert.throws(run, (error: unknown) => {
        assert.ok(error instanceof CapabilityError, 'wrapped into a CapabilityError');
        assert.equal(biscuitErrorClass(error), expectedClass);
        const raw = error.debug?.biscuit as Record<string, unknown>;
        if (expectedClass === 'FailedLogic' || expectedClass === 'Execution') {
          assert.deepEqual(raw, expected.Err);
        } else {
          assert.deepEqual(Object.keys(raw[expectedClass] as object), Object.keys(expected.Err![expectedClass] as object));
        }
        // A token that is malformed or not ours is always invalid_token.
        if (expectedClass !== 'FailedLogic') assert.equal(error.code, 'invalid_token');
        return true;
      });
    });
  }
}
