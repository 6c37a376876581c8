// The logger writes no secret: pino's paths censor the secret fields of a record however they are
// spelt, the log hook censors them below the top level and masks bearer material in any string,
// and what says what was granted or issued stays readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createLogger } from '../../src/core/log.ts';
import { SECRET_FIELDS } from '../../src/core/redact.ts';

const RUNS = Number(process.env.WRIT_PROPERTY_RUNS ?? 200);

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const spellings = [...SECRET_FIELDS].flatMap((f) => [f, camel(f), f.replaceAll('_', '-'), f.toUpperCase(), f.split('_').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('-')]);
const KEPT = { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }], token_type: 'Bearer', expires_in: 300, status: 401, code: 400, client_secret_set: true };

function logged(fields: Record<string, unknown>, child?: Record<string, unknown>): string {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', sink: (line) => lines.push(line) });
  (child ? logger.child(child) : logger).warn('a line', fields);
  assert.equal(lines.length, 1);
  JSON.parse(lines[0]!);
  return lines[0]!;
}

test('a secret field is censored at any depth, in any spelling, in a record or a child binding', () => {
  const secret = fc.string({ minLength: 12, maxLength: 40 }).filter((s) => /^[\x21-\x7e]+$/.test(s) && !s.includes('"') && !s.includes('\\'));
  const path = fc.array(fc.constantFrom('req', 'headers', 'body', 'detail', 'upstream', 'context'), { maxLength: 5 });
  fc.assert(fc.property(fc.constantFrom(...spellings), secret, path, fc.boolean(), (name, value, at, asChild) => {
    let fields: Record<string, unknown> = { [name]: value };
    for (const key of [...at].reverse()) fields = { [key]: fields };
    const line = asChild ? logged({}, fields) : logged(fields);
    assert.ok(!line.includes(value), `${name} at ${at.join('.') || '(top)'} leaked: ${line}`);
    assert.ok(line.includes('[redacted]'));
  }), { numRuns: RUNS });
});

test('bearer material is masked in any string; errors lose their stacks; what was granted stays', () => {
  const line = logged({
    note: 'retrying with Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJl',
    err: Object.assign(new Error('upstream said DPoP abc.def.ghi'), { code: 'ECONNRESET' }),
    ...KEPT,
  });
  const record = JSON.parse(line);
  assert.doesNotMatch(line, /eyJhbGciOiJFZERTQSJ9|abc\.def\.ghi/);
  assert.deepEqual(record.err, { name: 'Error', message: 'upstream said [redacted]', code: 'ECONNRESET' });
  for (const [k, v] of Object.entries(KEPT)) assert.deepEqual(record[k], v, k);
  assert.equal(record.level, 'warn');
  assert.equal(record.msg, 'a line');
  assert.match(record.time, /^\d{4}-\d\d-\d\dT/);
});
