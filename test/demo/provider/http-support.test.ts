import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { CookieJar, decodeEntities, httpClient, parseForm, parseForms } from '../../support/http.ts';

describe('test support: parseForm', () => {
  const html = `<html><body>
    <FORM method="POST" action='/a?x=1&amp;y=2'>
      <input type="hidden" name="csrf" value="t&quot;k&#x27;n">
      <input name=username autocomplete="username">
      <input type = "hidden" name = "empty">
      <button name="decision" value="approve">Go</button>
    </FORM>
    <form action="/second"><input type="hidden" name="n" value="2"/></form>
  </body></html>`;

  it('reads action, method, hidden inputs and field names', () => {
    const form = parseForm(html);
    assert.equal(form.action, '/a?x=1&y=2');
    assert.equal(form.method, 'post');
    assert.deepEqual(form.hidden, { csrf: 't"k\'n', empty: '' });
    assert.deepEqual(form.fields, ['csrf', 'username', 'empty', 'decision']);
  });

  it('finds a form by action and defaults the method to get', () => {
    const form = parseForm(html, '/second');
    assert.equal(form.method, 'get');
    assert.deepEqual(form.hidden, { n: '2' });
    assert.equal(parseForms(html).length, 2);
    assert.throws(() => parseForm(html, /missing/), /no form/);
    assert.throws(() => parseForm('<p>no forms</p>'), /no form/);
  });

  it('decodes numeric and named entities and leaves unknown ones alone', () => {
    assert.equal(decodeEntities('&lt;&#60;&#x3C;&amp;&bogus;'), '<<<&&bogus;');
  });
});

describe('test support: CookieJar and httpClient', () => {
  it('matches cookies by origin and path and honours expiry', () => {
    const jar = new CookieJar();
    const url = new URL('http://127.0.0.1:1/interaction/abc');
    jar.store(url, ['a=1; Path=/; HttpOnly', 'b=2; Path=/interaction/abc', 'c=3; Path=/other', 'd=4; Max-Age=0']);
    assert.equal(jar.headerFor(new URL('http://127.0.0.1:1/interaction/abc/login')), 'b=2; a=1');
    assert.equal(jar.headerFor(new URL('http://127.0.0.1:1/interaction/abcdef')), 'a=1');
    assert.equal(jar.headerFor(new URL('http://127.0.0.1:2/')), undefined);
    jar.store(url, ['a=gone; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    assert.deepEqual(jar.names('http://127.0.0.1:1/'), []);
  });

  it('does not follow redirects, resolves Location, sends cookies back and parses JSON', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/start') {
        res.writeHead(302, { location: '/next', 'set-cookie': 'sid=xyz; Path=/; HttpOnly' });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ cookie: req.headers.cookie ?? null, method: req.method, type: req.headers['content-type'] ?? null }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const client = httpClient();
      const start = await client.request(`${base}/start`);
      assert.equal(start.status, 302);
      assert.equal(start.location, `${base}/next`);
      assert.equal(start.json, undefined);

      const next = await client.request(start.location ?? '', { form: { a: 'b' } });
      assert.deepEqual(next.json, { cookie: 'sid=xyz', method: 'POST', type: 'application/x-www-form-urlencoded' });

      const followed = await httpClient().follow(`${base}/start`);
      assert.equal(followed.status, 200);
      assert.equal((followed.json as { cookie: string }).cookie, 'sid=xyz');
    } finally {
      server.close();
    }
  });
});
