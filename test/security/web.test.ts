// The pages people use: CSRF on every form, redirects that must not leave for an attacker's
// site, headers against framing on every response, and sign-in guessing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as oauth from 'openid-client';
import type { TestWrit } from '../support/writ.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { httpClient, parseForm, type HttpClient } from '../support/http.ts';
import { GRANTED, ledger, scene, type Seeded } from './support.ts';

async function accountSignIn(writ: TestWrit, seeded: Seeded, browser: HttpClient = httpClient(), next?: string) {
  const page = await browser.request(`${writ.issuer}/account?org=${seeded.org.id}${next ? `&next=${encodeURIComponent(next)}` : ''}`);
  assert.equal(page.status, 200);
  const form = parseForm(page.text, '/account/signin');
  const posted = await browser.request(new URL(form.action, page.url), { form: { ...form.hidden, username: seeded.user.username, password: seeded.user.password } });
  return { browser, posted };
}

async function activeGrants(writ: TestWrit, org: string): Promise<number> {
  return (await writ.admin('GET', `/orgs/${org}/grants`)).json.grants.filter((g: any) => !g.revoked_at).length;
}

test('CSRF: every form refuses a post without its token, or with a token minted for another session or interaction, and changes nothing', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const { writ, seeded } = s;

  await t.test('authorization sign-in and consent', async () => {
    const before = await ledger(writ, seeded.org.id);
    for (const drop of ['login', 'consent'] as const) {
      const run = await delegate(writ, seeded, { authorization_details: GRANTED, dropCsrf: drop });
      assert.equal(run.last.status, 403, `${drop}: ${run.last.status}`);
      assert.match(run.last.text, /forbidden/);
      assert.equal(run.tokens, undefined);
    }
    assert.equal((await ledger(writ, seeded.org.id)).grants, before.grants, 'no grant was created');
  });

  await t.test('a sign-in token from one interaction does not work in another', async () => {
    const config = await agentClient(writ, seeded.agent);
    const start = async (browser: HttpClient) => {
      const url = oauth.buildAuthorizationUrl(config, {
        redirect_uri: seeded.redirect_uri, code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()),
        code_challenge_method: 'S256', authorization_details: JSON.stringify(GRANTED),
      });
      const page = await browser.follow(url);
      return { page, form: parseForm(page.text) };
    };
    const victim = httpClient();
    const a = await start(httpClient());
    const b = await start(victim);
    const posted = await victim.request(new URL(b.form.action, b.page.url), { form: { csrf: a.form.hidden.csrf!, username: seeded.user.username, password: seeded.user.password } });
    assert.equal(posted.status, 403);
  });

  await t.test('account sign-in', async () => {
    const browser = httpClient();
    const res = await browser.request(`${writ.issuer}/account/signin`, { form: { org: seeded.org.id, username: seeded.user.username, password: seeded.user.password } });
    assert.equal(res.status, 403);
    assert.equal(res.headers.getSetCookie().length, 0, 'no session was issued');
  });

  await t.test('account revoke and sign-out', async () => {
    const { browser, posted } = await accountSignIn(writ, seeded);
    assert.equal(posted.status, 303);
    const page = await browser.request(`${writ.issuer}/account`);
    const revoke = parseForm(page.text, '/revoke');
    const signout = parseForm(page.text, '/account/signout');
    const other = await accountSignIn(writ, seeded);
    const otherCsrf = parseForm((await other.browser.request(`${writ.issuer}/account`)).text, '/revoke').hidden.csrf!;
    const grants = await activeGrants(writ, seeded.org.id);
    const forged: Array<Record<string, string>> = [{}, { csrf: '' }, { csrf: otherCsrf }, { csrf: revoke.hidden.csrf + 'x' }];
    for (const form of forged) {
      const res = await browser.request(new URL(revoke.action, page.url), { form });
      assert.equal(res.status, 403, JSON.stringify(form));
      const out = await browser.request(new URL(signout.action, page.url), { form });
      assert.equal(out.status, 403);
    }
    assert.equal(await activeGrants(writ, seeded.org.id), grants, 'nothing was revoked');
    assert.equal((await browser.request(`${writ.issuer}/account`)).status, 200, 'still signed in');
    assert.match((await browser.request(`${writ.issuer}/account`)).text, /Revoke/);
    // Without the session cookie (a cross-site post that carries none) the revoke is refused too.
    const bare = await httpClient().request(new URL(revoke.action, page.url), { form: revoke.hidden });
    assert.equal(bare.status, 401);
    assert.equal(await activeGrants(writ, seeded.org.id), grants);
    // With the right token it works: the refusals above were about the token.
    assert.equal((await browser.request(new URL(revoke.action, page.url), { form: revoke.hidden })).status, 303);
    assert.equal(await activeGrants(writ, seeded.org.id), grants - 1);
  });
});

test('redirects: an unregistered redirect_uri is never redirected to, and next= stays on this site', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const { writ, seeded } = s;
  const config = await agentClient(writ, seeded.agent);
  const challenge = await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier());
  const variants = [
    'https://evil.example/callback',
    `${seeded.redirect_uri}/../evil`,
    `${seeded.redirect_uri}.evil.example`,
    `${seeded.redirect_uri}?next=https://evil.example`,
    seeded.redirect_uri.replace('http://', 'https://'),
    seeded.redirect_uri.replace('127.0.0.1', 'localhost'),
    `${seeded.redirect_uri}#frag`,
    'javascript:alert(1)',
  ];
  for (const redirect_uri of variants) {
    await t.test(redirect_uri, async () => {
      const url = oauth.buildAuthorizationUrl(config, { redirect_uri, code_challenge: challenge, code_challenge_method: 'S256', authorization_details: JSON.stringify(GRANTED) });
      const res = await httpClient().request(url);
      assert.equal(res.status, 400, `${res.status} ${res.location ?? ''}`);
      assert.equal(res.location, undefined, 'no redirect at all');
      assert.match(res.text, /redirect_uri/);
    });
  }

  for (const next of ['//evil.example', '//evil.example/account', 'https://evil.example', '/\\evil.example', '\\\\evil.example', 'javascript:alert(1)', '/%2F%2Fevil.example']) {
    await t.test(`next=${next}`, async () => {
      const { posted } = await accountSignIn(writ, seeded, httpClient(), next);
      assert.equal(posted.status, 303);
      const location = new URL(posted.location!);
      assert.equal(location.origin, new URL(writ.issuer).origin, `stayed on Writ: ${posted.location}`);
      assert.ok(!location.pathname.startsWith('//'));
    });
  }
  await t.test('a local next is honoured', async () => {
    const { posted } = await accountSignIn(writ, seeded, httpClient(), '/account?tab=agents');
    assert.equal(new URL(posted.location!).pathname, '/account');
  });
});

test('clickjacking: every page and API answer forbids framing', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const { writ, seeded } = s;
  const browser = httpClient();
  const config = await agentClient(writ, seeded.agent);
  const url = oauth.buildAuthorizationUrl(config, { redirect_uri: seeded.redirect_uri, code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()), code_challenge_method: 'S256', authorization_details: JSON.stringify(GRANTED) });
  const signInPage = await browser.follow(url);
  const form = parseForm(signInPage.text);
  const afterLogin = await browser.request(new URL(form.action, signInPage.url), { form: { ...form.hidden, username: seeded.user.username, password: seeded.user.password } });
  const consentPage = await browser.follow(afterLogin.location!);
  assert.match(consentPage.text, /Allow|allow/);
  const { browser: signedIn } = await accountSignIn(writ, seeded);

  const responses = [
    ['authorization sign-in page', signInPage],
    ['consent page', consentPage],
    ['account page', await signedIn.request(`${writ.issuer}/account`)],
    ['account sign-in page', await httpClient().request(`${writ.issuer}/account?org=${seeded.org.id}`)],
    ['authorize error page', await httpClient().request(`${writ.issuer}/authorize?client_id=nope`)],
    ['unknown interaction', await httpClient().request(`${writ.issuer}/interaction/nope`)],
    ['discovery', await httpClient().request(`${writ.issuer}/.well-known/oauth-authorization-server`)],
    ['jwks', await httpClient().request(`${writ.issuer}/jwks`)],
    ['token error', await httpClient().request(`${writ.issuer}/token`, { form: { grant_type: 'nope' } })],
    ['admin 401', await httpClient().request(`${writ.issuer}/admin/v1/orgs`)],
    ['not found', await httpClient().request(`${writ.issuer}/nowhere`)],
    ['revocation feed', await httpClient().request(`${writ.issuer}/v1/revocations`)],
  ] as const;
  for (const [name, res] of responses) {
    await t.test(name, () => {
      assert.equal(res.headers.get('x-frame-options'), 'DENY', `${name} (${res.status})`);
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, name);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    });
  }
});

test('sign-in guessing is slowed, then locked, and the lock holds even for the right password', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const { writ, seeded } = s;
  const guess = async (password: string) => {
    const browser = httpClient();
    const page = await browser.request(`${writ.issuer}/account?org=${seeded.org.id}`);
    const form = parseForm(page.text, '/account/signin');
    return browser.request(new URL(form.action, page.url), { form: { ...form.hidden, username: seeded.user.username, password } });
  };
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await guess(`wrong-${i}`)).status);
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 429]);
  const right = await guess(seeded.user.password);
  assert.equal(right.status, 429, 'locked even with the right password');
  assert.equal(right.headers.getSetCookie().length, 0);
  const failed = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=signin.failed&limit=100`)).json.events;
  assert.equal(failed.length, 10);
  // From the 4th failure on each answer was deliberately delayed (100 ms steps, capped at 1 s):
  // the audit records the running count that drives it.
  assert.deepEqual(failed.map((e: any) => e.details.failures).sort((a: number, b: number) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal((await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=signin.locked`)).json.events.length, 1);
  // Another user of the same org is not locked out by the attack on this one.
  const other = (await writ.admin('POST', `/orgs/${seeded.org.id}/users`, { username: 'mary', password: 'another good passphrase' })).json;
  assert.ok(other.id);
  const { posted } = await accountSignIn(writ, { ...seeded, user: { ...other, username: 'mary', password: 'another good passphrase' } });
  assert.equal(posted.status, 303);
});

// ---- Constant-time comparisons ------------------------------------------------------------------

const SECRETISH = /(secret|csrf|password|passwd|digest|signature|hmac|\bmac\b|admintoken|admin_token|api_key|apikey|bearer)/i;
// Comparisons that the grep finds and a reviewer judged safe, with the reason. Keep it short.
const REVIEWED: Array<[RegExp, string]> = [
  [/token_endpoint_auth_method/, 'compares a configuration enum, not a secret'],
  [/private_key_jwt/, 'compares a configuration enum, not a secret'],
];

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

test('secret comparisons in src/ go through the constant-time helper: no === or !== on a secret-looking operand', () => {
  const root = join(import.meta.dirname, '../..');
  const offenders: string[] = [];
  const comparison = /([\w$.[\]'"?!()]+)\s*(===|!==|==|!=)\s*([\w$.[\]'"?!()]+)/g;
  for (const file of sourceFiles(join(root, 'src'))) {
    if (file.includes(`${join('src', 'demo', 'provider')}`)) continue; // a test double of a provider, not Writ
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line)) return;
      for (const m of line.matchAll(comparison)) {
        const operands = [m[1]!, m[3]!].map((o) => o.replace(/^[(!]+/, '').replace(/[()?!]+$/, ''));
        if (!operands.some((o) => SECRETISH.test(o))) continue;
        // Shapes and types are public: lengths, typeof, undefined/null, string literals.
        if (operands.some((o) => /^(undefined|null|true|false|\d+|'[^']*'|"[^"]*")$/.test(o) || /\.length$|^typeof$/.test(o))) continue;
        if (REVIEWED.some(([re]) => re.test(line))) continue;
        offenders.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(offenders, [], 'use safeEqual from src/core/secrets.ts');
});

test('the constant-time helper is what guards the admin token, CSRF tokens and sessions', () => {
  const root = join(import.meta.dirname, '../..');
  for (const file of ['src/admin/routes.ts', 'src/web/session.ts']) {
    assert.match(readFileSync(join(root, file), 'utf8'), /safeEqual\(/, file);
  }
});

