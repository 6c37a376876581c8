import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_POLICY_FILE_BYTES, PolicyFileError, parsePolicyFile } from '../../src/policy/index.ts';

const VALID = `version: 2025-06-01
rules:
  - id: invoices
    description: Invoices, briefly.
    effect: allow
    match:
      tools: ['stripe.invoices.*']
      principal: user
    constraints:
      max_ttl: 5m
      single_use: true
      resources: ['stripe:customer:*']
      arguments:
        'stripe.invoices.*':
          amount: { max: 50 }
          currency: { one_of: [eur, usd] }
  - id: no-deletes
    description: Never delete.
    effect: deny
    match: { tools: ['*.delete'] }
`;

function parseError(text: string, filename = 'team.yaml'): PolicyFileError {
  try {
    parsePolicyFile(text, filename);
  } catch (error) {
    assert.ok(error instanceof PolicyFileError, `expected PolicyFileError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the file to be rejected');
}

test('a valid file compiles: durations to seconds, source lines, content hash', () => {
  const file = parsePolicyFile(VALID, 'team.yaml');
  assert.equal(file.file, 'team.yaml');
  assert.equal(file.version, '2025-06-01');
  assert.match(file.sha256, /^[0-9a-f]{64}$/);
  assert.equal(file.rules.length, 2);
  const [allow, deny] = file.rules;
  assert.deepEqual(allow?.source, { file: 'team.yaml', line: 3 });
  assert.deepEqual(deny?.source, { file: 'team.yaml', line: 17 });
  assert.equal(allow?.constraints?.max_ttl, 300);
  assert.deepEqual(allow?.constraints?.arguments?.['stripe.invoices.*']?.currency, { one_of: ['eur', 'usd'] });
  assert.equal(deny?.effect, 'deny');
  assert.equal(deny?.constraints, undefined);
});

test('durations accept seconds and s/m/h units, and refuse more than 24 hours', () => {
  const ttl = (value: string) =>
    parsePolicyFile(`version: 1\nrules:\n  - { id: r, description: d, effect: allow, match: {}, constraints: { max_ttl: ${value} } }\n`, 'f.yaml')
      .rules[0]?.constraints?.max_ttl;
  assert.equal(ttl('45'), 45);
  assert.equal(ttl('90s'), 90);
  assert.equal(ttl('5m'), 300);
  assert.equal(ttl('24h'), 86_400);
  for (const bad of ['25h', '0', '-5', '5d', '1.5m', '"5 m"', '86401']) {
    const error = parseError(`version: 1\nrules:\n  - id: r\n    description: d\n    effect: allow\n    match: {}\n    constraints: { max_ttl: ${bad} }\n`);
    assert.equal(error.reason, 'POLICY_SCHEMA', bad);
    assert.equal(error.path, 'rules[0].constraints.max_ttl', bad);
    assert.equal(error.line, 7, bad);
  }
});

test('YAML syntax errors name the file and line', () => {
  const error = parseError('version: 1\nrules:\n  - id: a\n    id: b\n');
  assert.equal(error.reason, 'POLICY_YAML_SYNTAX');
  assert.equal(error.file, 'team.yaml');
  assert.equal(error.line, 4);
  assert.match(error.message, /^team\.yaml:4:5: /);

  const unclosed = parseError('version: 1\nrules: [\n  { id: a\n');
  assert.equal(unclosed.reason, 'POLICY_YAML_SYNTAX');
  assert.ok(unclosed.line !== undefined && unclosed.line >= 2);
});

test('schema errors carry the path and the line of the offending value', () => {
  const text = `version: 1
rules:
  - id: ok
    description: fine
    effect: allow
    match: {}
  - id: bad
    description: an unknown match key and a bad principal
    effect: allow
    match:
      tool: ['gmail.*']
      principal: robot
`;
  const error = parseError(text);
  assert.equal(error.reason, 'POLICY_SCHEMA');
  const byPath = new Map(error.issues.map((i) => [i.path, i]));
  assert.equal(byPath.get('rules[1].match.tool')?.line, 11);
  assert.match(byPath.get('rules[1].match.tool')?.message ?? '', /Unrecognized key/);
  assert.equal(byPath.get('rules[1].match.principal')?.line, 12);
  assert.match(error.message, /^team\.yaml:\d+:\d+: rules\[1\]\.match\.\w+: .+ \(and 1 more\)$/);
});

test('a missing required field points at the rule that lacks it', () => {
  const error = parseError('version: 1\nrules:\n  - id: a\n    effect: deny\n    match: {}\n');
  assert.deepEqual(
    error.issues.map((i) => [i.path, i.line, i.message]),
    [['rules[0].description', 3, 'required field is missing']],
  );
});

test('deny rules cannot carry constraints, and effect must be allow or deny', () => {
  const withConstraints = parseError('version: 1\nrules:\n  - id: a\n    description: d\n    effect: deny\n    match: {}\n    constraints: { single_use: true }\n');
  assert.equal(withConstraints.path, 'rules[0].constraints');
  assert.equal(withConstraints.line, 7);
  const maybe = parseError('version: 1\nrules:\n  - { id: a, description: d, effect: maybe, match: {} }\n');
  assert.equal(maybe.path, 'rules[0].effect');
});

test('rule ids are unique within a file', () => {
  const error = parseError(
    'version: 1\nrules:\n  - { id: a, description: d, effect: deny, match: {} }\n  - { id: a, description: e, effect: deny, match: {} }\n',
  );
  assert.equal(error.path, 'rules[1].id');
  assert.equal(error.line, 4);
  assert.match(error.message, /duplicate rule id "a"/);
});

test('argument constraints must say something and keep min at most max', () => {
  const empty = parseError('version: 1\nrules:\n  - id: a\n    description: d\n    effect: allow\n    match: {}\n    constraints:\n      arguments: { "x.y": { amount: {} } }\n');
  assert.match(empty.message, /at least one condition/);
  const inverted = parseError('version: 1\nrules:\n  - id: a\n    description: d\n    effect: allow\n    match: {}\n    constraints:\n      arguments:\n        "x.y":\n          amount: { min: 10, max: 5 }\n');
  assert.equal(inverted.path, 'rules[0].constraints.arguments.x.y.amount.min');
  assert.equal(inverted.line, 10);
});

test('a file must be one document, not too large, without alias bombs', () => {
  assert.equal(parseError('version: 1\nrules: []\n---\nversion: 2\nrules: []\n').reason, 'POLICY_YAML_SYNTAX');
  assert.equal(parseError('#'.repeat(MAX_POLICY_FILE_BYTES + 1)).reason, 'POLICY_FILE_TOO_LARGE');
  const bomb = ['version: 1', 'a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 8; i++) bomb.push(`${'b'.repeat(i + 1)}: &${'b'.repeat(i + 1)} [${Array(10).fill(i === 0 ? '*a' : `*${'b'.repeat(i)}`).join(', ')}]`);
  bomb.push('rules: []');
  assert.equal(parseError(bomb.join('\n')).reason, 'POLICY_YAML_SYNTAX');
});

test('an empty rule list is valid and allows nothing', () => {
  assert.deepEqual(parsePolicyFile('version: 1\nrules: []\n', 'empty.yaml').rules, []);
});
