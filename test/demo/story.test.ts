import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

test('npm run demo -- --auto tells the whole story, one line per step, and leaks no secret', async () => {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'demo', '--auto'], {
    env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, out);
  for (let step = 1; step <= 9; step++) assert.match(out, new RegExp(`^${step}\\. `, 'm'), `step ${step} is printed`);
  assert.match(out, /"owner": "john"/, 'the provider stored the note as John');
  assert.match(out, /#\d+ tool\.executed +by agent agt_/);
  assert.match(out, /chain verified: true/);
  assert.doesNotMatch(out, /"access_token"|refresh_token|client_secret/, 'no token or secret is printed');
  assert.doesNotMatch(out, /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{20,}/, 'no signed token is printed whole');
});

test('Ctrl-C while the demo waits for a person removes its data dir and the secrets in it', async () => {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'demo'], {
    env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiting = new Promise<void>((resolve) => {
    const onData = (d: Buffer) => { out += d; if (/^4\. Open this link/m.test(out)) resolve(); };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waiting;
  const dataDir = /generated development secrets in (\S+?)\)/.exec(out)?.[1];
  assert.ok(dataDir && existsSync(join(dataDir, 'admin-token')) && existsSync(join(dataDir, 'master-key')), `the demo wrote its secrets:\n${out}`);
  child.kill('SIGINT');
  assert.equal(await exited, 130, 'it ends as interrupted');
  assert.equal(existsSync(dataDir), false, `${dataDir} is gone`);
});
