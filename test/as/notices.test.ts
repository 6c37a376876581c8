// oidc-provider prints a NOTICE or WARNING for every configuration hook left at its default the
// first time the default runs (revocation's allowedPolicy, the logout pages, …) and for unsafe
// set-ups. Writ configures each one it uses: `writ serve`, taken through a delegation, a refresh
// token revocation, the logout page and a dynamic registration, prints none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as oauth from 'openid-client';
import { remoteWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';

// The one notice that depends on the Node release running the test, not on Writ's configuration.
const RUNTIME_WARNING = /oidc-provider WARNING: Unsupported runtime/;

test('writ serve prints no oidc-provider notice or warning, at start-up or on use', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-notices-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const adminToken = `notices-admin-${randomBytes(24).toString('base64url')}`;
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'serve'], {
    // The demo connector is in the catalog (nothing listens there), so the seeded agent's tools exist.
    env: { PATH: process.env.PATH, WRIT_DATA_DIR: dataDir, PORT: '0', WRIT_ADMIN_TOKEN: adminToken, WRIT_MASTER_KEY: `v1:${randomBytes(32).toString('base64url')}`, WRIT_DEMO_PROVIDER_URL: 'http://127.0.0.1:9' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.after(async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } });

  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 20 s:\n${output}`)), 20_000);
    const look = () => {
      const m = /listening at (http:\/\/\S+)/.exec(output);
      if (m) { clearTimeout(timer); resolve(m[1]!); } else setTimeout(look, 50);
    };
    look();
  });
  assert.equal((await fetch(`${issuer}/healthz`)).status, 200);

  // Use the hooks whose defaults print at run time.
  const writ = remoteWrit(issuer, adminToken);
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  assert.ok(run.tokens?.refresh_token, JSON.stringify(run.last.text.slice(0, 300)));
  await oauth.tokenRevocation(run.config, run.tokens.refresh_token, { token_type_hint: 'refresh_token' });
  const logout = await run.browser.request(`${issuer}/session/end`);
  assert.equal(logout.status, 200);
  assert.match(logout.text, /Sign out of Writ/);

  // Dynamic registration (RFC 7591) reads its own body: nothing upstream parses it first. The
  // resource's `tool:` scope the client asks for is left out of what it registers.
  const registered = await fetch(`${issuer}/reg`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:8976/callback'], token_endpoint_auth_method: 'none', scope: 'tool:demo.notes.create' }),
  });
  const registration = await registered.json() as { client_id?: string; scope?: string };
  assert.equal(registered.status, 201, JSON.stringify(registration));
  assert.ok(registration.client_id);
  assert.ok(!String(registration.scope ?? '').includes('tool:'), JSON.stringify(registration));

  // The first second of life after all that, for anything printed late.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const notices = output.split('\n').filter((line) => /oidc-provider (NOTICE|WARNING)/.test(line) && !RUNTIME_WARNING.test(line));
  assert.deepEqual(notices, [], output);
});
