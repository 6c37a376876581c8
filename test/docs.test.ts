import { test } from 'node:test';
import assert from 'node:assert/strict';
import { staleDocs } from './tools/generate-docs.ts';

test('documents generated from code are up to date', async () => {
  assert.deepEqual(await staleDocs(), [], 'run npm run docs:generate and commit the result');
});
