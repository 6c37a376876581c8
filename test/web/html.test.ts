// The pages' shared helpers: one date format with relative times, tables whose every value is
// escaped, and the stylesheet served from Writ itself under the pages' CSP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { absoluteTime, escapeHtml, relativeTime, STYLESHEET_PATH, table, when } from '../../src/web/html.ts';
import { startTestWrit } from '../support/writ.ts';

const NOW = Date.parse('2026-12-02T03:33:17Z');

test('relative times read as people say them, and say which side of now', () => {
  assert.equal(relativeTime(NOW - 3 * 60_000, NOW), '3 minutes ago');
  assert.equal(relativeTime(NOW + 2 * 3600_000, NOW), 'in 2 hours');
  assert.equal(relativeTime(NOW - 5_000, NOW), 'just now');
  assert.equal(relativeTime(NOW - 86400_000, NOW), '1 day ago');
  assert.equal(relativeTime(NOW + 29 * 86400_000, NOW), 'in 4 weeks');
  fc.assert(fc.property(fc.integer({ min: -20 * 365 * 86400, max: 20 * 365 * 86400 }), (seconds) => {
    const said = relativeTime(NOW + seconds * 1000, NOW);
    if (Math.abs(seconds) < 10) return said === 'just now';
    const m = /^(?:in (\d+) (\w+)|(\d+) (\w+) ago)$/.exec(said);
    assert.ok(m, said);
    assert.equal(m[1] !== undefined, seconds > 0, `${seconds} s reads "${said}"`);
    assert.ok(Number(m[1] ?? m[3]) >= 1, said);
    return true;
  }));
});

test('absolute times are one format, to the second, in UTC', () => {
  assert.equal(absoluteTime(NOW), '2026-12-02 03:33:17 UTC');
  fc.assert(fc.property(fc.integer({ min: 0, max: 4102444800000 }), (ms) => {
    const said = absoluteTime(ms);
    assert.match(said, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    assert.equal(Date.parse(said.replace(' ', 'T').replace(' UTC', 'Z')), Math.floor(ms / 1000) * 1000);
  }));
  assert.equal(when(NOW - 180_000, NOW).value,
    '<span class="when"><time datetime="2026-12-02T03:30:17.000Z">2026-12-02 03:30:17 UTC</time> <span class="ago">(3 minutes ago)</span></span>');
  assert.equal(when('not a date', NOW).value, '');
  assert.equal(when(undefined, NOW).value, '');
});

test('a table escapes every header and cell, and labels each cell for the phone\'s cards', () => {
  fc.assert(fc.property(fc.string(), fc.string(), (label, value) => {
    const out = table([{ value }], [{ label: 'Name', rowHeader: true, cell: (r) => r.value }, { label, cell: (r) => r.value }]).value;
    assert.ok(out.includes(`<th scope="row">${escapeHtml(value)}</th>`));
    assert.ok(out.includes(`<td data-label="${escapeHtml(label)}">${escapeHtml(value)}</td>`));
    // Nothing a value or a label holds can open or close an element or an attribute.
    const text = out.replace(/<\/?[a-z]+(?: [a-z-]+="[^"<>]*")*>/g, '');
    assert.doesNotMatch(text, /[<>"]/);
  }));
  const actions = table([1], [{ label: 'Action', actions: true, cell: () => 'x' }]).value;
  assert.match(actions, /<td data-label="">x<\/td>/, 'a column of buttons shows no label on a phone');
});

test('the stylesheet comes from Writ itself, and the pages\' CSP allows it and nothing else', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const css = await fetch(`${writ.issuer}${STYLESHEET_PATH}`);
  assert.equal(css.status, 200);
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  assert.match(css.headers.get('cache-control') ?? '', /immutable/);
  assert.match(await css.text(), /\.cards/);
  assert.equal((await fetch(`${writ.issuer}/assets/writ-0000.css`)).status, 404, 'only the current name is served');
  const page = await fetch(`${writ.issuer}/console`);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.equal(csp, "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'");
  assert.ok((await page.text()).includes(`<link rel="stylesheet" href="${STYLESHEET_PATH}">`));
});
