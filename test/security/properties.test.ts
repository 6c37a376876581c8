// Property-based attacks on every parser at the edge: random token-exchange forms and admin
// bodies over real HTTP (a clear 4xx JSON error or a success, never a 500), random requests to the
// pages people use (never a 5xx, refusals are HTML and write nothing), and random input to the
// authorization_details, policy-file and connector-definition parsers (a clear error or a correct
// result, never a crash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseExchangeParams } from '../../src/exchange/params.ts';
import { isWritError } from '../../src/errors/index.ts';
import { parsePolicyFile } from '../../src/policy/parse.ts';
import { connectorDefinitionSchema } from '../../src/connectors/schema.ts';
import { ACCESS_TOKEN, JWT, BISCUIT, TOKEN_EXCHANGE } from '../support/exchange.ts';
import { capability, ledger, scene } from './support.ts';
import { EVIL, pagesScene, stored, world } from './web-support.ts';

const RUNS = Number(process.env.WRIT_PROPERTY_RUNS ?? 120);

const nasty = fc.oneof(
  fc.string(), fc.string({ unit: 'binary', maxLength: 64 }), fc.constantFrom('', ' ', '\u0000', '%00', '[]', '{}', 'null', '[{"type":"tool_access"}]', '__proto__', 'constructor', 'a'.repeat(20_000)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.constantFrom(ACCESS_TOKEN, JWT, BISCUIT, 'urn:ietf:params:oauth:token-type:id_token', 'tool:demo.notes.create', 'http://localhost/executor'),
);
const PARAMS = ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'resource', 'scope', 'authorization_details', 'client_id', 'grant_type', '__proto__', 'constructor'];

test('random token-exchange forms always get a JSON 4xx error or a 200, never a 500, and 4xx writes no capability', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const cap = await capability(s);
  const tokens = fc.constantFrom(s.subject, cap, `${cap}x`, s.subject.slice(1));
  const auth = `Basic ${Buffer.from(`${s.seeded.agent.client_id}:${s.seeded.agent.client_secret}`).toString('base64')}`;
  const before = await ledger(s.writ, s.seeded.org.id);
  let successes = 0;
  await fc.assert(fc.asyncProperty(
    fc.array(fc.tuple(fc.constantFrom(...PARAMS), fc.oneof(nasty, tokens)), { maxLength: 8 }),
    fc.boolean(),
    async (pairs, withSubject) => {
      const body = new URLSearchParams({ grant_type: TOKEN_EXCHANGE });
      if (withSubject) { body.append('subject_token', s.subject); body.append('subject_token_type', ACCESS_TOKEN); }
      for (const [k, v] of pairs) body.append(k, v);
      const res = await fetch(`${s.writ.issuer}/token`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body });
      const text = await res.text();
      assert.ok(res.status === 200 || (res.status >= 400 && res.status < 500), `status ${res.status}: ${text.slice(0, 200)}`);
      const json = JSON.parse(text);
      if (res.status === 200) { successes++; assert.equal(typeof json.access_token, 'string'); } else {
        assert.equal(typeof json.error, 'string');
        assert.ok(!/\n\s+at /.test(text), 'no stack trace');
      }
    },
  ), { numRuns: RUNS });
  const after = await ledger(s.writ, s.seeded.org.id);
  assert.equal(after.exchanged - before.exchanged, successes, 'one audit event per issued capability, none for refusals');
  t.diagnostic(`${successes} of ${RUNS} random forms were valid exchanges`);
});

test('random admin bodies always get a JSON answer below 500', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const org = s.seeded.org.id;
  const paths = [
    ['POST', '/orgs'], ['POST', `/orgs/${org}/users`], ['POST', `/orgs/${org}/agents`], ['POST', `/orgs/${org}/agents/${s.seeded.agent.client_id}/org-grants`],
    ['POST', '/resource-servers'], ['POST', `/orgs/${org}/policy/dry-run`], ['DELETE', `/orgs/${org}/grants`], ['POST', `/orgs/${org}/connected-accounts`], ['PUT', `/orgs/${org}/connectors/acme`],
  ] as const;
  const bodies = fc.oneof(
    fc.jsonValue(),
    fc.dictionary(fc.constantFrom('name', 'username', 'password', 'tools', 'redirect_uris', 'authorization_details', 'identifier', 'jwks', 'agent_id', 'connector', 'user_id', 'owner', 'roles', 'org_id', 'id'), fc.jsonValue()),
    fc.string().map((v) => ({ raw: v })),
  );
  await fc.assert(fc.asyncProperty(fc.constantFrom(...paths), bodies, fc.boolean(), async ([method, path], body, raw) => {
    const res = await s.writ.admin(method, path, raw && typeof body === 'object' && body !== null && 'raw' in body ? String((body as { raw: string }).raw) : body);
    assert.ok(res.status < 500, `${method} ${path} ${JSON.stringify(body)?.slice(0, 200)} → ${res.status} ${res.text.slice(0, 200)}`);
    if (res.status >= 400) assert.equal(typeof res.json?.error, 'string', res.text.slice(0, 200));
  }), { numRuns: RUNS });
});

test('authorization_details: a clear invalid_authorization_details or a valid result', () => {
  fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.array(fc.record({ type: fc.constantFrom('tool_access', 'x'), tools: fc.array(fc.string()), resources: fc.option(fc.array(fc.string())), constraints: fc.jsonValue() }, { requiredKeys: [] }))), (value) => {
    try {
      const parsed = parseExchangeParams({ subject_token: 't', subject_token_type: ACCESS_TOKEN, authorization_details: JSON.stringify(value) });
      for (const d of parsed.requested ?? []) {
        assert.equal(d.type, 'tool_access');
        assert.ok(d.tools.length > 0 && d.tools.every((tool) => typeof tool === 'string'));
      }
    } catch (err) {
      assert.ok(isWritError(err), `not a WritError: ${String(err)}`);
      assert.ok(['invalid_authorization_details', 'invalid_request'].includes(err.code), err.code);
    }
  }), { numRuns: RUNS * 5 });
});

test('policy files: a PolicyFileError with a location or a parsed file, never another exception', () => {
  const yamlish = fc.oneof(
    fc.string(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.record({ version: fc.oneof(fc.constant(1), fc.jsonValue()), rules: fc.oneof(fc.jsonValue(), fc.array(fc.record({ id: fc.string(), description: fc.string(), effect: fc.constantFrom('allow', 'deny', 'maybe'), match: fc.jsonValue(), constraints: fc.jsonValue() }, { requiredKeys: [] }))) }).map((v) => JSON.stringify(v)),
    fc.constantFrom('&a [*a, *a]', 'a: &a [*a]', '!!js/function "x"', 'version: 1\nrules: []', '%YAML 9.9\n---', '---\n---\n', 'x'.repeat(2_000_000)),
  );
  fc.assert(fc.property(yamlish, (text) => {
    try {
      const parsed = parsePolicyFile(text, 'fuzz.yaml');
      assert.ok(parsed && typeof parsed === 'object');
    } catch (err) {
      assert.equal((err as Error).name, 'PolicyFileError', `${(err as Error).name}: ${(err as Error).message}`);
      assert.match((err as Error).message, /^fuzz\.yaml/);
    }
  }), { numRuns: RUNS * 3 });
});

test('connector definitions: a schema error or a valid definition, never an exception', () => {
  const schema = connectorDefinitionSchema();
  fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.record({
    name: fc.oneof(fc.string(), fc.constantFrom('acme', '__proto__', 'a')), display_name: fc.string(),
    api_base_url: fc.oneof(fc.webUrl(), fc.constantFrom('http://169.254.169.254/', 'file:///etc/passwd', 'http://127.0.0.1:22/', 'javascript:1')),
    auth: fc.jsonValue(), tools: fc.dictionary(fc.string(), fc.jsonValue()),
  }, { requiredKeys: [] })), (value) => {
    const result = schema.safeParse(value);
    if (result.success) assert.ok(typeof result.data.name === 'string');
    else assert.ok(result.error.issues.length > 0);
  }), { numRuns: RUNS * 5 });
});

// ---- The pages people use ------------------------------------------------------------------------

test('random methods, paths, query strings, forms, Origin, Sec-Fetch-Site and cookies on the pages: never a 5xx, refusals are HTML and write nothing', async (t) => {
  const w = await world();
  t.after(() => w.stop());
  const s = await pagesScene(w);
  const issuer = w.writ.issuer;
  const origin = new URL(issuer).origin;
  const realCookies = s.browser.jar.headerFor(new URL(`${issuer}/interaction/${s.ids[':uid']}/login`)) ?? '';
  const tokens = [...new Set(s.forms.map((f) => f.hidden.csrf).filter((v): v is string => Boolean(v)))];
  const state = `${s.org}.${s.account.id}.${'A'.repeat(32)}`;
  const real = fc.constantFrom(s.org, w.attacker.org.id, 'demo', s.account.id, s.grant.id, s.ids[':uid']!, state, 'alice', 'alice password 1', 'approve', '/connect', ...tokens);
  const value = fc.oneof(nasty, real);
  const paths = [
    '/account', '/account/', '/account/signin', '/account/signout', `/account/grants/${s.grant.id}/revoke`, '/account/grants/x/revoke',
    `/interaction/${s.ids[':uid']}`, `/interaction/${s.ids[':uid']}/login`, `/interaction/${s.ids[':uid']}/confirm`, '/interaction/nope', '/interaction/nope/login',
    '/connect', '/connect/new', '/connect/new/confirm', `/connect/${s.account.id}`, `/connect/${s.account.id}/confirm`, `/connect/${s.account.id}/disconnect`, '/connect/callback',
    '/console', '/console/policies', '/console/policies/dry-run', '/console/audit', `/console/grants/${s.grant.id}/revoke`,
  ];
  const printable = (v: string) => /^[\x20-\x7e]*$/.test(v);
  const headerValue = fc.oneof(fc.string({ maxLength: 40 }).filter(printable), fc.constantFrom(origin, EVIL, 'null', '', `${origin}.evil.example`, origin.replace('http:', 'https:')));
  const cookie = fc.constantFrom(realCookies, 'writ_session=junk', 'writ_session=a.b', 'writ_presession=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '_interaction=x; _interaction.sig=y', '');
  let unchanged = 0;
  await fc.assert(fc.asyncProperty(
    fc.constantFrom('GET', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND'),
    fc.oneof(fc.constantFrom(...paths), fc.tuple(fc.constantFrom(...paths), fc.string({ maxLength: 12 })).map(([p, x]) => `${p}/${encodeURIComponent(x)}`)),
    fc.array(fc.tuple(fc.constantFrom('org', 'connector', 'next', 'state', 'code', 'error', 'type', 'cursor', 'since', '__proto__'), value), { maxLength: 4 }),
    fc.array(fc.tuple(fc.constantFrom('csrf', 'org', 'username', 'password', 'connector', 'decision', 'agent_id', 'user_id', 'tools', 'resources', 'audience', '__proto__'), value), { maxLength: 8 }),
    fc.record({ origin: headerValue, 'sec-fetch-site': fc.oneof(fc.constantFrom('same-origin', 'same-site', 'cross-site', 'none', 'SAME-ORIGIN'), headerValue) }, { requiredKeys: [] }),
    cookie,
    fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x'),
    async (method, path, query, form, headers, cookies, type) => {
      const url = new URL(path, issuer);
      for (const [k, v] of query) url.searchParams.append(k, v);
      const body = method === 'GET' || method === 'HEAD' ? null : new URLSearchParams(form).toString();
      const before = await stored(w.writ, w.orgs);
      const res = await fetch(url, {
        method, redirect: 'manual', body,
        headers: { ...headers, ...(cookies ? { cookie: cookies } : {}), ...(body === null ? {} : { 'content-type': type }) },
      });
      const text = await res.text();
      const what = `${method} ${url.pathname}${url.search.slice(0, 80)} ${JSON.stringify(headers)} ${cookies.slice(0, 20)} → ${res.status} ${text.slice(0, 160)}`;
      assert.ok(res.status < 500, what);
      // 431: Node's HTTP parser refuses a request line over its limit before Writ sees it.
      if (res.status === 431) return;
      if (res.status >= 400 && method !== 'HEAD') assert.match(res.headers.get('content-type') ?? '', /text\/html/, what);
      const fetchSite = headers['sec-fetch-site'];
      const crossSite = (fetchSite !== undefined && !['same-origin', 'none'].includes(fetchSite.toLowerCase()))
        || (headers.origin !== undefined && headers.origin !== origin) || (headers.origin === undefined && fetchSite === undefined && cookies !== '');
      if (!['GET', 'HEAD', 'OPTIONS'].includes(method) && crossSite) assert.equal(res.status, 403, what);
      // A GET or a refusal writes nothing; a failed sign-in is on the record (and counts towards the lock).
      const signInAttempt = /\/(signin|login)$/.test(url.pathname) && (res.status === 401 || res.status === 429);
      if (['GET', 'HEAD', 'OPTIONS'].includes(method) || (res.status >= 400 && !signInAttempt)) {
        unchanged++;
        assert.equal(await stored(w.writ, w.orgs), before, what);
      }
    },
  ), { numRuns: RUNS });
  t.diagnostic(`${unchanged} of ${RUNS} random requests were GETs or refusals, checked to write nothing`);
});
