// Agent ceilings name only tools that exist: the refusal and its "did you mean", as properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { closestName, refuseUnknownTools } from '../../src/connectors/tool-names.ts';
import { WritError } from '../../src/errors/index.ts';

const RUNS = Number(process.env.WRIT_PROPERTY_RUNS ?? 200);
const segment = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
const toolName = fc.tuple(segment, segment, fc.option(segment, { nil: undefined })).map(([c, a, b]) => [c, a, ...(b ? [b] : [])].join('.'));

test('names the catalog knows pass; any other name is refused, named, with a suggestion only from the known names', () => {
  fc.assert(fc.property(fc.uniqueArray(toolName, { minLength: 1, maxLength: 12 }), fc.array(toolName, { maxLength: 4 }), (known, asked) => {
    refuseUnknownTools(fc.sample(fc.subarray(known), 1)[0]!, known);
    const unknown = asked.filter((n) => !known.includes(n));
    const names = [...known.slice(0, 2), ...asked];
    if (!unknown.length) { refuseUnknownTools(names, known); return; }
    assert.throws(() => refuseUnknownTools(names, known), (err: unknown) => {
      assert.ok(err instanceof WritError && err.code === 'invalid_request');
      for (const n of unknown) assert.ok(err.description.includes(n), `${n} is named`);
      for (const m of err.description.matchAll(/did you mean ([^?]+)\?/g)) assert.ok(known.includes(m[1]!), `${m[1]} is a known tool`);
      return true;
    });
  }), { numRuns: RUNS });
});

test('a one-character typo finds a real name', () => {
  fc.assert(fc.property(fc.uniqueArray(toolName, { minLength: 1, maxLength: 12 }), fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (known, at, c) => {
    const target = known[0]!;
    const i = at % target.length;
    const typo = target.slice(0, i) + c + target.slice(i + 1);
    const found = closestName(typo, known);
    assert.ok(found !== undefined && known.includes(found));
  }), { numRuns: RUNS });
  assert.equal(closestName('demo.notes.creat', ['demo.notes.create', 'demo.notes.get', 'demo.notes.list']), 'demo.notes.create');
  assert.equal(closestName('totally.bogus', ['demo.notes.create', 'github.issues.get']), undefined);
});
